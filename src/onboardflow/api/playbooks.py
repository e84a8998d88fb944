"""Launch playbooks through the API (docs/playbooks.md): list and read them; attach one to a journey
version; its status (checklist on evidence, checkpoints from launch, the role's KPIs); hold a checkpoint,
close a manual item, rehearse the escalation path, hold the retrospective. Acting as the key's user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from onboardflow.api.dependencies import ClockDep, StoreDep, keyed_router, require_read
from onboardflow.api.event_schemas import EventCreate
from onboardflow.api.params import JourneyIdPath, VersionPath
from onboardflow.api.problems import Problem
from onboardflow.api.review import REFUSALS, WriteKey, _act, acting_user
from onboardflow.engine.ingest import EventError, parse_event
from onboardflow.playbooks import service
from onboardflow.playbooks.loading import PlaybookInvalid, playbooks

router = keyed_router("/v1", "playbooks")
ON_VERSION = "/journeys/{journey_id}/versions/{version}/playbook"
T = "2026-03-02T09:00:00Z"
PlaybookIdPath = Annotated[str, Path(description="The playbook's id, as GET /v1/playbooks lists them")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(Strict):
    kind: str = Field(description="process_improvement, assumption_correction or measurement_refinement")
    text: str = Field(min_length=1, max_length=10_000)


class AttachRequest(Strict):
    playbook: str = Field(description="The playbook's id")
    post_launch_owner: str = Field(description="The user who follows up after launch")


class CheckpointRequest(Strict):
    findings: list[Finding] = Field(default_factory=list, max_length=200)
    decisions: list[str] = Field(default_factory=list, max_length=200)


class CloseRequest(Strict):
    note: str = Field(min_length=1, max_length=10_000, description="What closed the item")


class RehearsalRequest(Strict):
    events: list[EventCreate] = Field(min_length=1, max_length=1000, description="The scenario")


class RetrospectiveRequest(Strict):
    findings: list[Finding] = Field(default_factory=list, max_length=200)


class PlaybookList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"playbooks": [
        {"id": "revops-onboarding-optimisation", "name": "RevOps × onboarding optimisation", "role": "revops",
         "objective": "onboarding_optimisation"}]}]})
    playbooks: list[dict[str, str]]


class PlaybookRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"playbook": {
        "id": "agency-stakeholder-alignment", "role": "agency", "objective": "stakeholder_alignment",
        "checklist": [{"id": "objective", "stage": "define-outcome", "evidence": "objective_and_approver"}],
        "cadence": [{"id": "week-1", "kind": "weekly_review", "after": "7d"}], "kpis": ["approval_turnaround"]}}]})
    playbook: dict[str, Any]


class AttachmentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "journey_id": "first-purchase-welcome", "version": 3, "playbook": "customer-success-onboarding-optimisation",
        "post_launch_owner": "bo@shop.example", "attached_by": "ana@shop.example", "attached_at": T,
        "comments": {"messaging_alignment_decision": "cm_3f2a"}}]})
    journey_id: str
    version: int
    playbook: str
    post_launch_owner: str
    attached_by: str
    attached_at: str
    comments: dict[str, str]


class StatusRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "playbook": "customer-success-onboarding-optimisation",
        "checklist": [{"item": "escalation-rehearsed", "text": "The escalation path was rehearsed.",
                       "evidence": "escalation_rehearsed", "pre_launch": True, "closed": False,
                       "why": "rehearse it: `onboardflow playbook rehearse` a scenario that opens a task"}],
        "checkpoints": [{"checkpoint": "week-1", "kind": "weekly_review", "due_at": T, "overdue_at": T,
                         "state": "overdue"}],
        "kpis": [{"kpi": "escalation_frequency", "name": "Support escalation frequency", "value": 4.2,
                  "unit": "tasks per 100 customers", "sample": 240, "detail": "delivery late 4.2"}]}]})
    playbook: str
    checklist: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]
    kpis: list[dict[str, Any]]


class RecordRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "pr_1a2b", "journey_id": "first-purchase-welcome", "version": 3, "kind": "checkpoint",
        "ref": "week-1", "at": T, "by": "bo@shop.example",
        "detail": {"findings": [["process_improvement", "support joins week one"]], "kpis": {}}}]})
    id: str
    journey_id: str
    version: int
    kind: str
    ref: str
    at: str
    by: str
    detail: dict[str, Any]


class RetrospectiveRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "findings": {"process_improvement": ["support joins week one"], "assumption_correction": [],
                     "measurement_refinement": []},
        "readiness": ["The process change is written into the playbook or the journey: support joins week one"],
        "markdown": "# Retrospective: first-purchase-welcome v3\n"}]})
    findings: dict[str, list[str]]
    readiness: list[str]
    markdown: str


def _record(record) -> RecordRead:
    return RecordRead(id=record.id, journey_id=record.journey_id, version=record.version, kind=record.kind,
                      ref=record.ref, at=record.at.isoformat(), by=record.by, detail=record.detail)


@router.get("/playbooks", dependencies=[Depends(require_read)], responses=REFUSALS)
def list_playbooks() -> PlaybookList:
    """The playbooks: one per role and objective."""
    return PlaybookList(playbooks=[{"id": p.id, "name": p.name, "role": p.role, "objective": p.objective}
                                   for p in playbooks().values()])


@router.get("/playbooks/{playbook_id}", dependencies=[Depends(require_read)], responses=REFUSALS)
def get_playbook(playbook_id: PlaybookIdPath) -> PlaybookRead:
    """One playbook whole: stages, checklist with its evidence kinds, cadence, risk presets, KPIs."""
    try:
        return PlaybookRead(playbook=_act(service.find_playbook, playbook_id).model_dump(mode="json"))
    except PlaybookInvalid as invalid:  # pragma: no cover - the shipped files are tested
        raise Problem(500, "Playbook file invalid", str(invalid)) from None


@router.post(ON_VERSION, status_code=201, responses=REFUSALS)
def attach(journey_id: JourneyIdPath, version: VersionPath, body: AttachRequest, key: WriteKey,
           store: StoreDep, clock: ClockDep) -> AttachmentRead:
    """Attach a playbook before the version goes live: its pre-launch items join the approval gate, its risk
    presets the register (for owners to accept, assign or drop), its questions the review."""
    done = _act(service.attach, store=store, journey_id=journey_id, version=version, playbook_id=body.playbook,
                post_launch_owner=body.post_launch_owner, actor=acting_user(store, key), now=clock.now())
    return AttachmentRead(journey_id=done.journey_id, version=done.version, playbook=done.playbook_id,
                          post_launch_owner=done.post_launch_owner, attached_by=done.attached_by,
                          attached_at=done.attached_at.isoformat(), comments=done.comments)


@router.get(ON_VERSION, dependencies=[Depends(require_read)], responses=REFUSALS)
def status(journey_id: JourneyIdPath, version: VersionPath, store: StoreDep, clock: ClockDep) -> StatusRead:
    """The checklist (each item closed on evidence, or open and what closes it), the checkpoints dated from
    the launch (overdue flagged), and the role's KPIs."""
    now = clock.now()
    found = _act(service.checklist_of, store, journey_id, version, now=now)
    if found is None:
        raise Problem(404, "No playbook", f"{journey_id} v{version} has no playbook: POST one to {ON_VERSION}")
    dated = _act(service.checkpoints, store, journey_id, version, now=now)
    readings = _act(service.kpi_readings, store, journey_id, version, now=now)
    return StatusRead(**service.status_document(found[0], found[1], dated, readings))


@router.post(ON_VERSION + "/checkpoints/{checkpoint_id}", status_code=201, responses=REFUSALS)
def hold_checkpoint(journey_id: JourneyIdPath, version: VersionPath, checkpoint_id: str,
                    body: CheckpointRequest, key: WriteKey, store: StoreDep, clock: ClockDep) -> RecordRead:
    """Hold a checkpoint: its findings and decisions, with the KPI readings of the day."""
    return _record(_act(service.record_checkpoint, store=store, journey_id=journey_id, version=version,
                        checkpoint_id=checkpoint_id, actor=acting_user(store, key), now=clock.now(),
                        findings=[(f.kind, f.text) for f in body.findings], decisions=body.decisions))


@router.post(ON_VERSION + "/items/{item_id}/close", status_code=201, responses=REFUSALS)
def close_item(journey_id: JourneyIdPath, version: VersionPath, item_id: str, body: CloseRequest,
               key: WriteKey, store: StoreDep, clock: ClockDep) -> RecordRead:
    """Close a checklist item that only a person can close, with a note."""
    return _record(_act(service.close_item, store=store, journey_id=journey_id, version=version,
                        item_id=item_id, note=body.note, actor=acting_user(store, key), now=clock.now()))


@router.post(ON_VERSION + "/rehearsals", status_code=201, responses=REFUSALS)
async def rehearse(journey_id: JourneyIdPath, version: VersionPath, body: RehearsalRequest, key: WriteKey,
                   store: StoreDep, clock: ClockDep) -> RecordRead:
    """Rehearse the escalation path: the scenario replayed through this exact version, each task it opens
    resolved by the key's user; kept as the checklist's evidence."""
    try:
        events = [parse_event(event.model_dump(mode="json", exclude_none=True)) for event in body.events]
    except EventError as error:
        raise Problem(422, "Invalid event", str(error), problems=[str(error)]) from None
    user = acting_user(store, key)
    return _record(await run_in_threadpool(_act, service.rehearse_version, store=store, journey_id=journey_id,
                                           version=version, events=events, actor=user, now=clock.now()))


@router.post(ON_VERSION + "/retrospective", status_code=201, responses=REFUSALS)
def retrospective(journey_id: JourneyIdPath, version: VersionPath, body: RetrospectiveRequest, key: WriteKey,
                  store: StoreDep, clock: ClockDep) -> RetrospectiveRead:
    """Hold the retrospective: findings sorted, the summary, the next cycle's readiness checklist."""
    retro = _act(service.hold_retrospective, store=store, journey_id=journey_id, version=version,
                 actor=acting_user(store, key), now=clock.now(), findings=[(f.kind, f.text) for f in body.findings])
    return RetrospectiveRead(findings={k: list(v) for k, v in retro.findings.items()},
                             readiness=list(retro.readiness), markdown=retro.markdown())

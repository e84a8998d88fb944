"""The Playbooks pages (docs/playbooks.md): the shipped playbooks and the journeys that run one; a journey
version's playbook: attach one, its checklist closed on evidence (or open, and what closes it), checkpoints
from launch (overdue flagged) held with findings, the role's KPIs, the escalation rehearsal, manual items
closed with a note, and the retrospective. Every action goes through `playbooks.service`, as the API's and
the CLI's do; a refusal is shown on the page with every reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from onboardflow.api.dependencies import ClockDep, StoreDep
from onboardflow.api.problems import Problem
from onboardflow.engine.ingest import LineError, read_events
from onboardflow.governance.service import Invalid, ReviewError
from onboardflow.playbooks import service
from onboardflow.playbooks.catalogue import KPIS
from onboardflow.playbooks.loading import playbooks, risk_presets
from onboardflow.playbooks.model import EVIDENCE, FINDING_KINDS
from onboardflow.web.auth import Viewer, web_router
from onboardflow.web.rendering import go_to, page

router = web_router()
Text = Annotated[str, Form()]


@router.get("/playbooks")
def playbook_index(request: Request, store: StoreDep, clock: ClockDep, viewer: Viewer) -> Response:
    """The playbooks, and every journey version running one with how far its checklist has got."""
    now, running = clock.now(), []
    for attachment in store.attachments():
        found = service.checklist_of(store, attachment.journey_id, attachment.version, now=now)
        items = found[1] if found else []
        dated = service.checkpoints(store, attachment.journey_id, attachment.version, now=now)
        running.append((attachment, sum(i.closed for i in items), len(items),
                        sum(c.state == "overdue" for c in dated)))
    return page(request, "playbooks.html", {"playbooks": list(playbooks().values()), "running": running})


@router.get("/playbooks/{playbook_id}")
def playbook_detail(request: Request, playbook_id: str, viewer: Viewer) -> Response:
    try:
        playbook = service.find_playbook(playbook_id)
    except ReviewError as missing:
        raise Problem(404, "Playbook not found", missing.problems[0]) from None
    presets = risk_presets()
    return page(request, "playbook.html", {"playbook": playbook, "evidence": EVIDENCE, "kpis": KPIS,
                                           "presets": [presets[name] for name in playbook.risks]})


@router.get("/journeys/{journey_id}/playbook")
def journey_playbook(request: Request, journey_id: str, store: StoreDep, clock: ClockDep, viewer: Viewer,
                     version: int | None = None) -> Response:
    return _page(request, store, clock, journey_id, version)


def _page(request: Request, store, clock, journey_id: str, version: int | None, *,
          problems: list[str] | None = None, status: int = 200) -> Response:
    versions = store.versions(journey_id)
    if not versions:
        raise Problem(404, "Journey not found", f"no journey {journey_id!r}: make one from a template first")
    number = version or versions[-1].version
    now = clock.now()
    attachment = service.attachment_of(store, journey_id, number)
    context = {"journey_id": journey_id, "version": number, "versions": versions, "attachment": attachment,
               "problems": problems or [], "playbooks": list(playbooks().values()), "users": store.users(),
               "finding_kinds": FINDING_KINDS}
    if attachment is not None:
        records = [r for r in store.playbook_records_of(journey_id) if r.version == number]
        context.update({
            "items": service.checklist_of(store, journey_id, number, now=now)[1],
            "checkpoints": service.checkpoints(store, journey_id, number, now=now),
            "readings": service.kpi_readings(store, journey_id, number, now=now),
            "retrospective": next((r for r in reversed(records) if r.kind == "retrospective"), None),
            "rehearsals": [r for r in records if r.kind == "rehearsal"],
        })
    return page(request, "journey_playbook.html", context, status=status)


def _act(request: Request, store, clock, journey_id: str, version: int, action) -> Response:
    """Do `action`; then back to the page, or the page again with every reason it was refused."""
    try:
        action()
    except ReviewError as refused:
        return _page(request, store, clock, journey_id, version, problems=refused.problems, status=refused.status)
    return go_to(request, f"/journeys/{journey_id}/playbook?version={version}")


def _findings(kind: str, text: str) -> list[tuple[str, str]]:
    return [(kind, line.strip()) for line in text.splitlines() if line.strip()]


@router.post("/journeys/{journey_id}/playbook/{version}/attach")
def attach(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep, viewer: Viewer,
           playbook: Text, post_launch_owner: Text) -> Response:
    return _act(request, store, clock, journey_id, version, lambda: service.attach(
        store=store, journey_id=journey_id, version=version, playbook_id=playbook,
        post_launch_owner=post_launch_owner, actor=viewer, now=clock.now()))


@router.post("/journeys/{journey_id}/playbook/{version}/checkpoints/{checkpoint_id}")
def hold_checkpoint(request: Request, journey_id: str, version: int, checkpoint_id: str, store: StoreDep,
                    clock: ClockDep, viewer: Viewer, kind: Text = "process_improvement", findings: Text = "",
                    decisions: Text = "") -> Response:
    return _act(request, store, clock, journey_id, version, lambda: service.record_checkpoint(
        store=store, journey_id=journey_id, version=version, checkpoint_id=checkpoint_id, actor=viewer,
        now=clock.now(), findings=_findings(kind, findings),
        decisions=[line.strip() for line in decisions.splitlines() if line.strip()]))


@router.post("/journeys/{journey_id}/playbook/{version}/items/{item_id}/close")
def close_item(request: Request, journey_id: str, version: int, item_id: str, store: StoreDep,
               clock: ClockDep, viewer: Viewer, note: Text = "") -> Response:
    return _act(request, store, clock, journey_id, version, lambda: service.close_item(
        store=store, journey_id=journey_id, version=version, item_id=item_id, note=note, actor=viewer,
        now=clock.now()))


@router.post("/journeys/{journey_id}/playbook/{version}/rehearse")
def rehearse(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
             viewer: Viewer, scenario: Text = "") -> Response:
    def act() -> None:
        read = list(read_events(scenario.splitlines()))
        bad = [str(item) for item in read if isinstance(item, LineError)]
        if bad:
            raise Invalid([f"scenario {line}" for line in bad])
        service.rehearse_version(store=store, journey_id=journey_id, version=version, events=read, actor=viewer,
                                 now=clock.now())

    return _act(request, store, clock, journey_id, version, act)


@router.post("/journeys/{journey_id}/playbook/{version}/retrospective")
def retrospective(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
                  viewer: Viewer, kind: Text = "process_improvement", findings: Text = "") -> Response:
    return _act(request, store, clock, journey_id, version, lambda: service.hold_retrospective(
        store=store, journey_id=journey_id, version=version, actor=viewer, now=clock.now(),
        findings=_findings(kind, findings)))

"""Running a playbook on a journey version: attach it (its risk presets into the register, its questions
into the review), check its checklist on evidence, date its checkpoints from the launch and record them
with the KPI readings of the day, rehearse the escalation path, and hold the retrospective.

Keyword-only functions over a store, as the governance service's; the CLI and the API are thin over them.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from onboardflow.core.model import Event
from onboardflow.core.review import (
    RISK_DUE,
    AuditEntry,
    Comment,
    PlaybookAttachment,
    PlaybookRecord,
    ReviewChanges,
    Risk,
)
from onboardflow.engine.live import stored_journey
from onboardflow.governance.service import Invalid, NotFound, ReviewError, review_of, stored_version
from onboardflow.playbooks.cadence import CheckpointRecord, DatedCheckpoint, calendar
from onboardflow.playbooks.evidence import ItemStatus, Trail, checklist
from onboardflow.playbooks.kpis import Reading, ReviewFacts, Since, VersionReviewFacts, read_kpis
from onboardflow.playbooks.loading import PlaybookInvalid, playbooks, risk_presets
from onboardflow.playbooks.model import FINDING_KINDS, Playbook
from onboardflow.playbooks.retrospective import Retrospective, retrospective
from onboardflow.ports import Store, User

ATTACHABLE = ("draft", "in_review", "approved")
QUESTIONS = {  # evidence closed by a decision: the question the playbook opens in the review for it
    "messaging_alignment_decision": "Playbook check: is the journey's messaging aligned with go-to-market "
    "(offers, claims, tone, set-up instructions)? Decide it: accepted once aligned.",
}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def find_playbook(playbook_id: str, folder: Path | None = None) -> Playbook:
    try:
        found = playbooks(folder)
    except PlaybookInvalid as invalid:
        raise Invalid([str(problem) for problem in invalid.problems]) from None
    if playbook_id not in found:
        raise NotFound(f"no playbook {playbook_id!r}; the playbooks are {', '.join(sorted(found))}")
    return found[playbook_id]


def attach(*, store: Store, journey_id: str, version: int, playbook_id: str, post_launch_owner: str,
           actor: User, now: datetime, folder: Path | None = None) -> PlaybookAttachment:
    """Attach a playbook to a version not yet live: its pre-launch items join the approval gate, its risk
    presets the register (no owner yet: the owner accepts, assigns or drops each), its questions the review."""
    review = review_of(store, journey_id, version)
    problems = []
    if review.status not in ATTACHABLE:
        problems.append(f"{review.subject} is {review.status.replace('_', ' ')}: attach a playbook to a version "
                        "before it goes live (a draft, in review or approved)")
    if not (actor.has_role("owner") or actor.has_role("author")):
        problems.append(f"{actor.email} is neither an author nor an owner: they attach playbooks")
    if store.user(post_launch_owner) is None:
        problems.append(f"the post-launch owner {post_launch_owner!r} is not a user: `onboardflow user add`")
    if any(a.journey_id == journey_id and a.version == version for a in store.attachments()):
        problems.append(f"{review.subject} has a playbook already: one playbook runs a launch")
    if problems:
        raise ReviewError(problems)
    playbook = find_playbook(playbook_id, folder)
    presets = risk_presets()
    risks = [Risk(_id("risk"), journey_id, version, presets[name].risk, presets[name].impact, actor.email, now,
                  now + RISK_DUE, fallback=presets[name].fallback) for name in playbook.risks]
    comments = [Comment(_id("cm"), journey_id, version, "question", QUESTIONS[item.evidence], actor.email, now)
                for item in playbook.checklist if item.evidence in QUESTIONS]
    attachment = PlaybookAttachment(
        journey_id, version, playbook.id, playbook.model_dump(mode="json"), post_launch_owner.lower(),
        actor.email, now, {item.evidence: c.id for item, c in zip(
            [i for i in playbook.checklist if i.evidence in QUESTIONS], comments, strict=True)},
    )
    entry = AuditEntry(now, actor.email, "playbook-attached", journey_id, version,
                       {"playbook": playbook.id, "risks": [r.id for r in risks],
                        "comments": [c.id for c in comments], "post_launch_owner": attachment.post_launch_owner})
    store.record_review(ReviewChanges(comments=comments, risks=risks, audit=[entry], attachments=[attachment]))
    return attachment


def attachment_of(store: Store, journey_id: str, version: int) -> PlaybookAttachment | None:
    return next((a for a in store.attachments() if a.journey_id == journey_id and a.version == version), None)


def _attached(store: Store, journey_id: str, version: int) -> PlaybookAttachment:
    found = attachment_of(store, journey_id, version)
    if found is None:
        raise NotFound(f"{journey_id} v{version} has no playbook: `onboardflow playbook attach` one")
    return found


def trail_of(store: Store, attachment: PlaybookAttachment, *, now: datetime,
             simulation: dict[str, Any] | None = None) -> Trail:
    journey_id, version = attachment.journey_id, attachment.version
    journey = stored_journey(stored_version(store, journey_id, version)).journey
    owner = store.user(journey.owner)
    submitted: dict[int, datetime] = {}
    for entry in store.audit_trail(journey_id):
        if entry.action == "submit" and entry.version is not None:
            submitted.setdefault(entry.version, entry.at)
    return Trail(
        journey, version, review_of(store, journey_id, version), attachment,
        store.comments(journey_id), store.decisions(journey_id), store.risks(journey_id),
        store.playbook_records_of(journey_id), owner is not None and owner.has_role("owner"), submitted,
        _siblings(store, attachment.playbook_id), now, simulation,
    )


def _siblings(store: Store, playbook_id: str) -> dict[str, tuple[int | None, datetime | None]]:
    """The journeys under this playbook: the rank of their highest-impact open risk, their first review."""
    found = {}
    for other in store.attachments():
        if other.playbook_id != playbook_id or other.journey_id in found:
            continue
        risks = [r.rank for r in store.risks(other.journey_id) if r.is_open]
        activity = [c.created_at for c in store.comments(other.journey_id) if c.author != other.attached_by]
        activity += [d.created_at for d in store.decisions(other.journey_id)]
        found[other.journey_id] = (min(risks, default=None), min(activity, default=None))
    return found


def checklist_of(store: Store, journey_id: str, version: int, *, now: datetime,
                 simulation: dict[str, Any] | None = None) -> tuple[str, list[ItemStatus]] | None:
    """The attached playbook's id and its checklist, each item closed or open and why; None without one."""
    attachment = attachment_of(store, journey_id, version)
    if attachment is None:
        return None
    return attachment.playbook_id, checklist(trail_of(store, attachment, now=now, simulation=simulation))


def launched_at(store: Store, journey_id: str, version: int) -> datetime | None:
    return next((e.at for e in store.audit_trail(journey_id) if e.action == "launch" and e.version == version),
                None)


def checkpoints(store: Store, journey_id: str, version: int, *, now: datetime) -> list[DatedCheckpoint]:
    """The post-launch checkpoints dated from this version's launch (none before it goes live)."""
    attachment = _attached(store, journey_id, version)
    launch = launched_at(store, journey_id, version)
    if launch is None:
        return []
    playbook = Playbook.model_validate(attachment.playbook)
    records = [CheckpointRecord(r.ref, r.at, r.by) for r in store.playbook_records_of(journey_id)
               if r.version == version and r.kind == "checkpoint"]
    return calendar(playbook, launch, records, now=now)


def kpi_readings(store: Store, journey_id: str, version: int, *, now: datetime) -> list[Reading]:
    """The playbook's KPI set for this journey, from its launch (or its attachment, before) up to now."""
    from onboardflow.analytics.reading import UnknownJourney, read_outcomes, review_blockers, review_decisions
    from onboardflow.analytics.records import JourneyFacts, OutcomeData

    attachment = _attached(store, journey_id, version)
    facts = JourneyFacts.of(stored_journey(stored_version(store, journey_id, version)).journey)
    try:
        data = read_outcomes(store, as_of=now, journey_id=journey_id)
    except UnknownJourney:  # not live yet: no customers to read, only the review trail
        data = OutcomeData(now, {journey_id: facts}, [], decisions=review_decisions(store, [journey_id]),
                           blockers=review_blockers(store, [journey_id]))
    since = launched_at(store, journey_id, version) or attachment.attached_at
    return read_kpis(attachment.playbook["kpis"], Since(data, facts, since, review_facts(store, journey_id)))


def review_facts(store: Store, journey_id: str) -> ReviewFacts:
    """What the agency KPIs read of a journey's review trail, version by version."""
    trail = store.audit_trail(journey_id)
    change_requests = [c for c in store.comments(journey_id) if c.kind == "change_request"]
    versions = []
    for review in store.reviews(journey_id):
        submitted = next((e.at for e in trail if e.action == "submit" and e.version == review.version), None)
        launched = next((e.at for e in trail if e.action == "launch" and e.version == review.version), None)
        approval = review.approval or {}
        reopened = min((c.created_at for c in change_requests if launched and c.created_at > launched), default=None)
        versions.append(VersionReviewFacts(
            review.version, submitted, datetime.fromisoformat(approval["at"]) if approval.get("at") else None,
            launched, sum(c.version == review.version for c in change_requests), reopened,
            approval.get("confidence"),
        ))
    return ReviewFacts(tuple(versions))


def record_checkpoint(*, store: Store, journey_id: str, version: int, checkpoint_id: str, actor: User,
                      now: datetime, findings: list[tuple[str, str]] = (), decisions: list[str] = ()) -> PlaybookRecord:
    """Hold a checkpoint: its findings and decisions, and the KPI readings of the day, kept."""
    dated = {c.checkpoint_id: c for c in checkpoints(store, journey_id, version, now=now)}
    problems = []
    if not dated:
        problems.append(f"{journey_id} v{version} has not launched: its checkpoints are dated from the launch")
    elif checkpoint_id not in dated:
        problems.append(f"no checkpoint {checkpoint_id!r}; this playbook's are {', '.join(dated)}")
    elif dated[checkpoint_id].state == "done":
        problems.append(f"checkpoint {checkpoint_id} was held already")
    problems += _finding_problems(findings)
    if problems:
        raise ReviewError(problems)
    readings = {r.kpi: {"value": r.value, "unit": r.unit, "sample": r.sample, "detail": r.detail}
                for r in kpi_readings(store, journey_id, version, now=now)}
    record = PlaybookRecord(_id("pr"), journey_id, version, "checkpoint", checkpoint_id, now, actor.email,
                            {"findings": [list(f) for f in findings], "decisions": list(decisions),
                             "kpis": readings, "state_when_held": dated[checkpoint_id].state})
    return _write(store, record, "playbook-checkpoint")


def _finding_problems(findings) -> list[str]:
    return [f"a finding is one of {', '.join(FINDING_KINDS)}, not {kind!r}" for kind, _ in findings
            if kind not in FINDING_KINDS] + ["a finding needs its text" for _, text in findings if not text.strip()]


def close_item(*, store: Store, journey_id: str, version: int, item_id: str, note: str, actor: User,
               now: datetime) -> PlaybookRecord:
    """Close a checklist item that only a person can close (evidence `manual`), with a note."""
    attachment = _attached(store, journey_id, version)
    items = {item["id"]: item for item in attachment.playbook["checklist"]}
    if item_id not in items:
        raise ReviewError(f"no checklist item {item_id!r}; this playbook's are {', '.join(items)}")
    if items[item_id]["evidence"] != "manual":
        raise ReviewError(f"{item_id} closes on evidence onboardflow checks ({items[item_id]['evidence']}), "
                          "not by hand: `onboardflow playbook status` says what is missing")
    if not note.strip():
        raise ReviewError("say what closed it: --note is the evidence")
    record = PlaybookRecord(_id("pr"), journey_id, version, "item", item_id, now, actor.email, {"note": note})
    return _write(store, record, "playbook-item-closed")


def rehearse_version(*, store: Store, journey_id: str, version: int, events: list[Event], actor: User,
                     now: datetime) -> PlaybookRecord:
    """Replay a scenario through this exact version, resolve the tasks it opens as `actor`, keep the result."""
    from onboardflow.playbooks.rehearsal import rehearse

    _attached(store, journey_id, version)
    try:
        result = rehearse(stored_version(store, journey_id, version), events, resolver=actor.email)
    except ValueError as error:
        raise ReviewError(str(error)) from None
    record = PlaybookRecord(_id("pr"), journey_id, version, "rehearsal", "escalation", now, actor.email, result)
    return _write(store, record, "playbook-rehearsal")


def hold_retrospective(*, store: Store, journey_id: str, version: int, actor: User, now: datetime,
                       findings: list[tuple[str, str]] = ()) -> Retrospective:
    """The retrospective: the findings of every checkpoint and these, sorted; what was left open carried
    into the next cycle's readiness checklist; the summary kept (and published by the caller)."""
    if problems := _finding_problems(findings):
        raise ReviewError(problems)
    held = [r for r in store.playbook_records_of(journey_id) if r.version == version and r.kind == "checkpoint"]
    gathered = [tuple(f) for r in held for f in r.detail.get("findings", [])] + list(findings)
    left = [f"checkpoint {c.checkpoint_id} ({c.state})" for c in checkpoints(store, journey_id, version, now=now)
            if c.state in ("due", "overdue") and c.kind != "retrospective"]
    found = checklist_of(store, journey_id, version, now=now)
    left += [f"checklist item {i.item_id}: {i.text}" for i in (found[1] if found else []) if not i.closed]
    retro = retrospective(journey_id, version, gathered, left)
    record = PlaybookRecord(_id("pr"), journey_id, version, "retrospective", "retrospective", now, actor.email,
                            {"markdown": retro.markdown(), "readiness": list(retro.readiness)})
    _write(store, record, "playbook-retrospective")
    return retro


def _write(store: Store, record: PlaybookRecord, action: str) -> PlaybookRecord:
    entry = AuditEntry(record.at, record.by, action, record.journey_id, record.version,
                       {"record": record.id, "ref": record.ref})
    store.record_review(ReviewChanges(audit=[entry], playbook_records=[record]))
    return record


def status_document(playbook_id: str, items: list[ItemStatus], dated: list[DatedCheckpoint],
                    readings: list[Reading]) -> dict[str, Any]:
    """A version's playbook status as the API and `playbook status --json` give it."""
    return {
        "playbook": playbook_id,
        "checklist": [{"item": i.item_id, "text": i.text, "evidence": i.evidence, "pre_launch": i.pre_launch,
                       "closed": i.closed, "why": i.why} for i in items],
        "checkpoints": [{"checkpoint": c.checkpoint_id, "kind": c.kind, "due_at": c.due_at.isoformat(),
                         "overdue_at": c.overdue_at.isoformat(), "state": c.state} for c in dated],
        "kpis": [{"kpi": r.kpi, "name": r.name, "value": r.value, "unit": r.unit, "sample": r.sample,
                  "detail": r.detail} for r in readings],
    }

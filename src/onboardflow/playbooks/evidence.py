"""Checklist items closed on evidence onboardflow holds: each check reads the review trail, the approval's
simulation, rehearsals and users of one journey version, and says whether the item is closed and why.

Pure over a `Trail` (the records); `service.trail_of` reads one from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onboardflow.analytics.records import exception_steps
from onboardflow.core.journey import Journey
from onboardflow.core.review import Comment, Decision, PlaybookAttachment, PlaybookRecord, Risk, VersionReview
from onboardflow.playbooks.model import EVIDENCE

REVIEW_CYCLE = timedelta(days=7)  # a blocker left longer than this without a decision or owner was not escalated
CLOSED_BY_APPROVAL = ("owner_approval_with_criteria", "evidence_review")  # checked at launch, not at the gate


@dataclass(frozen=True, slots=True)
class Trail:
    """What the checks read of one journey version and the journeys beside it under the same playbook."""

    journey: Journey
    version: int
    review: VersionReview
    attachment: PlaybookAttachment
    comments: list[Comment]  # the journey's, every version
    decisions: list[Decision]
    risks: list[Risk]
    records: list[PlaybookRecord]  # the journey's playbook records, every version
    owner_is_user: bool
    submitted: dict[int, datetime] = field(default_factory=dict)  # version -> first submitted
    # journeys under the same playbook: id -> (highest open-risk rank, lower is riskier; first review activity)
    siblings: dict[str, tuple[int | None, datetime | None]] = field(default_factory=dict)
    now: datetime | None = None
    simulation: dict | None = None  # the simulation an approval being decided rests on, if any

    @property
    def evidence(self) -> dict | None:
        """The latest simulation of this version: the one being approved on, the approval's, or one recorded."""
        found = self.simulation or (self.review.approval or {}).get("simulation")
        if found is None:
            recorded = [r.detail for r in self.records if r.version == self.version and r.kind == "simulation"]
            found = recorded[-1] if recorded else None
        return found


@dataclass(frozen=True, slots=True)
class ItemStatus:
    item_id: str
    text: str
    evidence: str
    pre_launch: bool
    closed: bool
    why: str


def _objective(t: Trail) -> tuple[bool, str]:
    if t.journey.goal is None:
        return False, "the journey states no goal: add `goal:` with the one measurable outcome"
    if not t.owner_is_user:
        return False, f"the owner {t.journey.owner} is not a user with the owner role: `onboardflow user add`"
    return True, f"goal {t.journey.goal.event} within {t.journey.goal.within}; final approver {t.journey.owner}"


def _exception_paths(t: Trail) -> tuple[bool, str]:
    wanted = sorted(exception_steps(t.journey))
    simulation = t.evidence
    if simulation is None or simulation.get("digest") != t.review.digest:
        return False, "no simulation of this exact version yet (the approval runs one)"
    steps = simulation.get("counts", {}).get("steps", {})
    missed = [step for step in wanted if not steps.get(step)]
    if not wanted:
        return False, "the journey maps no exception path (no on_timeout, on_undeliverable, on_error or escalate)"
    if missed:
        return False, f"the simulation never reached {', '.join(missed)}"
    return True, f"the simulation reached every exception path: {', '.join(wanted)}"


def _riskiest_first(t: Trail) -> tuple[bool, str]:
    ranked = [(rank, journey) for journey, (rank, _) in t.siblings.items() if rank is not None]
    if not ranked:
        return False, "no open risk is ranked on the journeys under this playbook yet"
    riskiest = min(ranked)[1]
    started = {journey: first for journey, (_, first) in t.siblings.items() if first is not None}
    if riskiest not in started:
        return False, f"{riskiest} carries the highest-impact risk and has had no review yet"
    first = min(started.values())
    if started[riskiest] > first:
        earlier = min(started, key=started.get)
        return False, f"{earlier} was reviewed before {riskiest}, which carries the highest-impact risk"
    return True, f"{riskiest}, with the highest-impact risk, was reviewed first"


def _tradeoffs(t: Trail) -> tuple[bool, str]:
    changed = sorted(v for v in t.submitted if v != min(t.submitted))
    bare = [v for v in changed if not any(d.version == v for d in t.decisions)]
    if bare:
        return False, "versions " + ", ".join(f"v{v}" for v in bare) + " changed scope with no decision recorded"
    return True, f"{len(changed)} scope changes, each with a decision" if changed else "no scope change yet"


def _messaging_alignment(t: Trail) -> tuple[bool, str]:
    comment_id = t.attachment.comments.get("messaging_alignment_decision")
    decision = next((d for d in t.decisions if d.comment_id == comment_id), None)
    if decision is None:
        return False, f"decide the playbook's question {comment_id} (go-to-market alignment) with a decision"
    if decision.outcome != "accepted":
        return False, f"the messaging alignment decision {decision.id} is {decision.outcome}, not accepted"
    return True, f"decision {decision.id} by {decision.owner}: {decision.rationale}"


def _owner_approval(t: Trail) -> tuple[bool, str]:
    approval = t.review.approval or {}
    simulation = approval.get("simulation") or {}
    criteria = simulation.get("acceptance") or []
    if approval.get("digest") != t.review.digest:
        return False, "not approved by the owner on this exact content yet"
    if not criteria:
        return False, "the approval rests on no acceptance criterion"
    return True, f"approved by {approval['by']} with {len(criteria)} acceptance criteria passing"


def _blockers(t: Trail) -> tuple[bool, str]:
    now = t.now or t.review.updated_at
    stale = [c.id for c in t.comments if c.version == t.version and c.is_blocking
             and now - c.created_at > REVIEW_CYCLE]
    stale += [r.id for r in t.risks if r.version == t.version and r.is_open and not r.owner
              and now - r.raised_at > REVIEW_CYCLE]
    if stale:
        return False, f"open past one review cycle (7 days) with no decision or owner: {', '.join(stale)}"
    return True, "every blocker was decided or owned within one review cycle"


def _evidence_review(t: Trail) -> tuple[bool, str]:
    simulation = (t.review.approval or {}).get("simulation") or {}
    if simulation.get("digest") != t.review.digest or "seed" not in simulation:
        return False, "no approval has recorded a simulation of this exact version"
    return True, f"simulation seed {simulation['seed']}, {simulation.get('customers')} customers, recorded"


def _rehearsed(t: Trail) -> tuple[bool, str]:
    done = [r for r in t.records if r.version == t.version and r.kind == "rehearsal"
            and r.detail.get("digest") == t.review.digest and r.detail.get("tasks_resolved", 0) > 0]
    if not done:
        return False, "rehearse it: `onboardflow playbook rehearse` a scenario that opens a task, and resolve it"
    last = done[-1]
    return True, f"{last.by} resolved {last.detail['tasks_resolved']} of {last.detail['tasks_opened']} tasks " \
                 f"in a replay of {last.detail['events']} events"


def _post_launch_owner(t: Trail) -> tuple[bool, str]:
    return True, f"{t.attachment.post_launch_owner} follows up after launch"


def _manual(item_id: str) -> Callable[[Trail], tuple[bool, str]]:
    def check(t: Trail) -> tuple[bool, str]:
        closed = [r for r in t.records if r.version == t.version and r.kind == "item" and r.ref == item_id]
        if not closed:
            return False, "close it by hand with a note: `onboardflow playbook close`"
        return True, f"closed by {closed[-1].by}: {closed[-1].detail.get('note', '')}"
    return check


CHECKS: dict[str, Callable[[Trail], tuple[bool, str]]] = {
    "objective_and_approver": _objective,
    "exception_paths_mapped": _exception_paths,
    "riskiest_reviewed_first": _riskiest_first,
    "tradeoffs_recorded": _tradeoffs,
    "messaging_alignment_decision": _messaging_alignment,
    "owner_approval_with_criteria": _owner_approval,
    "blockers_escalated": _blockers,
    "evidence_review": _evidence_review,
    "escalation_rehearsed": _rehearsed,
    "post_launch_owner": _post_launch_owner,
}
assert set(CHECKS) | {"manual"} == set(EVIDENCE)


def checklist(t: Trail) -> list[ItemStatus]:
    """Every checklist item of the attached playbook, closed or open, and why."""
    statuses = []
    for item in t.attachment.playbook["checklist"]:
        check = CHECKS.get(item["evidence"]) or _manual(item["id"])
        closed, why = check(t)
        statuses.append(ItemStatus(item["id"], item["text"], item["evidence"], item.get("pre_launch", True),
                                   closed, why))
    return statuses

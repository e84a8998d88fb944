"""The review of a journey version, as records: its status and approval, comments anchored to steps,
decisions, risks, and the audit trail. Pure: the rules over them are in `core.gate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

STATUSES = ("draft", "in_review", "approved", "live", "paused", "retired")
COMMENT_KINDS = ("note", "question", "change_request")
BLOCKING_KINDS = ("question", "change_request")
OUTCOMES = ("accepted", "rejected", "deferred")
IMPACTS = ("critical", "high", "medium", "low")  # ranked: critical first
RISK_STATUSES = ("open", "mitigated", "accepted", "closed")
RISK_DUE = timedelta(hours=48)  # a risk is due this long after it is raised, unless told otherwise


@dataclass(frozen=True, slots=True)
class VersionReview:
    """A journey version's place in its lifecycle. `approval` is the evidence the owner approved on (who,
    when, the content hash, the simulation's seed, counts and acceptance results); `rollout` the share of
    triggered customers let in while live, and the rule to step it up."""

    journey_id: str
    version: int
    digest: str
    status: str
    author: str
    created_at: datetime
    updated_at: datetime
    approval: dict[str, Any] | None = None
    rollout: dict[str, Any] | None = None
    previous_live: int | None = None  # the version live before this one was launched: the roll-back

    @property
    def subject(self) -> str:
        return f"{self.journey_id} v{self.version}"


@dataclass(frozen=True, slots=True)
class Comment:
    """A review comment on a version, on one step (`step_id`) or the whole journey (None)."""

    id: str
    journey_id: str
    version: int
    kind: str
    body: str
    author: str
    created_at: datetime
    step_id: str | None = None
    decision_id: str | None = None  # the decision that resolved it

    @property
    def is_open(self) -> bool:
        return self.decision_id is None

    @property
    def is_blocking(self) -> bool:
        """A question or change request not settled yet: it holds the approval back."""
        return self.kind in BLOCKING_KINDS and self.is_open


@dataclass(frozen=True, slots=True)
class Decision:
    """How a comment was settled: one owner, an outcome, why, and for a deferral when it is due."""

    id: str
    journey_id: str
    version: int
    comment_id: str
    owner: str
    outcome: str
    rationale: str
    decided_by: str
    created_at: datetime
    due: datetime | None = None

    def is_overdue(self, now: datetime) -> bool:
        return self.outcome == "deferred" and self.due is not None and self.due < now


@dataclass(frozen=True, slots=True)
class Risk:
    """A risk or blocker of a version: its customer impact, one owner, when it is due, the fallback."""

    id: str
    journey_id: str
    version: int
    risk: str
    impact: str
    raised_by: str
    raised_at: datetime
    due_at: datetime
    owner: str | None = None
    fallback: str | None = None
    status: str = "open"
    updated_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at < now

    @property
    def rank(self) -> int:
        return IMPACTS.index(self.impact)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the trail, never changed: who did what to which subject, when; `diff` is the unified
    diff between versions where a version's content changed. `seq` is given by the store."""

    at: datetime
    actor: str
    action: str
    journey_id: str
    version: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    diff: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class PlaybookAttachment:
    """A launch playbook attached to a journey version (docs/playbooks.md): the playbook as it was when
    attached (later edits of its file do not rewrite history), who follows up after launch, and the review
    comments it opened for the items a decision closes (checklist item id -> comment id)."""

    journey_id: str
    version: int
    playbook_id: str
    playbook: dict[str, Any]
    post_launch_owner: str
    attached_by: str
    attached_at: datetime
    comments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlaybookRecord:
    """Something a team did under a playbook: held a checkpoint (`ref` its id; findings, decisions and the KPI
    readings of that day in `detail`), closed a manual checklist item, or held the retrospective."""

    id: str
    journey_id: str
    version: int
    kind: str  # checkpoint | item | retrospective
    ref: str
    at: datetime
    by: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReviewChanges:
    """What one governance action writes, in one transaction: rows of the review and their audit lines."""

    reviews: list[VersionReview] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    attachments: list[PlaybookAttachment] = field(default_factory=list)
    playbook_records: list[PlaybookRecord] = field(default_factory=list)

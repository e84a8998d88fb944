"""The review routes' bodies and answers: drafts, comments, decisions, risks, approvals, launches and the
audit trail (read only: no route changes it)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onboardflow.core.review import AuditEntry, Comment, Decision, Risk, VersionReview

T = "2026-03-02T09:00:00Z"  # the examples' time


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommentCreate(Strict):
    kind: Literal["note", "question", "change_request"] = "note"
    body: str = Field(min_length=1, max_length=10_000)
    step_id: str | None = Field(default=None, description="The step it is about; none: the whole journey")


class DecisionCreate(Strict):
    comment_id: str
    outcome: Literal["accepted", "rejected", "deferred"]
    rationale: str = Field(min_length=1, max_length=10_000)
    owner: str | None = Field(default=None, description="Who owns the decision (default: the key's user)")
    due: datetime | None = Field(default=None, description="When a deferral is due")


class RiskCreate(Strict):
    risk: str = Field(min_length=1, max_length=10_000)
    impact: Literal["critical", "high", "medium", "low"] = "medium"
    owner: str | None = None
    fallback: str | None = Field(default=None, max_length=10_000)
    due_at: datetime | None = Field(default=None, description="Default: 48 hours after it is raised")


class RiskUpdate(Strict):
    impact: Literal["critical", "high", "medium", "low"] | None = None
    owner: str | None = None
    fallback: str | None = Field(default=None, max_length=10_000)
    due_at: datetime | None = None
    status: Literal["open", "mitigated", "accepted", "closed"] | None = None


class ApproveRequest(Strict):
    customers: int = Field(default=300, ge=1, le=20_000, description="Simulated customers")
    days: int = Field(default=30, ge=1, le=365)
    seed: int = 1
    confidence: int | None = Field(default=None, ge=1, le=5,
                                   description="The owner's confidence in the launch, 1 (low) to 5 (high)")


class StepUpRule(Strict):
    to: str | float = Field(description="The share to step up to, e.g. 50%")
    when: str = Field(
        description="A condition over entrants, active, completed, goal_reached, exited, "
        "goal_rate, share, hours_live"
    )


class LaunchRequest(Strict):
    share: str | float = Field(default="100%", description="The share of triggered customers let in")
    step_up: StepUpRule | None = None


class StepUpRequest(Strict):
    share: str | float


def _plain(record: Any) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in asdict(record).items()
    }


class ReviewRead(BaseModel):
    """A version's place in its lifecycle: status, author, approval (with its simulation), roll-out."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "journey_id": "first-purchase-welcome",
                    "version": 2,
                    "digest": "657d57a7ccdbf859",
                    "status": "live",
                    "author": "ana@shop.example",
                    "created_at": T,
                    "updated_at": T,
                    "approval": {
                        "by": "cs-lead@shop.example",
                        "at": T,
                        "digest": "657d57a7ccdbf859",
                        "simulation": {"seed": 1, "customers": 300, "days": 30, "passed": True},
                    },
                    "rollout": {
                        "percent": 10.0,
                        "step_up": {"to": 50.0, "when": "goal_rate >= 0.1 && entrants >= 200"},
                    },
                    "previous_live": 1,
                }
            ]
        }
    )

    journey_id: str
    version: int
    digest: str
    status: str
    author: str
    created_at: datetime
    updated_at: datetime
    approval: dict[str, Any] | None = None
    rollout: dict[str, Any] | None = None
    previous_live: int | None = None

    @classmethod
    def of(cls, review: VersionReview) -> ReviewRead:
        return cls(**asdict(review))


class CommentRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "cmt_1a2b3c4d5e",
                    "journey_id": "first-purchase-welcome",
                    "version": 2,
                    "kind": "question",
                    "body": "why email first?",
                    "author": "cs-lead@shop.example",
                    "created_at": T,
                    "step_id": "welcome",
                    "decision_id": None,
                    "blocking": True,
                }
            ]
        }
    )
    id: str
    journey_id: str
    version: int
    kind: str
    body: str
    author: str
    created_at: datetime
    step_id: str | None
    decision_id: str | None
    blocking: bool

    @classmethod
    def of(cls, comment: Comment) -> CommentRead:
        return cls(**asdict(comment), blocking=comment.is_blocking)


class DecisionRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "dec_1a2b3c4d5e",
                    "journey_id": "first-purchase-welcome",
                    "version": 2,
                    "comment_id": "cmt_1a2b3c4d5e",
                    "owner": "cs-lead@shop.example",
                    "outcome": "deferred",
                    "rationale": "after the spring sale",
                    "decided_by": "cs-lead@shop.example",
                    "created_at": T,
                    "due": "2026-04-01T00:00:00Z",
                }
            ]
        }
    )
    id: str
    journey_id: str
    version: int
    comment_id: str
    owner: str
    outcome: str
    rationale: str
    decided_by: str
    created_at: datetime
    due: datetime | None

    @classmethod
    def of(cls, decision: Decision) -> DecisionRead:
        return cls(**asdict(decision))


class RiskRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "rsk_1a2b3c4d5e",
                    "journey_id": "first-purchase-welcome",
                    "version": 2,
                    "risk": "late deliveries flood support",
                    "impact": "high",
                    "raised_by": "cs-lead@shop.example",
                    "raised_at": T,
                    "due_at": "2026-03-04T09:00:00Z",
                    "owner": "cs-lead@shop.example",
                    "fallback": "pause the journey",
                    "status": "open",
                    "updated_at": T,
                    "overdue": False,
                }
            ]
        }
    )
    id: str
    journey_id: str
    version: int
    risk: str
    impact: str
    raised_by: str
    raised_at: datetime
    due_at: datetime
    owner: str | None
    fallback: str | None
    status: str
    updated_at: datetime | None
    overdue: bool

    @classmethod
    def of(cls, risk: Risk, now: datetime) -> RiskRead:
        return cls(**asdict(risk), overdue=risk.is_overdue(now))


class JourneyReviewRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "journey_id": "first-purchase-welcome",
                    "versions": [],
                    "comments": [],
                    "decisions": [],
                    "risks": [],
                }
            ]
        }
    )

    """Everything under review for one journey: each version's review, the comments, the decision log,
    the risk register."""

    journey_id: str
    versions: list[ReviewRead]
    comments: list[CommentRead]
    decisions: list[DecisionRead]
    risks: list[RiskRead]


class AuditRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seq": 7,
                    "at": T,
                    "actor": "cs-lead@shop.example",
                    "action": "approve",
                    "journey_id": "first-purchase-welcome",
                    "version": 2,
                    "detail": {"from": "in_review", "to": "approved"},
                    "diff": None,
                }
            ]
        }
    )
    seq: int
    at: datetime
    actor: str
    action: str
    journey_id: str
    version: int | None
    detail: dict[str, Any]
    diff: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditRead:
        return cls(**asdict(entry))


class AuditList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": []}]})

    items: list[AuditRead]

"""What the journey routes take and give, with examples for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onboardflow.core.journey import StepId, step_kind
from onboardflow.core.validation import Problem
from onboardflow.engine.live import Publication, Resumption
from onboardflow.journeys import JourneyNumbers
from onboardflow.ports import JourneyState, StoredVersion

EXAMPLE_YAML = """\
id: vip-desk
name: VIP desk
owner: cs-lead@shop.example
trigger: {event: Order Completed, where: trigger.total >= 500}
steps:
  - id: thank-you
    send: {channel: email, template: welcome, purpose: transactional}
  - id: hand-off
    escalate: {queue: vip, reason: big first order, priority: high, due: 24h}
"""
EXAMPLE_JSON = {
    "id": "vip-desk", "name": "VIP desk", "owner": "cs-lead@shop.example",
    "trigger": {"event": "Order Completed", "where": "trigger.total >= 500"},
    "steps": [
        {"id": "thank-you", "send": {"channel": "email", "template": "welcome", "purpose": "transactional"}},
        {"id": "hand-off", "escalate": {"queue": "vip", "reason": "big first order", "priority": "high",
                                        "due": "24h"}},
    ],
}
JOURNEY_BODY = {"requestBody": {
    "required": True,
    "description": "A journey document (docs/journey-language.md), as YAML or JSON",
    "content": {
        "application/yaml": {"schema": {"type": "string"}, "example": EXAMPLE_YAML},
        "application/json": {"schema": {"type": "object"}, "example": EXAMPLE_JSON},
    },
}}
SUMMARY_EXAMPLE = {
    "id": "first-purchase-welcome", "name": "First purchase welcome", "owner": "cs-lead@shop.example",
    "trigger": "Order Completed", "live_version": 2, "updated_at": "2026-03-01T08:00:00Z", "paused": False,
    "paused_at": None, "active": 118, "ended": {"completed": 412, "exit_rule": 9, "goal_reached": 57},
    "held_events": 0,
}


class ProblemRead(BaseModel):
    """One thing wrong with a journey document, as `onboardflow validate` prints it (`text`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "message": "goes to step 'reassure', which does not exist; steps are: welcome, route", "line": 14,
        "step_id": "route", "field": "branch.0.goto",
        "text": "body:14: step 'route': field branch.0.goto: goes to step 'reassure', which does not exist; "
                "steps are: welcome, route",
    }]})

    message: str
    line: int | None
    step_id: str | None
    field: str | None
    text: str

    @classmethod
    def of(cls, problem: Problem) -> ProblemRead:
        return cls(message=problem.message, line=problem.line, step_id=problem.step_id, field=problem.field,
                   text=str(problem))


class ValidationRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"valid": True, "journey_id": "vip-desk", "steps": 2, "problems": [], "warnings": []},
    ]})

    valid: bool
    journey_id: str | None = Field(description="The document's id, when it reads cleanly")
    steps: int | None
    problems: list[ProblemRead]
    warnings: list[str] = Field(description="About the templates folder, not this document")


class JourneySummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SUMMARY_EXAMPLE]})

    id: str
    name: str
    owner: str | None
    trigger: str | None = Field(description="The event that starts it")
    live_version: int
    updated_at: datetime | None = Field(description="When the live version was stored")
    paused: bool
    paused_at: datetime | None
    active: int = Field(description="Customers in it now, over all versions")
    ended: dict[str, int] = Field(description="Customers who left it, by exit reason")
    held_events: int = Field(description="Events held for its customers while it is paused")

    @classmethod
    def fields_of(cls, state: JourneyState, live: StoredVersion | None, numbers: JourneyNumbers) -> dict:
        definition = live.definition if live else {}
        return dict(
            id=state.journey_id, name=state.name, owner=definition.get("owner"),
            trigger=(definition.get("trigger") or {}).get("event"), live_version=state.live_version,
            updated_at=live.created_at if live else None, paused=state.is_paused, paused_at=state.paused_at,
            active=numbers.active, ended=numbers.ended, held_events=numbers.held_events,
        )

    @classmethod
    def of(cls, state: JourneyState, live: StoredVersion | None, numbers: JourneyNumbers) -> JourneySummary:
        return cls(**cls.fields_of(state, live, numbers))


class JourneyList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [SUMMARY_EXAMPLE]}]})

    items: list[JourneySummary]


class StepRead(BaseModel):
    id: str
    kind: str | None
    active: int = Field(description="Customers at this step now (on the live version)")


class StepCountRead(BaseModel):
    version: int
    step_id: str
    state: str = Field(description="active, or ended:<exit reason>")
    count: int


class JourneyRead(JourneySummary):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        **SUMMARY_EXAMPLE, "steps": [{"id": "welcome", "kind": "send", "active": 0}],
        "step_counts": [{"version": 2, "step_id": "await-delivery", "state": "active", "count": 118}],
        "definition": EXAMPLE_JSON,
    }]})

    steps: list[StepRead] = Field(description="The live version's steps, in order")
    step_counts: list[StepCountRead] = Field(description="Customers by version, step and state")
    definition: dict[str, Any] = Field(description="The live version's document, as stored")

    @classmethod
    def of(cls, state: JourneyState, live: StoredVersion | None, numbers: JourneyNumbers) -> JourneyRead:
        definition = live.definition if live else {}
        here = {row.step_id: row.count for row in numbers.steps
                if row.version == state.live_version and row.state == "active"}
        steps = [StepRead(id=step.get("id", "?"), kind=step_kind(step), active=here.get(step.get("id"), 0))
                 for step in definition.get("steps", []) if isinstance(step, dict)]
        counts = [StepCountRead(version=r.version, step_id=r.step_id, state=r.state, count=r.count)
                  for r in numbers.steps]
        fields = cls.fields_of(state, live, numbers)
        return cls(**fields, steps=steps, step_counts=counts, definition=definition)


class JourneyStateRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "first-purchase-welcome", "live_version": 2, "paused": True,
         "paused_at": "2026-03-02T09:00:00Z"},
    ]})

    id: str
    live_version: int
    paused: bool
    paused_at: datetime | None

    @classmethod
    def of(cls, state: JourneyState) -> JourneyStateRead:
        return cls(id=state.journey_id, live_version=state.live_version, paused=state.is_paused,
                   paused_at=state.paused_at)


class ResumptionRead(JourneyStateRead):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "first-purchase-welcome", "live_version": 2, "paused": False, "paused_at": None,
         "applied_events": 3, "applied_timers": 1},
    ]})

    applied_events: int = Field(description="Events held while paused, applied now")
    applied_timers: int = Field(description="Timers that fell due while paused, fired now")

    @classmethod
    def of(cls, resumed: Resumption) -> ResumptionRead:  # type: ignore[override]
        return cls(**JourneyStateRead.of(resumed.state).model_dump(), applied_events=resumed.events,
                   applied_timers=resumed.timers)


class Migrate(BaseModel):
    """Move customers waiting in an older version to the one published, at mapped steps."""

    model_config = ConfigDict(extra="forbid")

    from_version: int = Field(ge=1, le=1_000_000, examples=[2])
    steps: dict[StepId, StepId] = Field(min_length=1, max_length=500, examples=[{"settle": "settle"}],
                                        description="old step id -> new step id")


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"version": 1}, {"version": 1, "migrate": {"from_version": 2, "steps": {"settle": "settle"}}},
    ]})

    version: int = Field(ge=1, le=1_000_000, description="The stored version whose content goes live")
    migrate: Migrate | None = None


class PublicationRead(BaseModel):
    """Which version is live now, whether publishing made a new one, and how many customers moved to it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"journey_id": "first-purchase-welcome", "version": 3, "changed": True, "moved": 118,
         "published_from": 1, "source": "version 1, published again"},
    ]})

    journey_id: str
    version: int = Field(description="The live version")
    changed: bool = Field(description="False: the content was live already, nothing changed")
    moved: int = Field(description="Customers moved to it by `migrate`")
    published_from: int | None = Field(default=None, description="The stored version it was published from")
    source: str | None

    @classmethod
    def of(cls, publication: Publication, *, published_from: int | None = None) -> PublicationRead:
        stored = publication.stored
        return cls(journey_id=stored.journey_id, version=stored.version, changed=publication.is_new,
                   moved=publication.moved, published_from=published_from, source=stored.source)


class VersionSummary(BaseModel):
    version: int
    digest: str = Field(description="A fingerprint of the content: equal content, equal digest")
    source: str | None = Field(description="Where it came from: a file, or the API request")
    created_at: datetime | None
    live: bool

    @classmethod
    def of(cls, stored: StoredVersion, state: JourneyState) -> VersionSummary:
        return cls(version=stored.version, digest=stored.digest, source=stored.source,
                   created_at=stored.created_at, live=stored.version == state.live_version)


class VersionList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "journey_id": "vip-desk", "live_version": 2, "items": [
            {"version": 1, "digest": "3f9c2a7d41e0b6c5", "source": "journeys/vip-desk.yaml",
             "created_at": "2026-03-01T08:00:00Z", "live": False},
            {"version": 2, "digest": "a1b2c3d4e5f60718", "source": "PUT /v1/journeys/vip-desk",
             "created_at": "2026-03-02T09:00:00Z", "live": True},
        ],
    }]})

    journey_id: str
    live_version: int
    items: list[VersionSummary]


class VersionRead(VersionSummary):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "version": 1, "digest": "3f9c2a7d41e0b6c5", "source": "journeys/vip-desk.yaml",
        "created_at": "2026-03-01T08:00:00Z", "live": False, "definition": EXAMPLE_JSON,
    }]})

    definition: dict[str, Any]

    @classmethod
    def of(cls, stored: StoredVersion, state: JourneyState) -> VersionRead:  # type: ignore[override]
        return cls(**VersionSummary.of(stored, state).model_dump(), definition=stored.definition)

"""The journey file format: typed, frozen records that a YAML or JSON document is read into.

The step records live in `journey_steps`; they are re-exported here, where readers look for them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from onboardflow.core.criteria import Criterion
from onboardflow.core.durations import parse_duration
from onboardflow.core.escalation import EscalationRule
from onboardflow.core.journey_steps import (  # noqa: F401  (re-exported)
    PRIORITIES,
    PURPOSES,
    STEP_KINDS,
    WAITING_KINDS,
    WEEKDAYS,
    Branch,
    BranchArm,
    ClockTime,
    Duration,
    Escalate,
    EscalateSpec,
    Exit,
    Expression,
    Record,
    Send,
    SendSpec,
    Split,
    SplitArm,
    Step,
    StepBase,
    StepId,
    Update,
    UpdateSpec,
    Wait,
    WaitFor,
    WaitForArm,
    WaitForSpec,
    WaitUntil,
    WaitUntilSpec,
    Webhook,
    WebhookSpec,
    step_kind,
)

EXIT_REASONS = ("completed", "goal_reached", "exit_rule", "timeout")


class Trigger(Record):
    event: str = Field(min_length=1, description="The event name that starts an enrollment")
    where: Expression | None = None


class EventRule(Record):
    event: str = Field(min_length=1)
    where: Expression | None = None


class ExitRule(Record):
    """Ends an enrollment wherever it is: on an event (with an optional condition), or on a condition
    alone, re-checked on every stimulus (every event of the customer, every timer)."""

    event: str | None = Field(default=None, min_length=1)
    where: Expression | None = None

    @model_validator(mode="after")
    def _event_or_condition(self) -> ExitRule:
        if self.event is None and self.where is None:
            raise ValueError("an exit rule needs an event, a where condition, or both")
        return self


class Goal(EventRule):
    within: Duration | None = Field(default=None, description="The conversion window, measured from entry")
    exit: bool = Field(default=True, description="false: record the conversion and let the journey go on")


class Outcomes(Record):
    """What the journey's KPIs measure beyond the goal (docs/outcomes.md)."""

    value: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="The value event(s): time to first value runs from the trigger to the first of these "
        "(default: the goal's event)",
    )
    milestone: StepId | None = Field(
        default=None, description="The step whose reach within `milestone_within` is early completion"
    )
    milestone_within: Duration | None = Field(
        default=None, description="The window of early completion, from entry (default 14d)"
    )

    @model_validator(mode="before")
    @classmethod
    def _one_value_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            return {**data, "value": [data["value"]]}
        return data


class Reentry(Record):
    """never: once per customer; always: again once the last enrollment ended (or at once, with
    `concurrent`); after: again once `after` has passed since the last entry."""

    mode: Literal["never", "always", "after"] = "never"
    after: Duration | None = None
    concurrent: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Reentry:
        if (self.mode == "after") != (self.after is not None):
            raise ValueError("write reentry: after 90d (mode after needs a duration, the others take none)")
        if self.concurrent and self.mode != "always":
            raise ValueError("concurrent enrollments need reentry mode always")
        return self


class Migration(Record):
    """Moves customers waiting in an older version to this one, at mapped steps; the rest finish there."""

    from_version: int = Field(ge=1)
    steps: dict[StepId, StepId] = Field(min_length=1, description="old step id -> new step id")


class QuietHours(Record):
    start: ClockTime = Field(alias="from")
    end: ClockTime = Field(alias="to")


class FrequencyCap(Record):
    max: int = Field(ge=1)
    per: Duration


class Policies(Record):
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    no_promotion_before: str | None = None


class Journey(Record):
    """A journey definition as its author writes it."""

    id: StepId
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="The one person who decides to launch")
    description: str | None = None
    trigger: Trigger
    audience: Expression | None = None
    reentry: Annotated[
        Reentry,
        BeforeValidator(lambda value: read_reentry(value)),
        WithJsonSchema({"anyOf": [
            {"type": "string", "pattern": r"^(never|always|always concurrent|after\s+(\d+[smhdw])+)$"},
            {"type": "object", "properties": {"mode": {"enum": ["never", "always", "after"]},
                                              "after": {"type": "string"}, "concurrent": {"type": "boolean"}},
             "additionalProperties": False},
        ]}),
    ] = Field(
        default_factory=Reentry,
        description="never | always | always concurrent | after DURATION, or {mode, after, concurrent}",
    )
    exit_when: list[ExitRule] = Field(default_factory=list)
    goal: Goal | None = None
    holdout: Annotated[
        float,
        BeforeValidator(lambda value: read_percent(value)),
        WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\d+(\.\d+)?\s*%$"},
                                  {"type": "number", "minimum": 0, "maximum": 100}]}),
    ] = Field(
        default=0.0, ge=0, le=100, description="Share of entrants in the control group, e.g. 10%"
    )
    policies: Policies = Field(default_factory=Policies)
    escalation: list[EscalationRule] = Field(
        default_factory=list, description="Rules that open a task while a customer is in this journey"
    )
    migrate: Migration | None = None
    outcomes: Outcomes = Field(
        default_factory=Outcomes, description="The value event and early-completion milestone the KPIs measure"
    )
    steps: list[Step] = Field(min_length=1)
    acceptance: list[Criterion] = Field(
        default_factory=list, description="Rules the simulator checks on every run (docs/simulator.md)"
    )

    @property
    def reentry_after(self) -> timedelta | None:
        return self.reentry.after


_REENTRY = re.compile(r"^after\s+(\S+)$")


def read_reentry(value: Any) -> Any:
    """`never`, `always`, `always concurrent` or `after 90d` as a Reentry; mappings pass through."""
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    if text in ("never", "always"):
        return {"mode": text}
    if text == "always concurrent":
        return {"mode": "always", "concurrent": True}
    match = _REENTRY.match(text)
    if not match:
        raise ValueError(
            f"{value!r} is not a re-entry rule: write never, always, always concurrent, or after DURATION (after 90d)"
        )
    return {"mode": "after", "after": parse_duration(match.group(1))}


def read_percent(value: Any) -> Any:
    """`10%` or 10 as 10.0 (a percentage); anything else is left for the schema to reject."""
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a share: write a percentage like 10%") from None
    return value

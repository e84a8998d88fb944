"""Acceptance criteria of the journey file: structured rules the simulator checks on every run.

One typed, frozen record per kind, told apart by its key, as steps are. What each kind means, and how
it is judged, is `core.acceptance`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Discriminator, Field, Tag, WithJsonSchema, model_validator

from onboardflow.core.durations import format_duration
from onboardflow.core.journey_steps import Duration, Expression, Record, StepId

CRITERION_KINDS = (
    "max_messages", "no_promotion_before", "escalated", "reached", "goal_rate", "every_customer",
)
SUMMARY_VARIABLES = ("customer", "summary")  # what an `every_customer` condition reads


def read_share(value: Any) -> Any:
    """`60%` or 60 as 60.0 (a percentage); anything else is left for the schema to reject."""
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a share: write a percentage like 60%") from None
    return value


Share = Annotated[
    float,
    BeforeValidator(read_share),
    Field(ge=0, le=100),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\d+(\.\d+)?\s*%$"},
                              {"type": "number", "minimum": 0, "maximum": 100}]}),
]


class CriterionBase(Record):
    kind: ClassVar[str]
    name: str | None = Field(default=None, description="How reports name it (a description if absent)")

    def describe(self) -> str:
        raise NotImplementedError

    @property
    def label(self) -> str:
        return self.name or self.describe()


class MaxMessages(CriterionBase):
    """No customer receives more than `max_messages` (from every journey of the run) in the first
    `within` after entering this journey."""

    max_messages: int = Field(ge=0)
    within: Duration

    kind: ClassVar[str] = "max_messages"

    def describe(self) -> str:
        return f"at most {self.max_messages} messages in the first {span(self.within)}"


class NoPromotionBefore(CriterionBase):
    """No promotion reaches a customer after entering this journey and before they had the event."""

    no_promotion_before: str = Field(min_length=1, description="An event name, e.g. Order Delivered")

    kind: ClassVar[str] = "no_promotion_before"

    def describe(self) -> str:
        return f"no promotion before {self.no_promotion_before}"


class EscalatedSpec(Record):
    """`event` (with `where`): every such event is followed by a task of this journey within `within`;
    `where` alone: every customer who entered and matches it has a task within `within` of entering."""

    event: str | None = Field(default=None, min_length=1)
    where: Expression | None = None
    within: Duration

    @model_validator(mode="after")
    def _event_or_condition(self) -> EscalatedSpec:
        if self.event is None and self.where is None:
            raise ValueError("escalated needs an event, a where condition, or both, e.g. "
                             "{event: Order Delivered, where: event.late == true, within: 1h}")
        return self


class Escalated(CriterionBase):
    escalated: EscalatedSpec

    kind: ClassVar[str] = "escalated"

    def describe(self) -> str:
        spec = self.escalated
        what = f"every {spec.event}" if spec.event else "every customer"
        where = f" where {spec.where}" if spec.where else ""
        return f"{what}{where} escalated within {span(spec.within)}"


class ReachedSpec(Record):
    step: StepId
    share: Share = Field(description="The least share of entrants that must reach the step, e.g. 60%")


class Reached(CriterionBase):
    reached: ReachedSpec

    kind: ClassVar[str] = "reached"

    def describe(self) -> str:
        return f"step {self.reached.step} reached by at least {self.reached.share:g}% of entrants"


class GoalRate(CriterionBase):
    goal_rate: Share = Field(description="The least share of treated entrants that reach the goal, e.g. 5%")

    kind: ClassVar[str] = "goal_rate"

    def describe(self) -> str:
        return f"goal reached by at least {self.goal_rate:g}% of entrants"


class EveryCustomer(CriterionBase):
    every_customer: Expression = Field(description="A CEL condition over customer and summary")

    kind: ClassVar[str] = "every_customer"

    def describe(self) -> str:
        return f"every customer: {self.every_customer}"


def span(delta: timedelta) -> str:
    """A duration as an author writes it in a criterion: `7d` rather than `1w`."""
    seconds = int(delta.total_seconds())
    return f"{seconds // 86400}d" if seconds % 86400 == 0 else format_duration(delta)


def criterion_kind(value: Any) -> str | None:
    if isinstance(value, CriterionBase):
        return value.kind
    if isinstance(value, dict):
        found = [kind for kind in CRITERION_KINDS if kind in value]
        return found[0] if len(found) == 1 else None
    return None


_MORE_THAN = re.compile(r"more than (\d+) messages? in the first (\d+) (day|week|hour)s?")
_ESCALATED = re.compile(r"escalated within (\d+[smhdw])")


def refuse_sentence(value: Any) -> Any:
    """A criterion written as a sentence gets a message with the structured rule to write instead."""
    if not isinstance(value, str):
        return value
    text = " ".join(value.lower().split())
    more = _MORE_THAN.search(text)
    escalated = _ESCALATED.search(text)
    if more:
        example = f"{{max_messages: {more.group(1)}, within: {more.group(2)}{more.group(3)[0]}}}"
    elif escalated:
        late = "late deliver" in text
        event = "Order Delivered, where: event.late == true" if late else "EVENT, where: CONDITION"
        example = f"{{escalated: {{event: {event}, within: {escalated.group(1)}}}}}"
    else:
        example = "{max_messages: 4, within: 7d}"
    raise ValueError(f"acceptance criteria are rules, not sentences: write {value!r} as, e.g., {example} "
                     f"(kinds: {', '.join(CRITERION_KINDS)})")


Criterion = Annotated[
    Annotated[
        Annotated[MaxMessages, Tag("max_messages")]
        | Annotated[NoPromotionBefore, Tag("no_promotion_before")]
        | Annotated[Escalated, Tag("escalated")]
        | Annotated[Reached, Tag("reached")]
        | Annotated[GoalRate, Tag("goal_rate")]
        | Annotated[EveryCustomer, Tag("every_customer")],
        Discriminator(
            criterion_kind,
            custom_error_type="criterion_kind",
            custom_error_message=f"a criterion needs exactly one of: {', '.join(CRITERION_KINDS)}",
        ),
    ],
    BeforeValidator(refuse_sentence),
]


def criterion_conditions(index: int, criterion: CriterionBase) -> dict[str, str]:
    """The CEL expressions of one criterion, keyed by where they stand (`acceptance.0.every_customer`)."""
    if isinstance(criterion, Escalated) and criterion.escalated.where:
        return {f"acceptance.{index}.escalated.where": criterion.escalated.where}
    if isinstance(criterion, EveryCustomer):
        return {f"acceptance.{index}.every_customer": criterion.every_customer}
    return {}

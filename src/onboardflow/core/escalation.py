"""Escalation rules: when an event should hand a customer to people, decided from the event, the profile
and the customer's recent support tickets alone.

A rule is global (the store's settings) or belongs to a journey (it holds while the customer is in it).
The decision is an `OpenTask` with a deterministic id; keeping one open task per customer and reason is
the engine's part, because only it knows which tasks are open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from onboardflow.core.durations import parse_duration
from onboardflow.core.effects import OpenTask, stable_id
from onboardflow.core.journey_steps import Duration, Record
from onboardflow.core.model import ORDER_COMPLETED, Customer, Event

SUPPORT_TICKET = "Support Ticket Opened"
REVIEW_SUBMITTED = "Review Submitted"
ORDER_DELIVERED = "Order Delivered"
DELIVERY_FAILED = "Delivery Failed"
PAYMENT_FAILED = "Payment Failed"
REFUND_REQUESTED = "Refund Requested"
TEXT_FIELDS = ("subject", "title", "text", "body", "message", "comment", "description")
DEFAULT_DUE = parse_duration("48h")


class RuleBase(Record):
    queue: str = Field(default="support", min_length=1)
    reason: str | None = Field(
        default=None, min_length=1, description="What the task says; one per kind if unset"
    )
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    due: Duration = Field(default=DEFAULT_DUE, description="The task's SLA: its due time after the event")
    rule: str
    default_reason: ClassVar[str]  # each kind's own

    @property
    def task_reason(self) -> str:
        return self.reason or self.default_reason

    @property
    def events(self) -> frozenset[str]:
        """The event names the rule looks at; an event of another name never fires it."""
        raise NotImplementedError


class HighValue(RuleBase):
    """A big order, or a customer whose lifetime value passes a threshold (the `lifetime_value` trait if
    the store keeps one, else what they spent here)."""

    rule: Literal["high_value"]
    order_total: float | None = Field(default=None, gt=0)
    lifetime_value: float | None = Field(default=None, gt=0)
    priority: Literal["low", "normal", "high", "urgent"] = "high"
    default_reason: ClassVar[str] = "high-value customer"

    @model_validator(mode="after")
    def _threshold(self) -> HighValue:
        if self.order_total is None and self.lifetime_value is None:
            raise ValueError(
                "high_value needs a threshold: order_total, lifetime_value or both (e.g. order_total: 500)"
            )
        return self

    @property
    def events(self) -> frozenset[str]:
        return frozenset({ORDER_COMPLETED})


class RepeatedComplaints(RuleBase):
    """`tickets` support tickets (this one counted) within `within`."""

    rule: Literal["repeated_complaints"]
    tickets: int = Field(default=3, ge=2, le=100)
    within: Duration = Field(default_factory=lambda: parse_duration("30d"))
    priority: Literal["low", "normal", "high", "urgent"] = "high"
    default_reason: ClassVar[str] = "repeated complaints"

    @property
    def events(self) -> frozenset[str]:
        return frozenset({SUPPORT_TICKET})


class LateDelivery(RuleBase):
    """An order delivered late: `late: true` on the event, or delivered after `estimated_delivery_at`."""

    rule: Literal["late_delivery"]
    default_reason: ClassVar[str] = "late delivery"

    @property
    def events(self) -> frozenset[str]:
        return frozenset({ORDER_DELIVERED})


class FailedDelivery(RuleBase):
    rule: Literal["failed_delivery"]
    priority: Literal["low", "normal", "high", "urgent"] = "high"
    default_reason: ClassVar[str] = "failed delivery"

    @property
    def events(self) -> frozenset[str]:
        return frozenset({DELIVERY_FAILED})


class PaymentFailure(RuleBase):
    rule: Literal["payment_failure"]
    priority: Literal["low", "normal", "high", "urgent"] = "high"
    default_reason: ClassVar[str] = "payment failed"

    @property
    def events(self) -> frozenset[str]:
        return frozenset({PAYMENT_FAILED})


class RefundRequest(RuleBase):
    rule: Literal["refund_request"]
    default_reason: ClassVar[str] = "refund requested"

    @property
    def events(self) -> frozenset[str]:
        return frozenset({REFUND_REQUESTED})


class NegativeSentiment(RuleBase):
    """A ticket or review whose `sentiment` (-1 to 1, scored at the edge before the engine sees the event)
    is below `below`."""

    rule: Literal["negative_sentiment"]
    below: float = Field(default=-0.3, ge=-1, le=1)
    on: list[str] = Field(
        default_factory=lambda: [SUPPORT_TICKET, REVIEW_SUBMITTED],
        min_length=1,
        description="The events whose text is scored",
    )
    priority: Literal["low", "normal", "high", "urgent"] = "high"
    default_reason: ClassVar[str] = "negative sentiment"

    @property
    def events(self) -> frozenset[str]:
        return frozenset(self.on)


RULE_KINDS = (
    "high_value",
    "repeated_complaints",
    "late_delivery",
    "failed_delivery",
    "payment_failure",
    "refund_request",
    "negative_sentiment",
)


def rule_kind(value: Any) -> str | None:
    if isinstance(value, RuleBase):
        return value.rule
    kind = value.get("rule") if isinstance(value, dict) else None
    return kind if kind in RULE_KINDS else None


EscalationRule = Annotated[
    Annotated[HighValue, Tag("high_value")]
    | Annotated[RepeatedComplaints, Tag("repeated_complaints")]
    | Annotated[LateDelivery, Tag("late_delivery")]
    | Annotated[FailedDelivery, Tag("failed_delivery")]
    | Annotated[PaymentFailure, Tag("payment_failure")]
    | Annotated[RefundRequest, Tag("refund_request")]
    | Annotated[NegativeSentiment, Tag("negative_sentiment")],
    Discriminator(
        rule_kind,
        custom_error_type="rule_kind",
        custom_error_message=f"a rule needs `rule:` set to one of: {', '.join(RULE_KINDS)}",
    ),
]


@dataclass(frozen=True, slots=True)
class Origin:
    """The journey a rule belongs to, as the enrollment that put the customer under it; None: global."""

    journey_id: str
    version: int
    enrollment_id: str


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules read besides the event: the profile after it, and the customer's earlier tickets."""

    customer: Customer
    ticket_times: Sequence[datetime] = ()


Matcher = Callable[[Any, Event, Facts], "str | None"]  # what fired the rule, said for the person; None: not
MATCHERS: dict[type, Matcher] = {}


def matches(kind: type) -> Callable[[Matcher], Matcher]:
    def register(matcher: Matcher) -> Matcher:
        MATCHERS[kind] = matcher
        return matcher

    return register


def escalations(
    rules: Iterable[tuple[RuleBase, Origin | None]], *, event: Event, facts: Facts, now: datetime
) -> list[OpenTask]:
    """The tasks the event opens: one per reason, the first rule of a reason deciding queue and due time."""
    opened: dict[str, OpenTask] = {}
    for rule, origin in rules:
        if event.name not in rule.events or rule.task_reason in opened:
            continue
        detail = MATCHERS[type(rule)](rule, event, facts)
        if detail is not None:
            opened[rule.task_reason] = task_for(rule, origin, event, detail, now)
    return list(opened.values())


def task_for(rule: RuleBase, origin: Origin | None, event: Event, detail: str, now: datetime) -> OpenTask:
    reason = rule.task_reason
    context: dict[str, Any] = {"rule": rule.rule, "detail": detail, "event": event.scope()}
    text = event_text(event)
    if text:
        context["text"] = text
    return OpenTask(
        task_id=stable_id("task", event.customer_id, reason, event.id),
        enrollment_id=origin.enrollment_id if origin else None,
        journey_id=origin.journey_id if origin else None,
        version=origin.version if origin else None,
        customer_id=event.customer_id,
        step_id=None,
        queue=rule.queue,
        reason=reason,
        priority=rule.priority,
        due_at=now + rule.due,
        at=now,
        context=context,
        rule=rule.rule,
    )


def event_text(event: Event) -> str:
    """The words of a ticket or review: its subject or title and its text, as one string."""
    return text_in(event.properties)


def text_in(properties: Mapping[str, Any]) -> str:
    parts = [properties.get(name) for name in TEXT_FIELDS]
    return "\n".join(part.strip() for part in parts if isinstance(part, str) and part.strip())


@matches(HighValue)
def _high_value(rule: HighValue, event: Event, facts: Facts) -> str | None:
    total = _number(event.properties.get("total"))
    if rule.order_total is not None and total is not None and total > rule.order_total:
        return f"order total {total:g} is over {rule.order_total:g}"
    customer = facts.customer
    lifetime = _number(customer.traits.get("lifetime_value"))
    lifetime = customer.total_spent if lifetime is None else lifetime
    if rule.lifetime_value is not None and lifetime > rule.lifetime_value:
        return f"lifetime value {lifetime:g} is over {rule.lifetime_value:g}"
    return None


@matches(RepeatedComplaints)
def _repeated_complaints(rule: RepeatedComplaints, event: Event, facts: Facts) -> str | None:
    since = event.at - rule.within
    earlier = [at for at in facts.ticket_times if since < at <= event.at]
    count = len(earlier) + 1
    if count < rule.tickets:
        return None
    return f"{count} support tickets within {_days(rule.within)}"


@matches(LateDelivery)
def _late_delivery(rule: LateDelivery, event: Event, facts: Facts) -> str | None:
    estimated = _time(event.properties.get("estimated_delivery_at"))
    if event.properties.get("late") is True:
        return f"order {event.properties.get('order_id')} was delivered late"
    if estimated is not None and event.at > estimated:
        late = event.at - estimated
        return f"order {event.properties.get('order_id')} was delivered {_days(late)} after the estimate"
    return None


@matches(FailedDelivery)
def _failed_delivery(rule: FailedDelivery, event: Event, facts: Facts) -> str | None:
    why = event.properties.get("reason")
    return f"delivery of order {event.properties.get('order_id')} failed" + (f": {why}" if why else "")


@matches(PaymentFailure)
def _payment_failure(rule: PaymentFailure, event: Event, facts: Facts) -> str | None:
    why = event.properties.get("reason")
    return "a payment failed" + (f": {why}" if why else "")


@matches(RefundRequest)
def _refund_request(rule: RefundRequest, event: Event, facts: Facts) -> str | None:
    return f"refund requested for order {event.properties.get('order_id')}"


@matches(NegativeSentiment)
def _negative_sentiment(rule: NegativeSentiment, event: Event, facts: Facts) -> str | None:
    sentiment = _number(event.properties.get("sentiment"))
    if sentiment is None or sentiment >= rule.below:
        return None
    return f"{event.name.lower()} reads negative (sentiment {sentiment:.2f}, below {rule.below:g})"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{span.total_seconds() / 3600:g} hours"

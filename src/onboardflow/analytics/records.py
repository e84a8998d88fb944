"""The plain records the KPIs are computed over, as the store's read side (`reading`) gathers them.

Nothing here does I/O: a test builds these by hand, the store reading builds them from the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onboardflow.core.journey import Escalate, Journey
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.core.validation import edges
from onboardflow.ports import OutboxMessage, Task

DEFAULT_MILESTONE_WITHIN = timedelta(days=14)
EXCEPTION_FIELDS = ("on_timeout", "on_undeliverable", "on_error", "escalate.on_overdue")
# events that put an enrollment in an exception state while it runs
EXCEPTION_EVENTS = (
    "Payment Failed",
    "Delivery Failed",
    "Email Bounced",
    "SMS Failed",
    "WhatsApp Failed",
    "Message Undeliverable",
)
LATE_DELIVERY = "Order Delivered"  # with `late: true`
ORDER = "Order Completed"
SIGNED_UP = "Signed Up"
# what customers said of their experience: review stars, satisfaction scores, tickets' sentiment
CONFIDENCE_EVENTS = ("Review Submitted", "Satisfaction Rated", "Support Ticket Opened", "Support Ticket Resolved")
ATTRIBUTION = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "referrer", "landing_page")


@dataclass(frozen=True, slots=True)
class JourneyFacts:
    """What the KPIs need to know of a journey's definition."""

    journey_id: str
    name: str
    owner: str
    goal_event: str | None = None
    goal_within: timedelta | None = None
    value_events: tuple[str, ...] = ()
    milestone: str | None = None
    milestone_within: timedelta = DEFAULT_MILESTONE_WITHIN
    exception_steps: frozenset[str] = frozenset()

    @classmethod
    def of(cls, journey: Journey) -> JourneyFacts:
        goal, outcomes = journey.goal, journey.outcomes
        return cls(
            journey.id,
            journey.name,
            journey.owner,
            goal_event=goal.event if goal else None,
            goal_within=goal.within if goal else None,
            value_events=tuple(outcomes.value) or ((goal.event,) if goal else ()),
            milestone=outcomes.milestone,
            milestone_within=outcomes.milestone_within or DEFAULT_MILESTONE_WITHIN,
            exception_steps=exception_steps(journey),
        )


def exception_steps(journey: Journey) -> frozenset[str]:
    """Steps an enrollment reaches only when something went wrong: the targets of `on_timeout`,
    `on_undeliverable`, `on_error` and `on_overdue`, and every `escalate` step."""
    found = {target for ways in edges(journey).values() for name, target in ways if name in EXCEPTION_FIELDS}
    found.update(step.id for step in journey.steps if isinstance(step, Escalate))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision of the review trail: open until closed."""

    id: str
    journey_id: str
    title: str
    opened_at: datetime
    closed_at: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Blocker:
    """A risk that blocks a launch: who owns it, by when, and what happens if it is not cleared."""

    id: str
    journey_id: str
    title: str
    owner: str | None
    due_at: datetime | None
    fallback: str | None
    opened_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutcomeData:
    """Everything the KPIs of some journeys read, as of one time."""

    as_of: datetime
    journeys: dict[str, JourneyFacts]
    enrollments: list[Enrollment]
    customers: dict[str, Customer] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)  # per customer, in time order
    messages: list[OutboxMessage] = field(default_factory=list)
    engagement: list[Event] = field(default_factory=list)  # events naming a message_id
    tasks: list[Task] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)

"""A small shop, computed by hand: four customers through `welcome` and one held out (see test_kpis.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboardflow.analytics.records import JourneyFacts, OutcomeData
from onboardflow.core.effects import OpenTask, SendMessage
from onboardflow.core.model import Customer, Enrollment, Event, Visit
from onboardflow.ports import OutboxMessage, Task

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday: ISO week 2026-W10
AS_OF = T0 + timedelta(days=100)
JOURNEY = JourneyFacts(
    "welcome",
    "Welcome",
    "cs@shop.example",
    goal_event="Order Completed",
    goal_within=timedelta(days=30),
    value_events=("Order Delivered",),
    milestone="tips",
    milestone_within=timedelta(days=7),
    exception_steps=frozenset({"late"}),
)


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def enrollment(
    number: int,
    start: float,
    *,
    visits=(),
    ended=None,
    reason=None,
    goal=None,
    group="journey",
    total=80.0,
    paths=None,
) -> Enrollment:
    trigger = {
        "id": f"t{number}",
        "name": "Order Completed",
        "order_id": f"o{number}",
        "total": total,
        "products": [{"product_id": "p1", "category": "skincare"}],
    }
    return Enrollment(
        f"e{number}",
        "welcome",
        1,
        f"c{number}",
        trigger,
        days(start),
        status="active" if ended is None else "ended",
        exit_reason=reason,
        ended_at=None if ended is None else days(start + ended),
        goal_reached_at=None if goal is None else days(start + goal),
        history=tuple(Visit(step, days(start + at)) for step, at in (("welcome", 0), *visits)),
        group=group,
        paths=paths or {},
    )


def order(number: int, customer: int, at: float, order_id: str) -> Event:
    return Event(f"ord{number}", "Order Completed", f"c{customer}", days(at), {"order_id": order_id})


def delivered(customer: int, at: float, *, late: bool) -> Event:
    return Event(f"dlv{customer}", "Order Delivered", f"c{customer}", days(at), {"late": late})


def message(number: int, enrollment_id: str, customer: int, at: float, **row) -> OutboxMessage:
    send = SendMessage(
        f"m{number}",
        enrollment_id,
        "welcome",
        1,
        f"c{customer}",
        "welcome",
        ("email",),
        "welcome",
        "education",
        days(at),
    )
    return OutboxMessage(send, **row)


def engaged(name: str, message_id: str, customer: int, at: float) -> Event:
    return Event(f"{message_id}-{name}", name, f"c{customer}", days(at), {"message_id": message_id})


def task(
    number: int,
    enrollment_id: str | None,
    customer: int,
    at: float,
    *,
    resolved: float | None = None,
    reason: str = "delivery late",
) -> Task:
    opened = OpenTask(
        f"task{number}",
        enrollment_id,
        "welcome",
        1,
        f"c{customer}",
        "late",
        "support",
        reason,
        "high",
        days(at + 2),
        days(at),
    )
    if resolved is None:
        return Task(opened)
    return Task(opened, status="resolved", outcome="refunded", resolved_at=days(resolved))


ENROLLMENTS = [
    enrollment(1, 0, visits=[("tips", 3)], ended=25, reason="completed", goal=20),
    enrollment(2, 1, visits=[("tips", 9)], ended=12, reason="exit_rule"),
    enrollment(3, 2, visits=[("late", 10)]),
    enrollment(4, 8, visits=[("tips", 1)], ended=3, reason="goal_reached", goal=3),
    enrollment(5, 0, ended=15, reason="goal_reached", goal=15, group="holdout"),
]
EVENTS = {
    "c1": [delivered(1, 2, late=False), order(11, 1, 20, "o1b")],
    "c2": [delivered(2, 4, late=True)],
    "c3": [order(31, 3, 52, "o3b")],
    "c4": [delivered(4, 9, late=False), order(41, 4, 11, "o4b")],
    "c5": [order(51, 5, 15, "o5b")],
}
MESSAGES = [
    message(1, "e1", 1, 0, status="delivered", channel="email", delivered_at=days(0)),
    message(2, "e2", 2, 1, status="skipped", note="email: no consent to education messages"),
    message(
        3,
        "e3",
        3,
        2,
        status="delivered",
        channel="email",
        delivered_at=days(2.4),
        note="quiet hours 21:00-08:00 in America/New_York: deferred to 2026-03-05 08:00 EST (13:00 UTC)",
    ),
    message(4, "e4", 4, 8, status="undeliverable", channel="email", error="550 no such user"),
]
ENGAGEMENT = [
    engaged("Email Opened", "m1", 1, 0.1),
    engaged("Link Clicked", "m1", 1, 0.2),
    engaged("Email Opened", "m1", 1, 0.3),
]  # opened twice: one opened message
TASKS = [task(1, "e2", 2, 5, resolved=7), task(2, "e3", 3, 12)]
CUSTOMERS = {
    "c1": Customer("c1", country="US", traits={"type": "retail"}),
    "c2": Customer("c2", country="US", traits={"type": "wholesale"}),
    "c3": Customer("c3", country="CA", traits={"type": "retail"}),
    "c4": Customer("c4", country="US", traits={"type": "retail"}),
}


def shop(as_of: datetime = AS_OF, **changes) -> OutcomeData:
    fields = dict(
        as_of=as_of,
        journeys={"welcome": JOURNEY},
        enrollments=ENROLLMENTS,
        customers=CUSTOMERS,
        events=EVENTS,
        messages=MESSAGES,
        engagement=ENGAGEMENT,
        tasks=TASKS,
    )
    return OutcomeData(**{**fields, **changes})

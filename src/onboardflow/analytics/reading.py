"""The store's read side for the KPIs: one journey's records (or every journey's), gathered in a few reads.

Enrollments by journey, the profiles and the events (orders, signups, value and exception events) of
their customers, their messages with the engagement events that name them, and their tasks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from onboardflow.analytics.funnel import ENGAGEMENT_EVENTS
from onboardflow.analytics.records import (
    CONFIDENCE_EVENTS,
    EXCEPTION_EVENTS,
    LATE_DELIVERY,
    ORDER,
    SIGNED_UP,
    Blocker,
    Decision,
    JourneyFacts,
    OutcomeData,
)
from onboardflow.core.journey import Journey
from onboardflow.core.model import Event
from onboardflow.core.review import BLOCKING_KINDS
from onboardflow.ports import Store


class UnknownJourney(LookupError):
    """No journey of this id was ever published."""


def journey_facts(store: Store) -> dict[str, JourneyFacts]:
    """The live version of each journey, as the KPIs read it."""
    return {
        stored.journey_id: JourneyFacts.of(Journey.model_validate(stored.definition))
        for stored in store.live_versions()
    }


def read_outcomes(store: Store, *, as_of: datetime, journey_id: str | None = None) -> OutcomeData:
    """Everything the KPIs of `journey_id` (None: every journey) read; UnknownJourney if it was never
    published."""
    journeys = journey_facts(store)
    if journey_id is not None and journey_id not in journeys:
        known = ", ".join(sorted(journeys)) or "none yet"
        raise UnknownJourney(f"no journey {journey_id!r} is published; journeys: {known}")
    enrollments = store.journey_enrollments(journey_id)
    customers = {e.customer_id for e in enrollments}
    names = {ORDER, SIGNED_UP, LATE_DELIVERY, *EXCEPTION_EVENTS, *CONFIDENCE_EVENTS}
    for facts in journeys.values():
        names.update(facts.value_events)
    ids = {e.id for e in enrollments}
    messages = [row for row in store.messages() if row.message.enrollment_id in ids]
    sent = {row.message.message_id for row in messages}
    engagement = [e for e in store.history(names=ENGAGEMENT_EVENTS) if e.properties.get("message_id") in sent]
    return OutcomeData(
        as_of=as_of,
        journeys=journeys,
        enrollments=enrollments,
        customers=store.profiles(customers),
        events=_by_customer(e for e in store.history(names=names) if e.customer_id in customers),
        messages=messages,
        engagement=engagement,
        tasks=[t for t in store.tasks() if t.task.customer_id in customers],
        decisions=review_decisions(store, journeys if journey_id is None else [journey_id]),
        blockers=review_blockers(store, journeys if journey_id is None else [journey_id]),
    )


def review_decisions(store: Store, journey_ids: Iterable[str]) -> list[Decision]:
    """The review trail's decisions to take: every blocking comment (question, change request), closed when
    a decision settled it."""
    found = []
    for journey_id in journey_ids:
        settled = {d.comment_id: d for d in store.decisions(journey_id)}
        for comment in store.comments(journey_id):
            if comment.kind not in BLOCKING_KINDS:
                continue
            decision = settled.get(comment.id)
            found.append(Decision(comment.id, journey_id, comment.body, comment.created_at,
                                  decision.created_at if decision else None, decision.outcome if decision else None))
    return found


def review_blockers(store: Store, journey_ids: Iterable[str]) -> list[Blocker]:
    """The risk registers' entries, closed once no longer open (mitigated, accepted or closed)."""
    return [
        Blocker(risk.id, journey_id, risk.risk, risk.owner, risk.due_at, risk.fallback, risk.raised_at,
                None if risk.is_open else (risk.updated_at or risk.raised_at))
        for journey_id in journey_ids for risk in store.risks(journey_id)
    ]


def _by_customer(events: Iterable[Event]) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = {}
    for event in events:
        found.setdefault(event.customer_id, []).append(event)
    for stream in found.values():
        stream.sort(key=lambda event: (event.at, event.id))
    return found

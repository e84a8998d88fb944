"""The Store contract for live versions: journey states, pausing, held events, timers left out while paused,
and the enrollments a migration moves. The same on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboardflow.core.effects import ScheduleTimer
from onboardflow.core.journey import Journey
from onboardflow.core.model import Enrollment, Event, Visit, Waiting
from onboardflow.ports import Changes, HeldEvent, JourneyState

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def journey(journey_id: str = "welcome", template: str = "welcome") -> Journey:
    return Journey.model_validate({
        "id": journey_id, "name": f"Journey {journey_id}", "owner": "cs@shop.example",
        "trigger": {"event": "Signed Up"},
        "steps": [{"id": "hello", "send": {"channel": "email", "template": template}}],
    })


def event(event_id: str, customer_id: str = "c1") -> Event:
    return Event(event_id, "First Login", customer_id, T0, {"device": "ios"}, None)


def enrollment(enrollment_id: str, step_id: str, **changes) -> Enrollment:
    fields = dict(
        id=enrollment_id, journey_id="welcome", version=1, customer_id="c1", trigger={"id": "e0"},
        started_at=T0, step_id=step_id, seq=2,
        waiting=Waiting(step_id, timer_id=f"t-{enrollment_id}", until=at(60)),
        history=(Visit("hello", T0), Visit(step_id, T0)),
    )
    return Enrollment(**{**fields, **changes})


def timer(timer_id: str, minutes: float = 10, journey_id: str = "welcome") -> ScheduleTimer:
    return ScheduleTimer(timer_id, f"en-{timer_id}", "c1", at(minutes), journey_id)


def apply(store, changes: Changes) -> None:
    with store.transaction() as tx:
        tx.apply(changes)


def held(journey_id: str, enrollment_id: str, event_id: str, customer_id: str = "c1") -> HeldEvent:
    return HeldEvent(journey_id, enrollment_id, customer_id, event_id)


def test_journeys_are_their_live_versions_and_not_paused_at_first(store):
    store.save_version(journey("welcome"), digest="d1", source=None, now=T0)
    store.save_version(journey("welcome", template="hi"), digest="d2", source=None, now=at(1))
    store.save_version(journey("alpha"), digest="a1", source=None, now=at(2))

    assert store.journeys() == [
        JourneyState("alpha", "Journey alpha", 1, None),
        JourneyState("welcome", "Journey welcome", 2, None),
    ]
    with store.transaction() as tx:
        assert tx.journeys() == {state.journey_id: state for state in store.journeys()}


def test_a_pause_is_kept_until_cleared_and_survives_a_new_version(store):
    store.save_version(journey(), digest="d1", source=None, now=T0)

    with store.transaction() as tx:
        tx.set_paused("welcome", at(5))
    store.save_version(journey(template="hi"), digest="d2", source=None, now=at(6))
    paused = store.journeys()
    with store.transaction() as tx:
        tx.set_paused("welcome", None)

    assert [(s.live_version, s.paused_at, s.is_paused) for s in paused] == [(2, at(5), True)]
    assert [s.paused_at for s in store.journeys()] == [None]


def test_a_version_saved_in_a_transaction_is_read_back_in_it(store):
    with store.transaction() as tx:
        stored = tx.save_version(journey(), digest="d1", source="a.yaml", now=T0)
        same = tx.save_version(journey(), digest="d1", source="b.yaml", now=at(1))
        assert tx.version("welcome", 1) == stored == same
        assert tx.version("welcome", 2) is None

    assert store.version("welcome", 1) == stored


def test_held_events_come_per_customer_in_the_order_the_customer_sent_them(store):
    events = [(event("e3", "c2"), 1), (event("e2", "c1"), 2), (event("e1", "c1"), 1), (event("e9", "c9"), 1)]
    apply(store, Changes(events=events, held=[
        held("welcome", "en1", "e2"), held("welcome", "en1", "e1"), held("welcome", "en2", "e3", "c2"),
        held("other", "en9", "e9", "c9"), held("welcome", "en1", "e2"),  # twice: kept once
    ]))

    with store.transaction() as tx:
        found = [(enrollment_id, e.id) for enrollment_id, e in tx.held_events("welcome")]
        [(_, first)] = tx.held_events("other")

    assert found == [("en1", "e1"), ("en1", "e2"), ("en2", "e3")]
    assert first == event("e9", "c9")
    assert store.held_counts() == {"welcome": 3, "other": 1}


def test_releasing_a_journeys_held_events_leaves_the_others(store):
    both = [held("welcome", "en1", "e1"), held("other", "en9", "e1")]
    apply(store, Changes(events=[(event("e1"), 1)], held=both))

    with store.transaction() as tx:
        tx.release_held("welcome")
        assert tx.held_events("welcome") == []

    assert store.held_counts() == {"other": 1}


def test_timers_of_journeys_left_out_are_not_due_and_not_next(store):
    apply(store, Changes(timers={t.timer_id: t for t in (
        timer("a", minutes=1, journey_id="paused"), timer("b", minutes=2),
        timer("c", minutes=3, journey_id="x"),
    )}))

    with store.transaction() as tx:
        assert [t.timer_id for t in tx.due_timers(None, at(10), 10, excluding={"paused"})] == ["b", "c"]
        assert [t.timer_id for t in tx.due_timers(None, at(10), 10, excluding={"paused", "x"})] == ["b"]
        assert [t.timer_id for t in tx.due_timers(None, at(10), 10)] == ["a", "b", "c"]
        assert tx.next_timer_due(excluding={"paused"}) == at(2)
        assert tx.next_timer_due(excluding={"paused", "welcome", "x"}) is None
        assert tx.due_timers(None, at(10), 10)[0].journey_id == "paused"


def test_a_journeys_due_timers_are_all_of_its_own_due_by_then(store):
    apply(store, Changes(timers={t.timer_id: t for t in (
        timer("late", minutes=30), timer("b", minutes=2), timer("a", minutes=2), timer("x", journey_id="x"),
    )}))

    with store.transaction() as tx:
        assert [t.timer_id for t in tx.journey_timers_due("welcome", at(10))] == ["a", "b"]
        assert tx.journey_timers_due("welcome", at(1)) == []


def test_active_enrollments_at_steps_of_a_version_come_in_id_order_page_by_page(store):
    rows = [
        enrollment("en3", "await"),
        enrollment("en1", "settle"),
        enrollment("en2", "await"),
        enrollment("en4", "hello"),  # a step not asked for
        enrollment("en5", "await", version=2),  # another version
        enrollment("en6", "await", journey_id="other"),  # another journey
        enrollment("en7", "await", status="ended", exit_reason="completed"),  # ended
    ]
    apply(store, Changes(enrollments={e.id: e for e in rows}))

    with store.transaction() as tx:
        first = tx.active_enrollments_at("welcome", 1, ["await", "settle"], after=None, limit=2)
        rest = tx.active_enrollments_at("welcome", 1, ["await", "settle"], after=first[-1].id, limit=2)
        none = tx.active_enrollments_at("welcome", 1, ["await", "settle"], after="en3", limit=2)

    assert [e.id for e in first] == ["en1", "en2"]
    assert first[0] == rows[1]
    assert [e.id for e in rest] == ["en3"]
    assert none == []

"""Profile updates as canonical events, and one customer's timeline, on the memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.effects import OpenTask, SendMessage
from onboardflow.core.model import PROFILE_UPDATED, Customer, Enrollment, Event
from onboardflow.ports import Changes, CustomerData, OutboxMessage, Task
from onboardflow.profiles import profile_event, timeline, update_profile
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_profile_event_carries_the_change_in_its_customer_block():
    event = profile_event("c1", {"email": "ana@example.com", "phone": None, "traits": {"plan": "pro"},
                                 "addresses": [{"type": "billing", "city": "Lyon"}]}, now=T0)

    assert (event.name, event.customer_id, event.at) == (PROFILE_UPDATED, "c1", T0)
    assert event.customer == {"email": "ana@example.com",
                              "traits": {"plan": "pro", "addresses": [{"type": "billing", "city": "Lyon"}]}}
    assert event.properties == {"fields": ["addresses", "email", "traits.plan"], "source": "api"}


def test_the_same_change_at_the_same_moment_is_the_same_event_and_any_other_is_not():
    one = profile_event("c1", {"email": "ana@example.com"}, now=T0)

    assert profile_event("c1", {"email": "ana@example.com"}, now=T0).id == one.id
    assert profile_event("c1", {"email": "ana@example.com"}, now=at(1)).id != one.id
    assert profile_event("c1", {"email": "bo@example.com"}, now=T0).id != one.id
    assert profile_event("c2", {"email": "ana@example.com"}, now=T0).id != one.id


def test_an_update_queues_the_event_and_answers_the_profile_it_will_make():
    store = MemoryStore()
    with store.transaction() as tx:
        tx.apply(Changes(customers={"c1": Customer("c1", email="old@example.com", traits={"type": "retail"},
                                                   orders_count=2)}))

    update = update_profile(store=store, customer_id="c1", changes={"traits": {"plan": "pro"}}, now=T0)

    assert update.queued and store.counts()["queued"] == 1
    assert (update.profile.email, update.profile.traits, update.profile.orders_count) == (
        "old@example.com", {"type": "retail", "plan": "pro"}, 2)
    assert store.customer("c1").traits == {"type": "retail"}  # the engine applies it, not the update


def test_bad_consent_lines_stop_the_update_before_anything_is_written():
    store = MemoryStore()
    lines = [{"channel": "email", "status": "granted"}, {"channel": "sms", "status": "maybe"}]

    with pytest.raises(ValueError, match="consent\\[1\\]: status must be granted or withdrawn"):
        update_profile(store=store, customer_id="c1", changes={"email": "a@example.com"}, consent_lines=lines,
                       now=T0)

    assert store.counts()["queued"] == 0 and store.consents("c1") == []


def customer_data(**parts) -> CustomerData:
    fields = dict(customer_id="c1", profile=None, events=[], queued=[], enrollments=[], messages=[],
                  consents=[], tasks=[], webhook_calls=[], inbox=[])
    return CustomerData(**{**fields, **parts})


def test_the_timeline_is_in_time_order_and_an_event_comes_before_what_it_caused():
    order = Event("e1", "Order Completed", "c1", T0, {})
    enrollment = Enrollment("enr_1", "welcome", 1, "c1", {}, T0, step_id="done", status="ended",
                            exit_reason="completed", ended_at=at(30))
    message = SendMessage("msg_1.1", "enr_1", "welcome", 1, "c1", "hi", ("email",), "welcome",
                          "transactional", T0)
    task = OpenTask("tsk_1", "enr_1", "welcome", 1, "c1", "hand-off", "vip", "big order", "high", at(60),
                    at(5))
    data = customer_data(
        events=[(order, 1)], queued=[Event("e2", "First Login", "c1", at(90), {})], enrollments=[enrollment],
        messages=[OutboxMessage(message, status="delivered", channel="email", delivered_at=at(2))],
        tasks=[Task(task, status="resolved", outcome="called", resolved_at=at(20))],
    )

    entries = timeline(data)

    assert [(e.kind, e.at) for e in entries] == [
        ("event", T0), ("enrollment_started", T0), ("message", T0), ("message_delivered", at(2)),
        ("task_opened", at(5)), ("task_resolved", at(20)), ("enrollment_ended", at(30)),
        ("queued_event", at(90)),
    ]
    assert entries[2].summary == "welcome on email, delivered"
    assert entries[5].summary == "vip: resolved, called"
    assert entries[6].summary == "left welcome at done: completed"

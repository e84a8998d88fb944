"""GDPR on every store: everything held on a customer in one read, and erasure that removes the person but
keeps the aggregates (counts, order totals, enrollments per journey) under a pseudonym."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.consent import GRANTED, consent_record
from onboardflow.core.effects import CallWebhook, OpenTask, ScheduleTimer, SendMessage
from onboardflow.core.model import Customer, Enrollment, Event, Visit, Waiting
from onboardflow.core.outbound import Subscription, task_opened
from onboardflow.ports import Changes, HeldEvent, InboxMessage

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
PERSONAL = (
    "ana@example.com", "+15551234567", "Ana", "Lopez", "Main Street", "Lisbon", "Tokyo", "203.0.113.7",
    "allergic", "o_9",
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def order(event_id: str, customer_id: str, minutes: float, total: float) -> Event:
    return Event(
        event_id, "Order Completed", customer_id, at(minutes),
        {
            "order_id": "o_9", "total": total, "currency": "USD", "email": "ana@example.com",
            "shipping_address": {"street": "1 Main Street", "city": "Lisbon"}, "note": "allergic to nuts",
            "products": [{"product_id": "p_1", "category": "skincare", "price": total, "quantity": 1,
                          "gift_message": "Love, Ana"}],
        },
        {"email": "ana@example.com", "phone": "+15551234567", "traits": {"first_name": "Ana"}},
    )


def running(customer_id: str) -> Enrollment:
    return Enrollment(
        id=f"en_{customer_id}_run", journey_id="welcome", version=1, customer_id=customer_id,
        trigger={**order("e1", customer_id, 0, 60.0).scope()}, started_at=at(0), step_id="await",
        waiting=Waiting("await", timer_id=f"t_{customer_id}", until=at(600), events=("Order Delivered",)),
        seq=2, history=(Visit("hello", at(0)), Visit("await", at(0))),
    )


def ended(customer_id: str) -> Enrollment:
    return Enrollment(
        id=f"en_{customer_id}_done", journey_id="reviews", version=1, customer_id=customer_id,
        trigger={"id": "e0", "name": "Signed Up", "at": at(-60)}, started_at=at(-60), status="ended",
        exit_reason="completed", ended_at=at(-30), seq=1,
    )


def message(message_id: str, customer_id: str, minutes: float) -> SendMessage:
    return SendMessage(message_id, f"en_{customer_id}_run", "welcome", 1, customer_id, "hello", ("email",),
                       "welcome", "transactional", at(minutes))


def task(customer_id: str) -> OpenTask:
    trigger = order("e1", customer_id, 0, 60.0).scope()
    return OpenTask(f"task_{customer_id}", f"en_{customer_id}_run", "welcome", 1, customer_id, "late",
                    "support", "delivery late", "high", at(120), at(0),
                    {"trigger": trigger, "hint": "call Ana Lopez"})


def call(customer_id: str) -> CallWebhook:
    return CallWebhook(
        f"call_{customer_id}", f"en_{customer_id}_run", "welcome", 1, customer_id, "crm",
        "https://crm.example/hook", "POST", {"Authorization": "Bearer crm-key"},
        '{"email": "ana@example.com"}', "whsec_operator", timedelta(10), 3,
        {"customer": {"email": "ana@example.com", "first_name": "Ana"}}, at(0),
    )


def fill(store, customer_id: str, *, with_queued: bool = True) -> None:
    """One customer with a row in every table that holds something about them."""
    if store.subscription("sub_crm") is None:
        store.create_subscription(Subscription("sub_crm", "https://crm.example/onboardflow", ("*",),
                                               "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", at(-120)))
    profile = Customer(
        id=customer_id, email="ana@example.com", phone="+15551234567", locale="pt-PT", timezone="Asia/Tokyo",
        country="PT", traits={"first_name": "Ana", "last_name": "Lopez"}, consent={"email": "yes"},
        orders_count=2, total_spent=100.0, first_order_at=at(0), last_order_at=at(5), events_count=2,
    )
    timer = ScheduleTimer(f"t_{customer_id}", f"en_{customer_id}_run", customer_id, at(600), "welcome")
    with store.transaction() as tx:
        tx.apply(Changes(
            events=[(order("e1", customer_id, 0, 60.0), 1), (order("e2", customer_id, 5, 40.0), 2)],
            customers={customer_id: profile},
            enrollments={e.id: e for e in (running(customer_id), ended(customer_id))},
            timers={timer.timer_id: timer},
            messages={m.message_id: m for m in (message(f"m_{customer_id}_1", customer_id, 0),
                                                message(f"m_{customer_id}_2", customer_id, 1))},
            consents=[consent_record(customer_id=customer_id, channel="email", purpose="marketing",
                                     status=GRANTED, source="signup", at=at(0),
                                     evidence={"ip": "203.0.113.7"})],
            tasks={f"task_{customer_id}": task(customer_id)},
            calls={f"call_{customer_id}": call(customer_id)},
            held=[HeldEvent("welcome", f"en_{customer_id}_run", customer_id, "e2")],
            outbound=[task_opened(task(customer_id))],
        ))
    store.record_delivery(f"m_{customer_id}_1", status="undeliverable", channel="email", at=at(1),
                          error="550 ana@example.com: no such user")
    store.add_to_inbox(InboxMessage(f"in_{customer_id}", customer_id, "Hi Ana",
                                    "Your order o_9 ships to 1 Main Street", "promotion", at(2),
                                    deep_link="app://orders/o_9", read_at=at(3)))
    if with_queued:
        store.enqueue([order("e3", customer_id, 9, 25.0)], now=at(9))


def everything(data) -> str:
    return json.dumps(asdict(data), default=str)


# export


def test_customer_data_holds_every_row_about_the_customer(store):
    fill(store, "c1")
    fill(store, "c2", with_queued=False)

    data = store.customer_data("c1")

    assert data.profile.email == "ana@example.com"
    assert [(event.id, position) for event, position in data.events] == [("e1", 1), ("e2", 2)]
    assert data.events[0][0] == order("e1", "c1", 0, 60.0)
    assert [event.id for event in data.queued] == ["e3"]
    assert [e.id for e in data.enrollments] == ["en_c1_done", "en_c1_run"]
    assert [(m.message.message_id, m.status, m.error) for m in data.messages] == [
        ("m_c1_1", "undeliverable", "550 ana@example.com: no such user"),
        ("m_c1_2", "pending", None),
    ]
    assert [r.evidence for r in data.consents] == [{"ip": "203.0.113.7"}]
    assert [(t.task, t.status) for t in data.tasks] == [(task("c1"), "open")]
    [webhook] = data.webhook_calls
    assert (webhook["id"], webhook["status"]) == ("call_c1", "pending")
    assert webhook["body"] == '{"email": "ana@example.com"}'
    assert webhook["scope"]["customer"]["first_name"] == "Ana"
    assert [(m.title, m.read_at) for m in data.inbox] == [("Hi Ana", at(3))]
    [delivery] = data.webhook_deliveries
    assert (delivery.subscription_id, delivery.event_type, delivery.customer_id) == (
        "sub_crm", "task.opened", "c1")
    assert "call Ana Lopez" in delivery.body  # the task's context, as it was sent
    assert "crm-key" not in everything(data) and "whsec_operator" not in everything(data)  # the operator's
    assert not data.is_empty


def test_an_unknown_customer_has_no_data(store):
    data = store.customer_data("nobody")

    assert data.is_empty
    assert data.profile is None
    assert (data.events, data.queued, data.enrollments, data.messages, data.consents) == ([], [], [], [], [])


# erasure


def test_after_erasure_the_pseudonyms_data_holds_nothing_personal(store):
    fill(store, "c1")

    store.erase_customer("c1", pseudonym="anon_1", now=at(60))

    text = everything(store.customer_data("anon_1"))
    assert [word for word in PERSONAL if word in text] == []
    assert '"c1"' not in text  # the customer id is gone (row ids made from it are hashes in real use)


def test_after_erasure_the_original_id_holds_nothing(store):
    fill(store, "c1")

    store.erase_customer("c1", pseudonym="anon_1", now=at(60))

    assert [d.customer_id for d in store.deliveries()] == []  # sent or pending, their copies of data go

    assert store.customer_data("c1").is_empty
    assert store.customer("c1") is None
    assert store.consents("c1") == []


def test_erasure_keeps_the_counts_and_the_aggregates(store):
    fill(store, "c1")
    fill(store, "c2", with_queued=False)
    before = store.counts()

    store.erase_customer("c1", pseudonym="anon_1", now=at(60))

    after = store.counts()
    for name in ("events", "customers", "enrollments", "messages"):
        assert after[name] == before[name], name
    assert after["queued"] == before["queued"] - 1  # never processed, so in no aggregate: deleted
    profile = store.customer("anon_1")
    assert (profile.orders_count, profile.total_spent, profile.country) == (2, 100.0, "PT")
    assert (profile.email, profile.phone, profile.traits, profile.timezone) == (None, None, {}, None)
    data = store.customer_data("anon_1")
    assert [e.properties["total"] for e, _ in data.events] == [60.0, 40.0]
    assert data.events[0][0].properties["products"] == [
        {"product_id": "p_1", "category": "skincare", "price": 60.0, "quantity": 1}
    ]
    assert [e.customer for e, _ in data.events] == [None, None]
    assert sorted((e.journey_id, e.version) for e in data.enrollments) == [("reviews", 1), ("welcome", 1)]


def test_erasure_ends_running_enrollments_cancels_pending_messages_and_drops_their_timers(store):
    fill(store, "c1")
    with store.transaction() as tx:
        assert [enrollment_id for enrollment_id, _ in tx.held_events("welcome")] == ["en_c1_run"]

    store.erase_customer("c1", pseudonym="anon_1", now=at(60))

    data = store.customer_data("anon_1")
    states = {e.id: (e.status, e.exit_reason, e.ended_at, e.waiting) for e in data.enrollments}
    assert states == {
        "en_c1_run": ("ended", "erased", at(60), None),
        "en_c1_done": ("ended", "completed", at(-30), None),
    }
    assert store.counts()["timers"] == 0
    assert [(m.status, m.error) for m in data.messages] == [
        ("undeliverable", None),
        ("cancelled", "customer erased"),
    ]
    assert store.claim_messages(at(120), 10) == []
    assert [tuple(r.evidence) for r in data.consents] == [()]
    [erased_task] = data.tasks
    assert (erased_task.status, erased_task.outcome, erased_task.task.queue) == ("cancelled", None, "support")
    assert erased_task.task.context == {"trigger": {"total": 60.0, "currency": "USD", "id": "e1",
                                                    "name": "Order Completed", "at": at(0),
                                                    "products": [{"product_id": "p_1", "category": "skincare",
                                                                  "price": 60.0, "quantity": 1}]}}
    [webhook] = data.webhook_calls
    assert (webhook["status"], webhook["body"], webhook["scope"], webhook["url"]) == (
        "cancelled", None, {}, "https://crm.example/hook"
    )
    assert store.tasks(status="open") == []
    with store.transaction() as tx:
        assert tx.held_events("welcome") == []  # nothing left to resume for an ended enrollment
    assert [(m.title, m.body, m.deep_link, m.purpose, m.read_at) for m in data.inbox] == [
        ("", "", None, "promotion", at(3))
    ]


def test_erasure_leaves_other_customers_as_they_were(store):
    fill(store, "c1")
    fill(store, "c2")
    before = store.customer_data("c2")

    store.erase_customer("c1", pseudonym="anon_1", now=at(60))

    assert store.customer_data("c2") == before


def test_erasure_is_recorded_without_the_customers_identity(store):
    fill(store, "c1")

    erasure = store.erase_customer("c1", pseudonym="anon_1", now=at(60))

    assert store.erasures() == [erasure]
    assert (erasure.pseudonym, erasure.erased_at) == ("anon_1", at(60))
    assert erasure.counts == {"customers": 1, "events": 2, "enrollments": 2, "timers": 1, "tasks": 1,
                              "webhook_calls": 1, "inbox": 1, "messages": 2, "consents": 1,
                              "queued_events_deleted": 1, "webhook_deliveries_deleted": 1}
    assert "c1" not in json.dumps(asdict(erasure), default=str)


def test_erasing_an_unknown_customer_changes_nothing(store):
    fill(store, "c1")

    assert store.erase_customer("nobody", pseudonym="anon_1", now=at(60)) is None
    assert store.erasures() == []


def test_erasing_into_a_pseudonym_in_use_is_refused(store):
    fill(store, "c1")
    fill(store, "c2")

    with pytest.raises(ValueError, match="in use"):
        store.erase_customer("c1", pseudonym="c2", now=at(60))

    assert store.customer("c1").email == "ana@example.com"

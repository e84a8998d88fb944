"""Outbound webhook subscriptions and deliveries, as every store keeps them: subscriptions created, read,
changed and removed; deliveries written with the change they report, claimed with a lease, recorded."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.effects import OpenTask, SendMessage
from onboardflow.core.model import Customer
from onboardflow.core.outbound import (
    OutboundEvent,
    Subscription,
    delivery_id,
    delivery_of,
    message_sent,
)
from onboardflow.ports import Changes, SubscriptionNotFound

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def subscription(sub_id: str = "sub_1", *events: str, minutes: float = 0, **fields) -> Subscription:
    return Subscription(id=sub_id, url=f"https://hooks.example/{sub_id}", events=events or ("*",),
                        secret=SECRET, created_at=at(minutes), **fields)


def event(event_id: str = "e1", type: str = "task.opened", minutes: float = 0, customer_id: str | None = "c1"
          ) -> OutboundEvent:
    data = {"n": event_id, "at": "2026-03-01T10:00:00Z"}
    return OutboundEvent(event_id, type, at(minutes), data, customer_id)


def publish(store, *events: OutboundEvent) -> None:
    with store.transaction() as tx:
        tx.apply(Changes(outbound=list(events)))


def ids(deliveries) -> list[tuple[str, str]]:
    return [(d.subscription_id, d.event_id) for d in deliveries]


# subscriptions


def test_a_created_subscription_reads_back_whole(store):
    created = store.create_subscription(
        subscription("sub_1", "message.sent", "task.opened", description="crm"))

    assert store.subscription("sub_1") == created
    assert store.subscriptions() == [created]
    assert created.events == ("message.sent", "task.opened")
    assert store.subscription("sub_nope") is None


def test_subscriptions_are_listed_oldest_first(store):
    store.create_subscription(subscription("sub_b", minutes=5))
    store.create_subscription(subscription("sub_a", minutes=9))
    store.create_subscription(subscription("sub_c", minutes=1))

    assert [s.id for s in store.subscriptions()] == ["sub_c", "sub_b", "sub_a"]


def test_a_subscription_id_is_taken_once(store):
    store.create_subscription(subscription("sub_1"))

    with pytest.raises(ValueError, match="exists already"):
        store.create_subscription(subscription("sub_1", "task.opened"))
    assert store.subscription("sub_1").events == ("*",)


def test_updating_writes_every_field_but_the_creation_time(store):
    store.create_subscription(subscription("sub_1"))
    changed = replace(subscription("sub_1", "message.failed"), url="https://new.example/h", description="new",
                      created_at=at(60))

    stored = store.update_subscription(changed)

    assert stored == replace(changed, created_at=at(0))
    assert store.subscription("sub_1") == stored


def test_updating_an_unknown_subscription_says_so(store):
    with pytest.raises(SubscriptionNotFound, match="no subscription 'sub_x'"):
        store.update_subscription(subscription("sub_x"))


def test_disabling_fails_the_pending_deliveries_with_the_reason_and_keeps_finished_ones(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("e1"), event("e2", minutes=1))
    [done] = [d for d in store.deliveries() if d.event_id == "e1"]
    store.record_attempt(done.id, status="delivered", at=at(1), attempts=1, response_status=200)

    store.update_subscription(subscription("sub_1", enabled=False, disabled_reason="410 Gone",
                                           disabled_at=at(5)))

    by_event = {d.event_id: d for d in store.deliveries()}
    assert (by_event["e1"].status, by_event["e1"].error) == ("delivered", None)
    assert by_event["e2"].status == "failed"
    assert by_event["e2"].error == "not sent: the subscription was disabled (410 Gone)"
    assert by_event["e2"].finished_at == at(5)
    assert store.claim_deliveries(at(60), 10) == []


def test_deleting_removes_the_subscription_and_its_deliveries(store):
    store.create_subscription(subscription("sub_1"))
    store.create_subscription(subscription("sub_2"))
    publish(store, event("e1"))

    assert store.delete_subscription("sub_1") is True
    assert store.delete_subscription("sub_1") is False
    assert [s.id for s in store.subscriptions()] == ["sub_2"]
    assert ids(store.deliveries()) == [("sub_2", "e1")]


# deliveries written with the change


def test_an_event_goes_to_each_enabled_subscription_that_wants_its_type(store):
    store.create_subscription(subscription("sub_all"))
    store.create_subscription(subscription("sub_tasks", "task.opened", "task.resolved"))
    store.create_subscription(subscription("sub_msgs", "message.sent"))
    store.create_subscription(
        subscription("sub_off", enabled=False, disabled_reason="by hand", disabled_at=T0))

    publish(store, event("e1", "task.opened"), event("e2", "journey.published", customer_id=None))

    assert sorted(ids(store.deliveries())) == [("sub_all", "e1"), ("sub_all", "e2"), ("sub_tasks", "e1")]
    delivery = next(d for d in store.deliveries() if d.subscription_id == "sub_tasks")
    assert delivery.id == delivery_id("sub_tasks", "e1")  # the webhook-id, the same on every store
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("pending", 0, at(0))
    assert (delivery.event_type, delivery.customer_id, delivery.created_at) == ("task.opened", "c1", at(0))
    assert json.loads(delivery.body) == {"type": "task.opened", "timestamp": "2026-03-01T10:00:00Z",
                                         "data": {"n": "e1", "at": "2026-03-01T10:00:00Z"}}


def test_the_same_event_written_again_is_one_delivery(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("e1"))
    [first] = store.deliveries()
    store.record_attempt(first.id, status="delivered", at=at(1), attempts=1, response_status=204)

    publish(store, event("e1"))

    [again] = store.deliveries()
    assert again.status == "delivered"  # not a new pending one


def test_no_subscription_no_delivery(store):
    publish(store, event("e1"))

    assert store.deliveries() == []


def test_a_recorded_message_writes_its_event_in_the_same_transaction(store):
    message = SendMessage("msg_a", "enr_1", "welcome", 1, "c1", "hello", ("email",), "welcome",
                          "transactional", at(0))
    store.create_subscription(subscription("sub_1", "message.sent"))
    with store.transaction() as tx:
        tx.apply(Changes(messages={message.message_id: message}))
    sent = message_sent(message, channel="email", provider_id="p1", at=at(1))

    store.record_delivery("msg_a", status="delivered", channel="email", at=at(1), outbound=[sent])
    with pytest.raises(KeyError):  # an unknown message: nothing is written, not even the event
        store.record_delivery("msg_nope", status="delivered", channel="email", at=at(1),
                              outbound=[replace(sent, id="msg_nope:sent")])

    assert ids(store.deliveries()) == [("sub_1", "msg_a:sent")]


def test_resolving_a_task_writes_task_resolved_once(store):
    store.create_subscription(subscription("sub_1", "task.resolved"))
    task = OpenTask("task_1", "enr_1", "recovery", 2, "c1", "hand-off", "support", "late", "high", at(60),
                    at(0))
    with store.transaction() as tx:
        tx.apply(Changes(tasks={task.task_id: task}))

    store.resolve_task("task_1", outcome="refunded", at=at(30), by="agent@shop.example")
    with pytest.raises(ValueError):
        store.resolve_task("task_1", outcome="again", at=at(31))

    [delivery] = store.deliveries()
    body = json.loads(delivery.body)
    assert body["type"] == "task.resolved"
    assert (body["data"]["outcome"], body["data"]["resolved_by"]) == ("refunded", "agent@shop.example")
    assert body["timestamp"] == "2026-03-01T10:30:00Z"


def test_deliveries_are_listed_newest_first_by_status_and_subscription(store):
    store.create_subscription(subscription("sub_1"))
    store.create_subscription(subscription("sub_2", "task.opened"))
    publish(store, event("e1", minutes=1), event("e2", "message.sent", minutes=3), event("e3", minutes=2))
    store.record_attempt(delivery_id("sub_1", "e3"), status="failed", at=at(4), attempts=8, error="gone")

    assert [d.event_id for d in store.deliveries()] == ["e2", "e3", "e3", "e1", "e1"]
    assert ids(store.deliveries(status="failed")) == [("sub_1", "e3")]
    assert ids(store.deliveries(subscription_id="sub_2")) == [("sub_2", "e3"), ("sub_2", "e1")]
    assert len(store.deliveries(limit=2)) == 2


def test_deliveries_are_listed_by_customer_and_in_pages_before_a_cursor(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("e1", minutes=1), event("e2", minutes=2, customer_id="c2"), event("e3", minutes=3),
            event("e4", "journey.published", minutes=4, customer_id=None))

    assert [d.event_id for d in store.deliveries(customer_id="c1")] == ["e3", "e1"]
    first = store.deliveries(limit=2)
    assert [d.event_id for d in first] == ["e4", "e3"]
    rest = store.deliveries(before=(first[-1].created_at, first[-1].id))
    assert [d.event_id for d in rest] == ["e2", "e1"]


def test_a_rotated_secret_reads_back_with_the_one_it_replaced_and_its_end(store):
    store.create_subscription(subscription("sub_1"))
    rotated = store.subscription("sub_1").rotated("whsec_bmV3LXNlY3JldC1mb3ItdGVzdHMtMDEyMzQ1", now=at(0),
                                                  grace=timedelta(hours=24))

    store.update_subscription(rotated)

    again = store.subscription("sub_1")
    assert (again.secret, again.previous_secret) == (rotated.secret, SECRET)
    assert again.previous_secret_until == at(24 * 60)
    assert again.signing_secrets(at(60)) == (rotated.secret, SECRET)
    assert again.signing_secrets(at(24 * 60)) == (rotated.secret,)


def test_added_deliveries_are_counted_once(store):
    store.create_subscription(subscription("sub_1"))
    delivery = delivery_of(event("e_test", "webhook.test"), "sub_1")

    assert store.add_deliveries([delivery]) == 1
    assert store.add_deliveries([delivery]) == 0
    assert store.deliveries() == [delivery]


# claiming and recording


def test_claiming_takes_due_deliveries_oldest_first_up_to_the_limit(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("late", minutes=30), event("e2", minutes=2), event("e1", minutes=1))

    first = store.claim_deliveries(at(10), 1)
    rest = store.claim_deliveries(at(10), 10)

    assert [d.event_id for d in first] == ["e1"]
    assert [d.event_id for d in rest] == ["e2"]  # e1 is leased, `late` not due yet


def test_a_leased_delivery_is_claimed_again_only_when_its_lease_runs_out(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("e1"))
    store.claim_deliveries(at(0), 10, lease_seconds=60)

    assert store.claim_deliveries(at(0.5), 10) == []
    assert [d.event_id for d in store.claim_deliveries(at(1), 10)] == ["e1"]


def test_deliveries_of_a_disabled_subscription_are_not_claimed(store):
    store.create_subscription(subscription("sub_1"))
    delivery = delivery_of(event("e1"), "sub_1")
    store.update_subscription(subscription("sub_1", enabled=False, disabled_reason="paused", disabled_at=T0))
    store.add_deliveries([delivery])  # a test event, say, written while it is disabled

    assert store.claim_deliveries(at(10), 10) == []


def test_a_retry_keeps_the_delivery_pending_until_its_next_attempt(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("e1"))
    [claimed] = store.claim_deliveries(at(0), 10)

    assert store.record_attempt(claimed.id, status="pending", at=at(0), attempts=1, next_attempt_at=at(5),
                                response_status=503, error="503 Service Unavailable") is True

    assert store.claim_deliveries(at(4), 10) == []
    [again] = store.claim_deliveries(at(5), 10)
    assert (again.status, again.attempts, again.response_status) == ("pending", 1, 503)
    assert again.error == "503 Service Unavailable"
    assert again.finished_at is None


def test_a_delivery_or_a_failure_is_final(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("e1"), event("e2"))

    store.record_attempt(delivery_id("sub_1", "e1"), status="delivered", at=at(1), attempts=2,
                         response_status=200)
    store.record_attempt(delivery_id("sub_1", "e2"), status="failed", at=at(2), attempts=8, error="gave up")

    by_event = {d.event_id: d for d in store.deliveries()}
    assert (by_event["e1"].status, by_event["e1"].finished_at, by_event["e1"].next_attempt_at) == (
        "delivered", at(1), None)
    assert (by_event["e2"].status, by_event["e2"].error, by_event["e2"].attempts) == ("failed", "gave up", 8)
    assert store.claim_deliveries(at(600), 10) == []


def test_recording_needs_a_known_status_and_a_retry_time(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, event("e1"))
    known = delivery_id("sub_1", "e1")

    with pytest.raises(ValueError, match="one of pending, delivered, failed, not 'done'"):
        store.record_attempt(known, status="done", at=at(1), attempts=1)
    with pytest.raises(ValueError, match="needs next_attempt_at"):
        store.record_attempt(known, status="pending", at=at(1), attempts=1)
    assert store.record_attempt("msg_gone", status="failed", at=at(1), attempts=1) is False
    assert store.deliveries()[0].status == "pending"


def test_claimers_at_the_same_time_never_get_the_same_delivery(store):
    store.create_subscription(subscription("sub_1"))
    publish(store, *(event(f"e{n:02d}", minutes=n / 100) for n in range(40)))
    claimed: list[str] = []

    def claim() -> None:
        while batch := store.claim_deliveries(at(10), 3):
            claimed.extend(d.event_id for d in batch)

    workers = [threading.Thread(target=claim) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(claimed) == [f"e{n:02d}" for n in range(40)]


def test_erasing_a_customer_deletes_their_deliveries_and_keeps_the_others(store):
    store.create_subscription(subscription("sub_1"))
    with store.transaction() as tx:
        tx.apply(Changes(customers={"c1": Customer("c1", email="ana@example.com")},
                         outbound=[event("e1", customer_id="c1"), event("e2", customer_id="c2"),
                                   event("e3", "journey.published", customer_id=None)]))
    store.record_attempt(delivery_id("sub_1", "e1"), status="delivered", at=at(1), attempts=1)

    erasure = store.erase_customer("c1", pseudonym="anon_1", now=at(5))

    assert erasure.counts["webhook_deliveries_deleted"] == 1
    assert sorted(d.event_id for d in store.deliveries()) == ["e2", "e3"]
    assert sorted(d.event_id for d in store.claim_deliveries(at(10), 10)) == ["e2", "e3"]

"""Outbound webhooks end to end: a real engine run on SQLite makes onboardflow's events, the deliverer POSTs
them over real HTTP to a receiver on a local socket, which checks signatures with the Standard Webhooks
library the way a subscriber's endpoint would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from test_webhook_step import Received, Receiver, Reply  # tests/integration is on sys.path

from onboardflow.channels.recording import RecordingChannel
from onboardflow.core.model import Event
from onboardflow.core.outbound import EVENT_TYPES, RETRY_SCHEDULE, delivery_id
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import SystemClock, VirtualClock
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.engine.worker import run_worker
from onboardflow.messages.loading import templates_from_texts
from onboardflow.outbound.deliverer import Deliverer, DeliveryRules
from onboardflow.outbound.subscriptions import create_subscription, enable_subscription, rotate_secret

pytestmark = pytest.mark.timeout(60)

JOURNEY = """\
id: check-in
name: Check in
owner: cs@shop.example
trigger: {event: Order Completed}
goal: {event: Order Completed, where: event.order_id != trigger.order_id}
steps:
  - id: welcome
    send: {channel: email, template: welcome, purpose: transactional}
  - id: hand-off
    escalate: {queue: support, reason: first order check-in, priority: high, due: 4h, wait: true,
               on_outcome: {called: done}, context: {note: call them}}
  - {id: done, exit: completed}
"""
TEMPLATES = {"welcome": 'email:\n  default:\n    subject: "Thanks"\n    text: "Order {{ trigger.order_id }}"'}


class Shop:
    """The engine and dispatcher on SQLite, a virtual clock starting at the real time (a receiver checks
    that a signature's timestamp is within five minutes of its own clock), and the deliverer."""

    def __init__(self, store, receiver: Receiver, http: httpx.Client) -> None:
        self.store = store
        self.clock = VirtualClock(SystemClock().now().replace(microsecond=0))
        self.engine = Engine(store, clock=self.clock)
        self.email = RecordingChannel("email")
        self.dispatcher = Dispatcher(store, self.engine.catalog, {"email": self.email},
                                     templates=templates_from_texts(TEMPLATES))
        self.receiver = receiver
        self.http = http
        self.deliverer = self.deliverer_with()

    def deliverer_with(self, **rules) -> Deliverer:
        return Deliverer(self.store, clock=self.clock, http=self.http,
                         rules=DeliveryRules(**{"allow_private": True, "timeout": 2.0, **rules}))

    def subscribe(self, events: str = "*", url: str | None = None):
        return create_subscription(store=self.store, now=self.clock.now(), events=events,
                                   url=url or self.receiver.url + "/hooks")

    def publish(self) -> None:
        self.engine.publish(load_journey(JOURNEY, source="check-in.yaml"))

    def order(self, customer_id: str, order_id: str) -> Event:
        event = Event(f"{customer_id}-{order_id}", "Order Completed", customer_id, self.clock.now(),
                      {"order_id": order_id, "total": 60.0}, {"email": f"{customer_id}@example.com"})
        self.engine.ingest([event])
        return event

    def deliver(self):
        return self.deliverer.deliver_due()

    def one(self):
        [delivery] = self.store.deliveries()
        return delivery


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


@pytest.fixture
def shop(sqlite_store, receiver, http) -> Shop:
    return Shop(sqlite_store, receiver, http)


def signature_holds(request: Received, secret: str) -> bool:
    """The signature checked as the library does, but at any age: the tests jump the clock hours ahead."""
    headers = request.headers
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], at, request.body.decode())
    return expected in headers["webhook-signature"].split(" ")


def test_every_event_type_of_a_real_run_arrives_signed(shop, receiver):
    subscription = shop.subscribe()
    shop.publish()
    shop.order("c1", "o1")
    shop.dispatcher.dispatch_due(now=shop.clock.now())
    shop.email.fail_next(permanent=True, reason="mailbox does not exist")  # c2's welcome
    shop.order("c2", "o1")
    shop.dispatcher.dispatch_due(now=shop.clock.now())
    [task] = shop.store.tasks(customer_id="c1")
    shop.engine.resolve_task(task.task.task_id, outcome="called", by="agent@shop.example")
    shop.order("c2", "o2")  # the goal: a second order

    result = shop.deliver()

    assert (result.delivered, result.retried, result.failed) == (8, 0, 0)
    bodies = [request.verified(subscription.secret) for request in receiver.received]  # raises if forged
    by_type: dict[str, list[dict]] = {}
    for body in bodies:
        by_type.setdefault(body["type"], []).append(body["data"])
    assert sorted(by_type) == sorted(EVENT_TYPES)
    assert len(by_type["task.opened"]) == 2  # c1's and c2's
    [sent], [failed] = by_type["message.sent"], by_type["message.failed"]
    assert (sent["customer_id"], sent["channel"], sent["provider_id"], sent["step_id"]) == (
        "c1", "email", "recorded-1", "welcome")
    assert (failed["customer_id"], failed["status"], failed["attempts"]) == ("c2", "undeliverable", 1)
    assert "mailbox does not exist" in failed["error"]
    opened = next(data for data in by_type["task.opened"] if data["customer_id"] == "c1")
    assert (opened["queue"], opened["priority"], opened["reason"]) == ("support", "high",
                                                                       "first order check-in")
    assert opened["context"]["note"] == "call them"
    [resolved] = by_type["task.resolved"]
    assert (resolved["task_id"], resolved["outcome"], resolved["resolved_by"]) == (
        task.task.task_id, "called", "agent@shop.example")
    [completed], [converted] = by_type["enrollment.completed"], by_type["enrollment.converted"]
    assert (completed["customer_id"], completed["journey_id"], completed["step_id"]) == (
        "c1", "check-in", "done")
    assert converted["customer_id"] == "c2"
    assert by_type["journey.published"] == [{
        "journey_id": "check-in", "journey_version": 1, "name": "Check in", "owner": "cs@shop.example",
        "digest": shop.store.live_versions()[0].digest, "published_at": bodies[0]["timestamp"]}]
    first = receiver.received[0]
    assert first.method == "POST" and first.path == "/hooks"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"].startswith("onboardflow-webhooks/")
    assert {request.headers["webhook-id"] for request in receiver.received} == {
        d.id for d in shop.store.deliveries()}
    assert all(d.status == "delivered" and d.attempts == 1 for d in shop.store.deliveries())


def test_a_subscription_gets_only_the_types_it_asked_for(shop, receiver):
    shop.subscribe("task.opened,enrollment.completed")
    shop.publish()
    shop.order("c1", "o1")

    shop.deliver()

    assert [json.loads(r.body)["type"] for r in receiver.received] == ["task.opened"]


def test_a_5xx_then_a_200_delivers_exactly_once_with_the_same_webhook_id(shop, receiver):
    receiver.answer(Reply(500, {"error": "database down"}), Reply(200, {}))
    subscription = shop.subscribe("journey.published")
    shop.publish()
    start = shop.clock.now()

    assert shop.deliver().retried == 1
    waiting = shop.one()
    assert (waiting.status, waiting.attempts, waiting.response_status) == ("pending", 1, 500)
    assert waiting.next_attempt_at == start + timedelta(seconds=5)
    assert waiting.error.startswith("127.0.0.1 answered 500 Internal Server Error")
    assert "database down" in waiting.error
    assert shop.deliver().total == 0 and len(receiver.received) == 1  # not due yet

    shop.clock.advance(timedelta(seconds=5))
    assert shop.deliver().delivered == 1
    shop.clock.advance(timedelta(days=2))
    assert shop.deliver().total == 0

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == waiting.id
    assert first.body == second.body  # the same bytes, signed afresh at each attempt's time
    assert int(second.headers["webhook-timestamp"]) == int(first.headers["webhook-timestamp"]) + 5
    assert second.verified(subscription.secret)["type"] == "journey.published"
    done = shop.one()
    assert (done.status, done.attempts, done.response_status, done.error) == ("delivered", 2, 200, None)


def test_retries_back_off_over_hours_then_the_delivery_fails(shop, receiver):
    receiver.answer(*(Reply(503, {"error": "maintenance"}) for _ in range(len(RETRY_SCHEDULE) + 1)))
    subscription = shop.subscribe("journey.published")
    shop.publish()
    start = shop.clock.now()

    assert shop.deliver().retried == 1
    for attempt, wait in enumerate(RETRY_SCHEDULE, start=1):
        pending = shop.one()
        assert pending.attempts == attempt and pending.next_attempt_at == shop.clock.now() + wait
        shop.clock.advance(wait - timedelta(seconds=1))
        assert shop.deliver().total == 0  # a second early: nothing
        shop.clock.advance(timedelta(seconds=1))
        shop.deliver()
        assert len(receiver.received) == attempt + 1

    failed = shop.one()
    assert (failed.status, failed.attempts, failed.response_status) == ("failed", 8, 503)
    assert failed.error.startswith("gave up after 8 attempt(s); the last: 127.0.0.1 answered 503")
    assert failed.finished_at - start == sum(RETRY_SCHEDULE, timedelta()) == timedelta(hours=27, minutes=35,
                                                                                      seconds=5)
    assert all(signature_holds(request, subscription.secret) for request in receiver.received)
    shop.clock.advance(timedelta(days=3))
    assert shop.deliver().total == 0


def test_a_410_disables_the_subscription_and_fails_what_was_pending(shop, receiver):
    receiver.answer(Reply(410, {"error": "gone"}))
    subscription = shop.subscribe()
    shop.publish()
    shop.order("c1", "o1")  # task.opened: pending behind journey.published

    result = shop.deliver()

    assert (result.failed, result.disabled, len(receiver.received)) == (1, 1, 1)
    disabled = shop.store.subscription(subscription.id)
    assert not disabled.enabled and disabled.disabled_at == shop.clock.now()
    assert "answered 410 Gone" in disabled.disabled_reason and "disabled" in disabled.disabled_reason
    answered, not_sent = sorted(shop.store.deliveries(), key=lambda d: d.response_status is None)
    assert (answered.status, answered.response_status, answered.attempts) == ("failed", 410, 1)
    assert (not_sent.status, not_sent.response_status, not_sent.attempts) == ("failed", None, 0)
    assert not_sent.error.startswith("not sent: the subscription was disabled (127.0.0.1 answered 410")

    shop.order("c2", "o1")  # while disabled: nothing is written for it
    assert len(shop.store.deliveries()) == 2
    enable_subscription(store=shop.store, subscription_id=subscription.id)
    shop.order("c3", "o1")
    assert shop.deliver().delivered == 1
    assert json.loads(receiver.received[-1].body)["data"]["customer_id"] == "c3"


def test_a_redirect_is_not_followed(shop, receiver):
    elsewhere = Receiver()
    try:
        receiver.answer(Reply(302, {}, headers={"Location": elsewhere.url + "/new"}))
        shop.subscribe("journey.published")
        shop.publish()

        assert shop.deliver().retried == 1

        assert len(receiver.received) == 1 and elsewhere.received == []
    finally:
        elsewhere.close()
    delivery = shop.one()
    assert (delivery.status, delivery.response_status) == ("pending", 302)
    assert "redirects are not followed" in delivery.error and elsewhere.url + "/new" in delivery.error


def test_a_receiver_too_slow_to_answer_is_tried_again(shop, receiver):
    receiver.answer(Reply(200, {}, delay=1.5))
    shop.deliverer = shop.deliverer_with(timeout=0.5)
    shop.subscribe("journey.published")
    shop.publish()

    assert shop.deliver().retried == 1
    assert shop.one().error == "127.0.0.1 did not answer within 0.5s"


def test_without_the_setting_a_loopback_address_is_refused_with_the_reason(shop, receiver):
    shop.deliverer = shop.deliverer_with(allow_private=False)
    shop.subscribe("journey.published")
    shop.subscribe("journey.published", url=receiver.url.replace("127.0.0.1", "localhost") + "/by-name")
    shop.publish()

    result = shop.deliver()

    assert (result.failed, result.retried, receiver.received) == (2, 0, [])
    errors = sorted(d.error for d in shop.store.deliveries())
    assert all("a loopback address" in error and "ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE=true" in error
               for error in errors)
    assert any("(localhost resolves to it)" in error for error in errors)
    assert all(d.status == "failed" and d.attempts == 1 for d in shop.store.deliveries())


def test_a_name_that_resolves_to_a_private_address_is_refused(shop, receiver):
    one_public_one_not = ["93.184.215.14", "10.1.2.3"]
    shop.deliverer = Deliverer(shop.store, clock=shop.clock, http=shop.http, rules=DeliveryRules(),
                               resolve=lambda host, port: one_public_one_not)
    shop.subscribe("journey.published", url="https://hooks.shop.example/in")
    shop.publish()

    assert shop.deliver().failed == 1
    assert shop.one().error.startswith("https://hooks.shop.example/in leads to 10.1.2.3 (hooks.shop.example "
                                       "resolves to it), a private address")


def test_the_request_goes_to_the_address_checked_with_the_name_in_the_host_header(shop, receiver):
    port = httpx.URL(receiver.url).port
    shop.deliverer = Deliverer(shop.store, clock=shop.clock, http=shop.http,
                               rules=DeliveryRules(allow_private=True),
                               resolve=lambda host, port: ["127.0.0.1"])  # no DNS knows receiver.test
    shop.subscribe("journey.published", url=f"http://receiver.test:{port}/hooks")
    shop.publish()

    assert shop.deliver().delivered == 1
    [request] = receiver.received
    assert request.headers["host"] == f"receiver.test:{port}"


def test_replaying_the_same_events_writes_no_second_delivery(shop, receiver):
    shop.subscribe()
    shop.publish()
    orders = [shop.order("c1", "o1"), shop.order("c2", "o1")]
    shop.dispatcher.dispatch_due(now=shop.clock.now())
    before = sorted((d.id, d.event_type) for d in shop.store.deliveries())

    shop.engine.ingest(orders)  # the same events again: duplicates by id
    shop.publish()  # the same content: no new version
    shop.engine.replay(orders)

    assert sorted((d.id, d.event_type) for d in shop.store.deliveries()) == before
    assert len(before) == 5  # published, two tasks opened, two messages sent
    assert shop.deliver().delivered == 5 and len(receiver.received) == 5


def test_the_worker_loop_delivers_what_the_engine_wrote(shop, receiver, http):
    subscription = shop.subscribe("task.opened")
    shop.publish()
    shop.engine.enqueue([Event("e1", "Order Completed", "c1", shop.clock.now(), {"order_id": "o1"},
                               {"email": "c1@example.com"})])

    totals = run_worker(shop.engine, shop.dispatcher, until_idle=True, poll_seconds=0, http=http,
                        delivery_rules=DeliveryRules(allow_private=True))

    assert (totals.outbound.delivered, totals.outbound.failed) == (1, 0)
    [request] = receiver.received
    assert request.verified(subscription.secret)["data"]["customer_id"] == "c1"
    assert shop.store.deliveries()[0].id == delivery_id(subscription.id, request.verified(
        subscription.secret)["data"]["task_id"] + ":opened")


def test_an_address_that_refuses_the_connection_gives_way_to_the_next(shop, receiver):
    port = httpx.URL(receiver.url).port
    shop.deliverer = Deliverer(shop.store, clock=shop.clock, http=shop.http,
                               rules=DeliveryRules(allow_private=True),
                               resolve=lambda host, port: ["127.0.0.2", "127.0.0.1"])  # nothing listens on .2
    shop.subscribe("journey.published", url=f"http://receiver.test:{port}/hooks")
    shop.publish()

    assert shop.deliver().delivered == 1
    assert len(receiver.received) == 1 and shop.one().attempts == 1


def test_a_429_or_503_with_retry_after_is_tried_when_it_says_within_the_longest_wait(shop, receiver):
    second_attempt = shop.clock.now() + timedelta(seconds=90)
    later = format_datetime(second_attempt + timedelta(minutes=3), usegmt=True)
    receiver.answer(Reply(429, {"error": "slow down"}, headers={"Retry-After": "90"}),
                    Reply(503, {"error": "maintenance"}, headers={"Retry-After": later}),
                    Reply(503, {"error": "maintenance"}, headers={"Retry-After": "9999999"}),
                    Reply(500, {"error": "oops"}, headers={"Retry-After": "1"}), Reply(200, {}))
    shop.subscribe("journey.published")
    shop.publish()
    waits = []

    for _ in range(4):
        before = shop.clock.now()
        shop.deliver()
        waits.append(shop.one().next_attempt_at - before)
        shop.clock.jump_to(shop.one().next_attempt_at)
    shop.deliver()

    # seconds; an HTTP date; a week, bounded by the schedule's longest wait; a 500's Retry-After is not heeded
    assert waits == [timedelta(seconds=90), timedelta(minutes=3), max(RETRY_SCHEDULE), RETRY_SCHEDULE[3]]
    assert (shop.one().status, shop.one().attempts) == ("delivered", 5)


def test_during_a_rotation_s_grace_period_either_secret_verifies_then_only_the_new_one(shop, receiver):
    old = shop.subscribe("journey.published")
    rotated = rotate_secret(store=shop.store, subscription_id=old.id, now=shop.clock.now(),
                            grace=timedelta(minutes=2))
    shop.publish()
    shop.deliver()
    shop.clock.advance(timedelta(minutes=2))  # the grace period is over
    shop.engine.publish(load_journey(JOURNEY.replace("Check in", "Check in again"), source="check-in.yaml"))
    shop.deliver()

    during, after = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.verified(old.secret) == during.verified(rotated.secret)  # the library, with either one
    assert during.verified(old.secret)["type"] == "journey.published"
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert after.verified(rotated.secret)["data"]["journey_version"] == 2
    with pytest.raises(WebhookVerificationError):
        after.verified(old.secret)
    assert shop.store.subscription(old.id).previous_secret == old.secret  # kept, but no longer signing

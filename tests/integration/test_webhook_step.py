"""The `webhook` step against a real HTTP receiver on a local socket, through the Engine on SQLite.

The receiver records every request and answers as each test tells it; it checks signatures the way a
customer's endpoint would, with the Standard Webhooks library.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import httpx
from test_cli import go_live  # tests/integration is on sys.path
import pytest
from rich.console import Console
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from typer.testing import CliRunner

from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.cli import app
from onboardflow.core.effects import stable_id
from onboardflow.core.model import WEBHOOK_FAILED, WEBHOOK_SUCCEEDED, Event
from onboardflow.core.validation import load_journey
from onboardflow.demo import demo_journeys, run_demo
from onboardflow.engine.clock import SystemClock, VirtualClock
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.engine.ingest import event_to_json
from onboardflow.engine.webhooks import LEASE_SECONDS, backoff, run_due_calls
from onboardflow.engine.worker import run_worker
from onboardflow.messages.loading import read_template
from onboardflow.messages.templates import TemplateSet
from onboardflow.store.sql import open_store

pytestmark = pytest.mark.timeout(60)

SECRET = "whsec_" + base64.b64encode(b"onboardflow-test-signing-key-32b").decode()
ENVIRON = {"CRM_SECRET": SECRET}
BODY = ('{"email": {{ customer.email | json }}, "order": {{ trigger.order_id | json }}, '
        '"total": {{ trigger.total }}}')
PROFILE = {"email": "ana@example.com", "country": "US", "traits": {"type": "retail"}}


def first_order(customer_id: str, at) -> Event:
    order = f"{customer_id}-o1"
    return Event(order, "Order Completed", customer_id, at, {"order_id": order, "total": 60.0}, PROFILE)


# the receiver


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # sent as JSON; bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    trickle: float = 0.0  # seconds to wait between the body's 4-byte pieces


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str = SECRET) -> Any:
        """The body, if the signature is right; WebhookVerificationError if not."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """An HTTP server on 127.0.0.1 that records each request and answers with the next reply told."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.handle_error = lambda request, address: None  # a client that gave up is no error here
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # waits for handlers still sleeping

    def _handler(receiver) -> type[BaseHTTPRequestHandler]:  # noqa: N805 - the receiver, seen from the handler
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                receiver._handle(self)

            do_PUT = do_PATCH = do_POST

            def log_message(self, *args: Any) -> None:
                return None

        return Handler

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.received.append(Received(request.command, request.path, headers, body))
        reply = self.replies.popleft() if self.replies else Reply(200, {"tier": "gold", "points": 120})
        time.sleep(reply.delay)
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            request.send_response(reply.status)
            for name, value in {**reply.headers, "content-type": "application/json"}.items():
                request.send_header(name, value)
            request.send_header("content-length", str(len(payload)))
            request.end_headers()
            pieces = [payload[i:i + 4] for i in range(0, len(payload), 4)] if reply.trickle else [payload]
            for piece in pieces:
                request.wfile.write(piece)
                request.wfile.flush()
                time.sleep(reply.trickle)
        except OSError:
            pass  # the caller timed out and hung up


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


# a journey with a webhook step, and a shop around it


def loyalty_journey(url: str, **webhook: Any):
    return load_journey(json.dumps(loyalty_document(url, **webhook)), source="loyalty.yaml")


def loyalty_document(url: str, **webhook: Any) -> dict[str, Any]:
    """Ask the CRM for the buyer's loyalty tier and thank them; apologise if the CRM fails."""
    spec = {
        "url": url + "/customers/{{ customer.id }}",
        "method": "PUT",
        "headers": {"X-Shop": "demo"},
        "body": BODY,
        "secret": "CRM_SECRET",
        "timeout": "1s",
        "retries": 2,
        "map": {"loyalty_tier": "response.tier", "points": "response.points"},
        **webhook,
    }
    return {
        "id": "loyalty",
        "name": "Loyalty sync",
        "owner": "cs@shop.example",
        "trigger": {"event": "Order Completed"},
        "acceptance": [{"max_messages": 3, "within": "7d"}],  # the demo launches it through the approval gate
        "steps": [
            {"id": "crm", "webhook": spec, "on_error": "apologise"},
            {"id": "thanks", "send": {"channel": "email", "template": "loyalty_welcome"}},
            {"id": "done", "exit": "completed"},
            {"id": "apologise", "send": {"channel": "email", "template": "sorry"}},
        ],
    }


class Shop:
    """The Engine on SQLite, on a virtual clock that starts at the real time: a receiver checks that a
    signature's timestamp is within five minutes of its own clock."""

    def __init__(self, store, receiver: Receiver, http: httpx.Client) -> None:
        self.store = store
        self.clock = VirtualClock(SystemClock().now())
        self.engine = Engine(store, clock=self.clock)
        self.receiver = receiver
        self.http = http
        self.environ = dict(ENVIRON)

    def publish(self, **webhook: Any) -> None:
        self.engine.publish(loyalty_journey(self.receiver.url, **webhook))

    def order(self, customer_id: str = "c1") -> Event:
        event = first_order(customer_id, self.clock.now())
        self.engine.ingest([event])
        return event

    def run_calls(self):
        return self.engine.run_due_calls(http=self.http, environ=self.environ)

    def call(self):
        [call] = self.store.calls()
        return call

    def sent(self) -> list[str]:
        return [row.message.step_id for row in self.store.messages("c1")]

    def events(self, name: str) -> list[str]:
        call_id = self.call().call.call_id
        kind = "succeeded" if name == WEBHOOK_SUCCEEDED else "failed"
        return [eid for eid, _ in self.store.customer_events("c1") if eid == stable_id("evt", call_id, kind)]


@pytest.fixture
def shop(sqlite_store, receiver, http) -> Shop:
    return Shop(sqlite_store, receiver, http)


# what the receiver gets, and what the journey does with the answer


def test_a_signed_call_is_answered_and_the_answer_lands_in_the_profile(shop, receiver):
    shop.publish()
    shop.order()

    made = shop.run_calls()

    assert (made.succeeded, made.retried, made.failed) == (1, 0, 0)
    [request] = receiver.received
    assert (request.method, request.path) == ("PUT", "/customers/c1")
    assert request.headers["x-shop"] == "demo" and request.headers["content-type"] == "application/json"
    assert request.verified() == {"email": "ana@example.com", "order": "c1-o1", "total": 60.0}
    with pytest.raises(WebhookVerificationError):
        request.verified("whsec_" + base64.b64encode(b"some-other-receivers-key-32bytes").decode())
    call = shop.call()
    assert request.headers["webhook-id"] == call.call.call_id
    assert (call.status, call.attempts, call.response) == ("succeeded", 1, {"tier": "gold", "points": 120})
    assert call.finished_at == shop.clock.now()
    customer = shop.store.customer("c1")
    assert (customer.traits["loyalty_tier"], customer.traits["points"]) == ("gold", 120)
    assert shop.sent() == ["thanks"]
    assert shop.store.enrollments_of("c1")[0].exit_reason == "completed"
    assert shop.run_calls().total == 0  # nothing left to call


def test_a_500_then_a_200_is_one_success_after_one_retry_with_the_same_webhook_id(shop, receiver):
    receiver.answer(Reply(500, {"error": "database down"}), Reply(200, {"tier": "silver", "points": 5}))
    shop.publish()
    shop.order()
    start = shop.clock.now()

    assert shop.run_calls().retried == 1
    waiting = shop.call()
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "answered 500" in waiting.error
    assert waiting.next_attempt_at == start + backoff(waiting.call.call_id, 1)
    assert shop.run_calls().total == 0 and len(receiver.received) == 1  # not due yet

    shop.clock.jump_to(waiting.next_attempt_at)
    assert shop.run_calls().succeeded == 1

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == waiting.call.call_id
    assert first.verified() == second.verified()
    assert (shop.call().status, shop.call().attempts) == ("succeeded", 2)
    assert shop.store.customer("c1").traits["loyalty_tier"] == "silver"
    assert shop.sent() == ["thanks"]
    assert len(shop.events(WEBHOOK_SUCCEEDED)) == 1 and shop.events(WEBHOOK_FAILED) == []


def test_a_429_is_tried_again_when_retry_after_says(shop, receiver):
    receiver.answer(Reply(429, {"error": "slow down"}, headers={"Retry-After": "120"}))
    shop.publish()
    shop.order()
    start = shop.clock.now()

    assert shop.run_calls().retried == 1
    assert shop.call().next_attempt_at == start + timedelta(seconds=120)  # longer than the back-off's 30s

    shop.clock.advance(timedelta(seconds=119))
    assert shop.run_calls().total == 0 and len(receiver.received) == 1
    shop.clock.advance(timedelta(seconds=1))
    assert shop.run_calls().succeeded == 1
    assert len(receiver.received) == 2 and shop.sent() == ["thanks"]


def test_a_receiver_that_does_not_answer_in_time_is_retried_then_the_error_path_is_taken(shop, receiver):
    receiver.answer(Reply(200, {"tier": "gold"}, delay=1.5), Reply(200, {"tier": "gold"}, delay=1.5))
    shop.publish(retries=1)
    shop.order()

    assert shop.run_calls().retried == 1
    assert "did not answer within 1s" in shop.call().error
    shop.clock.jump_to(shop.call().next_attempt_at)
    assert shop.run_calls().failed == 1

    assert len(receiver.received) == 2
    call = shop.call()
    assert (call.status, call.attempts) == ("failed", 2)
    assert call.error == "127.0.0.1 did not answer within 1s; gave up after 2 attempt(s) (retries: 1)"
    assert shop.sent() == ["apologise"]
    assert "loyalty_tier" not in shop.store.customer("c1").traits
    assert len(shop.events(WEBHOOK_FAILED)) == 1


def test_an_answer_that_trickles_in_past_the_time_out_is_a_time_out(shop, receiver):
    receiver.answer(Reply(200, {"tier": "gold"}, trickle=0.45))  # each piece in time, the whole not
    shop.publish()
    shop.order()

    assert shop.run_calls().retried == 1
    assert shop.call().error == "127.0.0.1 did not answer within 1s"


def test_a_404_fails_at_once_and_takes_the_error_path(shop, receiver):
    receiver.answer(Reply(404, {"error": "no such customer"}))
    shop.publish()
    shop.order()

    assert shop.run_calls().failed == 1

    assert len(receiver.received) == 1
    call = shop.call()
    assert (call.status, call.attempts) == ("failed", 1)
    assert call.error.startswith("127.0.0.1 answered 404 Not Found: the receiver refuses the call")
    assert "no such customer" in call.error
    assert shop.sent() == ["apologise"]


def test_a_missing_secret_variable_fails_the_call_naming_the_variable(shop, receiver):
    shop.environ = {}
    shop.publish()
    shop.order()

    assert shop.run_calls().failed == 1

    assert receiver.received == []  # an unsigned call is never sent
    assert "environment variable CRM_SECRET is not set" in shop.call().error
    assert shop.sent() == ["apologise"]


def test_a_body_that_does_not_render_to_json_fails_without_a_request(shop, receiver):
    shop.publish(body='{"email": {{ customer.email }}}')
    shop.order()

    assert shop.run_calls().failed == 1

    assert receiver.received == []
    assert "its body must render to JSON" in shop.call().error
    assert shop.sent() == ["apologise"]


def test_a_receiver_that_cannot_be_reached_is_retried(shop, http):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shop.engine.publish(loyalty_journey(f"http://127.0.0.1:{port}"))
    shop.order()

    assert shop.run_calls().retried == 1
    assert shop.call().error.startswith("could not reach 127.0.0.1: ConnectError")


def test_an_answer_that_is_not_json_succeeds_and_maps_nothing(shop, receiver):
    receiver.answer(Reply(200, b"OK"))
    shop.publish(map={})
    shop.order()

    assert shop.run_calls().succeeded == 1
    assert shop.call().response is None and shop.sent() == ["thanks"]


def test_an_answer_over_the_size_limit_is_not_kept(shop, receiver):
    receiver.answer(Reply(200, {"tier": "gold", "padding": "x" * 100_000}))
    shop.publish(map={})
    shop.order()

    assert shop.run_calls().succeeded == 1
    assert shop.call().response is None and shop.sent() == ["thanks"]


def test_a_paused_journey_gets_its_answer_when_it_resumes(shop, receiver):
    shop.publish()
    shop.order()
    shop.engine.pause("loyalty")

    assert shop.run_calls().succeeded == 1  # the call goes out; the answer is held with the journey
    assert shop.sent() == [] and "loyalty_tier" not in shop.store.customer("c1").traits

    shop.engine.resume("loyalty")
    assert shop.sent() == ["thanks"] and shop.store.customer("c1").traits["loyalty_tier"] == "gold"


def test_a_crash_after_the_answer_is_emitted_repeats_the_call_but_the_journey_moves_once(shop, receiver):
    """The answer event is emitted before the call's outcome is recorded, under an id made from the call's:
    a worker killed in between leaves the call pending, and making it again changes nothing in the journey."""
    shop.publish()
    shop.order()

    def emit_then_die(events):
        shop.engine.ingest(events)
        raise KeyboardInterrupt  # the worker is stopped before it records the outcome

    with pytest.raises(KeyboardInterrupt):
        run_due_calls(shop.store, clock=shop.clock, http=shop.http, environ=ENVIRON, emit=emit_then_die)
    assert (shop.call().status, shop.sent()) == ("pending", ["thanks"])
    assert shop.run_calls().total == 0  # leased to the worker that died, for now

    shop.clock.advance(timedelta(seconds=LEASE_SECONDS))
    assert shop.run_calls().succeeded == 1

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the receiver can drop the repeat
    assert shop.call().status == "succeeded"
    assert shop.sent() == ["thanks"] and len(shop.events(WEBHOOK_SUCCEEDED)) == 1


# wired into the worker, `onboardflow run` and the demo


def test_a_worker_makes_the_call_and_runs_the_journey_on_from_the_queued_answer(shop, receiver, http):
    shop.publish()
    shop.engine.enqueue([first_order("c1", shop.clock.now())])

    thanks, problems, _ = read_template('email:\n  default:\n    subject: "Welcome to {{ customer.loyalty_tier }}"\n'
                                        '    text: "Your tier: {{ customer.loyalty_tier }}"\n',
                                        name="loyalty_welcome", source="loyalty_welcome.yaml")
    assert thanks is not None, problems
    dispatcher = Dispatcher(shop.store, shop.engine.catalog, sandbox_channels(),
                            templates=TemplateSet({"loyalty_welcome": thanks}))
    totals = run_worker(shop.engine, dispatcher, until_idle=True, poll_seconds=0, http=http, environ=ENVIRON)

    assert totals.calls.succeeded == 1 and len(receiver.received) == 1
    assert receiver.received[0].verified()["order"] == "c1-o1"
    delivered = [(row.message.step_id, row.status) for row in shop.store.messages("c1")]
    assert delivered == [("thanks", "delivered")]
    assert shop.store.customer("c1").traits["loyalty_tier"] == "gold"


def test_onboardflow_run_makes_webhook_calls_with_the_secret_from_the_environment(
    receiver, tmp_path, monkeypatch
):
    monkeypatch.setenv("ONBOARDFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/onboardflow.db")
    monkeypatch.setenv("CRM_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loyalty.yaml").write_text(json.dumps(loyalty_document(receiver.url)))
    order = first_order("c1", SystemClock().now())
    (tmp_path / "events.jsonl").write_text(json.dumps(event_to_json(order)) + "\n")
    runner = CliRunner()

    go_live(f"sqlite:///{tmp_path}/onboardflow.db", tmp_path / "loyalty.yaml")
    for args in (["ingest", "--queue", "events.jsonl"],
                 ["run", "--until-idle", "--poll", "0", "--quiet"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output

    [request] = receiver.received
    assert request.verified() == {"email": "ana@example.com", "order": "c1-o1", "total": 60.0}
    store = open_store(f"sqlite:///{tmp_path}/onboardflow.db")
    try:
        assert [call.status for call in store.calls()] == ["succeeded"]
        assert [row.message.step_id for row in store.messages("c1")] == ["thanks"]
    finally:
        store.close()


def test_the_demo_runs_a_journey_with_a_webhook_step(receiver, tmp_path):
    url = f"sqlite:///{tmp_path}/demo.db"
    output = StringIO()

    run_demo(Console(file=output, width=120), customers=12, days=10, seed=7, database_url=url,
             journeys=[*demo_journeys(), loyalty_journey(receiver.url)], environ=ENVIRON)

    store = open_store(url)
    try:
        calls = store.calls()
        thanked = [row for row in store.messages() if row.message.journey_id == "loyalty"]
    finally:
        store.close()
    assert calls and len(receiver.received) == len(calls)
    assert {call.status for call in calls} == {"succeeded"}
    assert {row.message.step_id for row in thanked} == {"thanks"} and len(thanked) == len(calls)
    assert f"webhook calls: {len(calls)} succeeded, 0 failed" in output.getvalue()

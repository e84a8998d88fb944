"""A task's way out to a helpdesk and its resolution back, over real sockets: a fake Zendesk (its ticket API,
token auth, external ids) and a Standard Webhooks receiver on 127.0.0.1; resolutions come back through the
API's signed webhook routes and move the journey that waits on the task."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from standardwebhooks import Webhook

from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.engine import Engine
from onboardflow.escalation.handoff import hand_off_due
from onboardflow.escalation.helpdesk import build_helpdesk
from onboardflow.escalation.rules import read_rules

from .conftest import T0, make_api, settings

ZENDESK_TOKEN = "zd-token-" + "t" * 20
ZENDESK_SECRET = "zendesk-webhook-signing-secret"
HELPDESK_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
REFUND_DESK = """
id: refund-desk
name: Refund desk
owner: cs@shop.example
trigger: {event: Refund Requested}
steps:
  - id: review
    escalate: {queue: refunds, reason: refund requested, priority: high, wait: true,
               on_outcome: {refunded: sorry}}
  - {id: done, exit: completed}
  - id: sorry
    send: {channel: email, template: refund_apology}
    goto: done
"""


class LocalServer:
    """A real HTTP server on 127.0.0.1 in a thread: `answer` (method, path, headers, body) -> status, JSON."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        raise NotImplementedError

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer = fake.answer(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _reply  # noqa: N815 - http.server's names

            def log_message(self, format, *args):  # noqa: A002
                return None

        return Handler

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeZendesk(LocalServer):
    """Zendesk's ticket API as far as onboardflow uses it: token auth, create, find by external id."""

    def __init__(self) -> None:
        super().__init__()
        self.tickets: list[dict] = []
        self.requests: list[tuple[str, str, dict]] = []
        self.fail_with: list[int] = []  # statuses to answer the next POSTs with
        self.credentials = (
            "Basic " + base64.b64encode(f"agent@shop.example/token:{ZENDESK_TOKEN}".encode()).decode()
        )

    def answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        self.requests.append((method, path, headers))
        if headers.get("authorization") != self.credentials:
            return 401, {"error": "Couldn't authenticate you"}
        url = urlsplit(path)
        if url.path != "/api/v2/tickets.json":
            return 404, {"error": "InvalidEndpoint"}
        if method == "GET":
            wanted = parse_qs(url.query).get("external_id", [None])[0]
            return 200, {"tickets": [t for t in self.tickets if t["external_id"] == wanted]}
        if self.fail_with:
            return self.fail_with.pop(0), {"error": "scripted"}
        ticket = {**json.loads(body)["ticket"], "id": 9000 + len(self.tickets) + 1, "status": "new"}
        self.tickets.append(ticket)
        return 201, {"ticket": ticket}


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        yield fake


def zendesk_settings(zendesk: FakeZendesk) -> dict:
    return {
        "helpdesk": "zendesk",
        "zendesk_url": zendesk.url,
        "zendesk_email": "agent@shop.example",
        "zendesk_api_token": ZENDESK_TOKEN,
        "zendesk_webhook_secret": ZENDESK_SECRET,
    }


def refund_shop(store, **changes):
    api = make_api(store, **changes)
    engine = Engine(store, clock=api.clock, rules=read_rules("rules: [{rule: refund_request}]"))
    engine.publish(load_journey(REFUND_DESK))
    words = {"text": "The blender arrived cracked, I want my money back", "order_id": "o9"}
    engine.ingest([Event("e1", "Refund Requested", "c1", T0, words, {"email": "ana@example.com"})])
    return api, engine


def hand_off(api, store, **changes):
    with httpx.Client() as http:
        helpdesk = build_helpdesk(settings(**changes), http=http, clock=api.clock)
        return hand_off_due(store=store, helpdesk=helpdesk, clock=api.clock)


def zendesk_post(api, payload: dict, *, secret: str = ZENDESK_SECRET):
    body = json.dumps(payload).encode()
    stamp = "2026-03-02T09:00:00Z"
    signature = base64.b64encode(hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest())
    headers = {
        "x-zendesk-webhook-signature": signature.decode(),
        "x-zendesk-webhook-signature-timestamp": stamp,
        "content-type": "application/json",
    }
    return api.client.post("/webhooks/zendesk", content=body, headers=headers)


def test_a_task_goes_to_zendesk_and_its_solution_moves_the_journey(store, zendesk):
    api, engine = refund_shop(store, **zendesk_settings(zendesk))
    [task] = store.tasks()  # the step's task; the rule of the same reason joined it

    result = hand_off(api, store, **zendesk_settings(zendesk))

    [ticket] = zendesk.tickets
    assert result.sent == 1
    assert (ticket["external_id"], ticket["priority"], ticket["type"]) == (task.task.task_id, "high", "task")
    assert ticket["subject"] == "[refunds] refund requested: customer c1"
    assert "> The blender arrived cracked, I want my money back" in ticket["comment"]["body"]
    assert "journey refund-desk v1: active at step review" in ticket["comment"]["body"]
    assert ticket["requester"]["email"] == "ana@example.com"
    assert store.task(task.task.task_id).external_id == str(ticket["id"])
    assert hand_off(api, store, **zendesk_settings(zendesk)).sent == 0  # sent once

    solved = zendesk_post(
        api,
        {
            "external_id": task.task.task_id,
            "ticket_id": ticket["id"],
            "status": "solved",
            "outcome": "refunded",
            "assignee": "agent@shop.example",
        },
    )

    assert solved.status_code == 200, solved.text
    assert solved.json() == {"task_id": task.task.task_id, "status": "resolved", "outcome": "refunded"}
    engine.work(partitions=64)  # the queued Task Resolved (every partition: PostgreSQL claims at random)
    assert [row.message.step_id for row in store.messages("c1")] == ["sorry"]
    assert store.task(task.task.task_id).assignee == "agent@shop.example"


def test_a_redelivered_solution_is_accepted_once_and_a_different_one_refused(store, zendesk):
    api, _ = refund_shop(store, **zendesk_settings(zendesk))
    task_id = store.tasks()[0].task.task_id
    payload = {"external_id": task_id, "status": "solved", "outcome": "refunded"}

    assert zendesk_post(api, payload).status_code == 200
    again = zendesk_post(api, payload)
    other = zendesk_post(api, {**payload, "outcome": "declined"})

    assert again.json()["already"] is True
    assert other.status_code == 409
    assert "resolved already" in other.json()["detail"]
    assert store.counts()["queued"] == 1  # one Task Resolved


def test_a_ticket_not_solved_yet_changes_nothing(store, zendesk):
    api, _ = refund_shop(store, **zendesk_settings(zendesk))
    task_id = store.tasks()[0].task.task_id

    answer = zendesk_post(api, {"external_id": task_id, "status": "pending"})

    assert answer.json()["ignored"] is True
    assert store.task(task_id).status == "open"


def test_unsigned_unknown_or_unconfigured_resolutions_are_refused(store, zendesk):
    api, _ = refund_shop(store, **zendesk_settings(zendesk))
    task_id = store.tasks()[0].task.task_id

    forged = zendesk_post(api, {"external_id": task_id, "status": "solved"}, secret="guess")
    unknown = zendesk_post(api, {"external_id": "task_nope", "status": "solved"})
    nameless = zendesk_post(api, {"status": "solved"})
    unconfigured = make_api(store).client.post("/webhooks/zendesk", content=b"{}")

    assert (forged.status_code, unknown.status_code, nameless.status_code) == (401, 404, 422)
    assert unconfigured.status_code == 503
    assert "ONBOARDFLOW_ZENDESK_WEBHOOK_SECRET" in unconfigured.json()["detail"]
    assert store.task(task_id).status == "open"


def test_a_hand_off_retried_after_a_crash_finds_the_ticket_it_made(store, zendesk):
    api, _ = refund_shop(store, **zendesk_settings(zendesk))
    [task] = store.tasks()
    zendesk.tickets.append({"id": 4242, "external_id": task.task.task_id})  # made, but never recorded

    result = hand_off(api, store, **zendesk_settings(zendesk))

    assert result.sent == 1
    assert [method for method, _, _ in zendesk.requests] == ["GET"]
    assert store.task(task.task.task_id).external_id == "4242"


def test_a_zendesk_outage_is_retried_and_a_bad_token_is_given_up(store, zendesk):
    api, _ = refund_shop(store, **zendesk_settings(zendesk))
    task_id = store.tasks()[0].task.task_id
    zendesk.fail_with = [503]

    first = hand_off(api, store, **zendesk_settings(zendesk))
    api.clock.advance(timedelta(hours=1))
    wrong = {**zendesk_settings(zendesk), "zendesk_api_token": "wrong"}
    second = hand_off(api, store, **wrong)

    assert (first.retrying, first.sent) == (1, 0)
    assert (second.failed, second.sent) == (1, 0)
    assert store.task(task_id).handoff_error.startswith("zendesk: Zendesk answered 401")
    api.clock.advance(timedelta(days=7))
    assert hand_off(api, store, **zendesk_settings(zendesk)).sent == 0  # given up: a person looks at it


class Receiver(LocalServer):
    """A helpdesk that takes signed task webhooks and checks each signature with the Standard Webhooks
    library (by hand, as the library's own check reads the wall clock and the test runs on a virtual one)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict] = []
        self.refused = 0

    def answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        try:
            moment = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
            expected = Webhook(HELPDESK_SECRET).sign(headers["webhook-id"], moment, body.decode())
            assert (method, path, headers["webhook-signature"]) == ("POST", "/hooks", expected)
        except (AssertionError, KeyError, ValueError):
            self.refused += 1
            return 401, {"error": "bad signature"}
        self.received.append(json.loads(body))
        return 200, {"id": f"HD-{len(self.received)}"}


def test_the_generic_helpdesk_gets_a_signed_task_and_resolves_it_through_the_signed_route(store):
    with Receiver() as receiver, httpx.Client() as http:
        changes = {"helpdesk": "webhook", "helpdesk_url": f"{receiver.url}/hooks",
                   "helpdesk_secret": HELPDESK_SECRET}
        api, engine = refund_shop(store, **changes)
        [task] = store.tasks()
        helpdesk = build_helpdesk(settings(**changes), http=http, clock=api.clock)
        result = hand_off_due(store=store, helpdesk=helpdesk, clock=api.clock)

    assert (result.sent, receiver.refused) == (1, 0)
    [sent] = receiver.received
    assert (sent["type"], sent["task"]["id"], sent["context"]["text"]) == (
        "task.opened",
        task.task.task_id,
        "The blender arrived cracked, I want my money back",
    )
    assert store.task(task.task.task_id).external_id == "HD-1"

    body = json.dumps({"task_id": task.task.task_id, "outcome": "refunded", "by": "bo@shop.example"})
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(T0.timestamp())),
        "webhook-signature": Webhook(HELPDESK_SECRET).sign("msg_1", T0, body),
    }
    resolved = api.client.post("/webhooks/helpdesk", content=body, headers=headers)
    forged = api.client.post(
        "/webhooks/helpdesk", content=body, headers={**headers, "webhook-signature": "v1,bm90IGl0"}
    )
    stale = api.client.post(
        "/webhooks/helpdesk",
        content=body,
        headers={
            **headers,
            "webhook-timestamp": str(int((T0 - timedelta(hours=1)).timestamp())),
            "webhook-signature": Webhook(HELPDESK_SECRET).sign("msg_1", T0 - timedelta(hours=1), body),
        },
    )

    assert resolved.status_code == 200, resolved.text
    assert (forged.status_code, stale.status_code) == (401, 401)
    engine.work(partitions=64)
    assert [row.message.step_id for row in store.messages("c1")] == ["sorry"]

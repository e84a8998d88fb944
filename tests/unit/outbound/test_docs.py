"""docs/outbound-webhooks.md says what onboardflow sends: its verification example runs on bodies
onboardflow signed, and its example payloads have exactly the fields the events are made with."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from onboardflow.core.effects import OpenTask, SendMessage
from onboardflow.core.model import Enrollment
from onboardflow.core.outbound import (
    EVENT_TYPES,
    WEBHOOK_TEST,
    OutboundEvent,
    delivery_of,
    enrollment_events,
    journey_published,
    message_failed,
    message_sent,
    task_opened,
    task_resolved,
    webhook_test_event,
)
from onboardflow.engine.webhook_request import signed as standard_headers

DOC = (Path(__file__).parents[3] / "docs" / "outbound-webhooks.md").read_text(encoding="utf-8")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def made_events() -> dict[str, OutboundEvent]:
    """One event of each type, as the engine, the dispatcher and the store make them."""
    message = SendMessage("msg_1.1", "enr_1", "welcome", 3, "c_42", "welcome", ("email",), "welcome",
                          "transactional", T0)
    task = OpenTask("task_1.4", "enr_1", "welcome", 3, "c_42", "late", "support", "late", "high",
                    T0 + timedelta(hours=48), T0, {"trigger": {"order_id": "o_9"}})
    running = Enrollment("enr_1", "welcome", 3, "c_42", {}, T0 - timedelta(days=9))
    ended = Enrollment("enr_1", "welcome", 3, "c_42", {}, T0, step_id="done", status="ended",
                       exit_reason="completed", ended_at=T0, goal_reached_at=T0)
    events = [
        message_sent(message, channel="email", provider_id="p1", at=T0),
        message_failed(message, status="parked", channel="email", error="503", attempts=5, at=T0),
        task_opened(task), task_resolved(task, outcome="done", by=None, at=T0),
        *enrollment_events(running, ended),
        journey_published(journey_id="welcome", version=3, name="Welcome", owner="cs@shop.example",
                          digest="abc", at=T0),
        webhook_test_event("test_1", "sub_1", at=T0),
    ]
    return {event.type: event for event in events}


def documented_examples() -> dict[str, dict]:
    found = re.findall(r"^### ([a-z.]+)\n\n```json\n(.*?)\n```", DOC, flags=re.MULTILINE | re.DOTALL)
    return {heading: json.loads(text) for heading, text in found}


def test_every_event_type_has_an_example_with_the_fields_onboardflow_sends():
    examples, made = documented_examples(), made_events()

    assert sorted(examples) == sorted([*EVENT_TYPES, WEBHOOK_TEST]) == sorted(made)
    for name, example in examples.items():
        assert example["type"] == name
        assert sorted(example) == ["data", "timestamp", "type"]
        assert sorted(example["data"]) == sorted(made[name].data), name
        assert sorted(json.loads(made[name].body())) == ["data", "timestamp", "type"]


def test_every_event_type_is_in_the_table():
    for name in [*EVENT_TYPES, WEBHOOK_TEST]:
        assert f"| `{name}` |" in DOC


@pytest.fixture
def receive():
    [code] = re.findall(r"```python\n(.*?)\n```", DOC, flags=re.DOTALL)
    scope: dict = {}
    exec(compile(code, "docs/outbound-webhooks.md", "exec"), scope)  # noqa: S102 - the documented example
    return scope["receive"]


def signed(now: datetime) -> tuple[bytes, dict[str, str]]:
    delivery = delivery_of(made_events()["task.opened"], "sub_1")
    headers = standard_headers(delivery.id, Webhook(SECRET), delivery.body, now)
    return delivery.body.encode(), {"content-type": "application/json", **headers}


def test_the_documented_receiver_takes_a_signed_event_once(receive):
    body, headers = signed(datetime.now(UTC))  # the library checks the timestamp against its own clock
    seen: set[str] = set()

    event = receive(body, headers, SECRET, seen)

    assert event["type"] == "task.opened" and event["data"]["task_id"] == "task_1.4"
    assert receive(body, headers, SECRET, seen) is None  # the retry of one already handled


def test_the_documented_receiver_refuses_a_changed_body_another_secret_or_an_old_request(receive):
    body, headers = signed(datetime.now(UTC))

    with pytest.raises(WebhookVerificationError):
        receive(body.replace(b"support", b"billing"), headers, SECRET, set())
    with pytest.raises(WebhookVerificationError):
        receive(body, headers, "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", set())
    old_body, old_headers = signed(datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError, match="too old"):
        receive(old_body, old_headers, SECRET, set())

"""The pure part of outbound webhooks: event bodies, who wants what, delivery ids, the retry schedule,
and which changes of an enrollment are news."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from onboardflow.core.effects import OpenTask, SendMessage
from onboardflow.core.model import Enrollment
from onboardflow.core.outbound import (
    RETRY_SCHEDULE,
    OutboundEvent,
    Subscription,
    deliveries_for,
    delivery_id,
    enrollment_events,
    message_failed,
    message_sent,
    next_retry,
    task_opened,
    task_resolved,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
MESSAGE = SendMessage("msg_1", "enr_1", "welcome", 2, "c1", "hello", ("email",), "welcome", "transactional",
                      T0)
TASK = OpenTask("task_1", "enr_1", "recovery", 1, "c1", "hand-off", "support", "late", "high",
                T0 + timedelta(hours=4), T0, {"trigger": {"at": T0, "order_id": "o1"}})
RUNNING = Enrollment("enr_1", "welcome", 2, "c1", {}, T0, step_id="wait")


def subscription(sub_id: str, *events: str, enabled: bool = True) -> Subscription:
    return Subscription(sub_id, "https://hooks.example", events, "whsec_c2VjcmV0", T0, enabled=enabled)


def test_the_body_is_type_timestamp_and_data_in_utc():
    in_paris = datetime(2026, 3, 1, 11, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    event = OutboundEvent("e1", "task.opened", in_paris, {"name": "Zoë"})

    assert json.loads(event.body()) == {"type": "task.opened", "timestamp": "2026-03-01T11:00:00Z",
                                        "data": {"name": "Zoë"}}
    assert event.body() == event.body()  # the same bytes every time: the signature covers them


def test_times_in_data_are_iso_8601_utc_whatever_their_zone():
    in_new_york = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    opened = task_opened(replace(TASK, due_at=in_new_york))

    assert opened.data["due_at"] == "2026-03-01T09:00:00Z"
    assert opened.data["context"] == {"trigger": {"at": "2026-03-01T10:00:00Z", "order_id": "o1"}}
    json.loads(opened.body())


def test_only_enabled_subscriptions_that_want_the_type_get_a_delivery():
    subscriptions = [subscription("all", "*"), subscription("tasks", "task.opened"),
                     subscription("mail", "message.sent"), subscription("off", "*", enabled=False)]

    found = deliveries_for([task_opened(TASK)], subscriptions)

    assert sorted(d.subscription_id for d in found) == ["all", "tasks"]
    assert all(d.id == delivery_id(d.subscription_id, "task_1:opened") for d in found)


def test_a_delivery_id_is_the_same_for_the_same_subscription_and_event_only():
    assert delivery_id("sub_1", "e1") == delivery_id("sub_1", "e1")
    assert len({delivery_id("sub_1", "e1"), delivery_id("sub_2", "e1"), delivery_id("sub_1", "e2")}) == 3
    assert delivery_id("sub_1", "e1").startswith("msg_")


def test_the_schedule_waits_5s_to_10h_then_gives_up():
    assert [next_retry(n) for n in range(1, 8)] == list(RETRY_SCHEDULE)
    assert next_retry(1) == timedelta(seconds=5) and next_retry(7) == timedelta(hours=10)
    assert next_retry(8) is None and next_retry(0) is None


def test_a_message_sent_and_failed_are_separate_events_and_each_failure_counts():
    sent = message_sent(MESSAGE, channel="email", provider_id="p-1", at=T0)
    first = message_failed(MESSAGE, status="parked", channel="email", error="503", attempts=5, at=T0)
    again = message_failed(MESSAGE, status="parked", channel="email", error="503", attempts=5, at=T0)
    later = message_failed(MESSAGE, status="parked", channel="email", error="503", attempts=2,
                           at=T0 + timedelta(days=1))  # sent again by hand, failed again

    assert (sent.type, first.type) == ("message.sent", "message.failed")
    assert first.id == again.id != later.id
    assert sent.data["journey_version"] == 2 and first.data["attempts"] == 5


def test_task_events_carry_the_task_and_its_resolution():
    resolved = task_resolved(TASK, outcome="refunded", by=None, at=T0 + timedelta(hours=1))

    assert resolved.type == "task.resolved" and resolved.customer_id == "c1"
    assert (resolved.data["outcome"], resolved.data["resolved_by"]) == ("refunded", None)
    assert resolved.data["resolved_at"] == "2026-03-01T11:00:00Z"


def test_completing_is_news_once():
    completed = replace(RUNNING, status="ended", exit_reason="completed", ended_at=T0 + timedelta(days=1))

    [event] = enrollment_events(RUNNING, completed)

    assert (event.type, event.id) == ("enrollment.completed", "enr_1:completed")
    assert event.at == T0 + timedelta(days=1)
    assert enrollment_events(completed, completed) == []
    assert enrollment_events(RUNNING, replace(RUNNING, step_id="next")) == []


def test_other_endings_are_not_completions():
    for reason in ("exit_rule", "timeout", "erased", "loop_limit"):
        ended = replace(RUNNING, status="ended", exit_reason=reason, ended_at=T0)
        assert enrollment_events(RUNNING, ended) == []


def test_reaching_the_goal_is_a_conversion_whether_or_not_the_enrollment_ends():
    at = T0 + timedelta(days=3)
    ending = replace(RUNNING, status="ended", exit_reason="goal_reached", ended_at=at, goal_reached_at=at)
    going_on = replace(RUNNING, goal_reached_at=at)

    assert [e.type for e in enrollment_events(RUNNING, ending)] == ["enrollment.converted"]
    assert [e.type for e in enrollment_events(RUNNING, going_on)] == ["enrollment.converted"]
    assert enrollment_events(going_on, replace(going_on, step_id="later")) == []  # it counts once
    [converted] = enrollment_events(None, going_on)  # started and converted by one event
    assert converted.data["converted_at"] == "2026-03-04T10:00:00Z"
    assert converted.data["group"] == "journey"

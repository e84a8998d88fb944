"""What the API lists and looks up, the same on every store: one message or task by id, pages of them
filtered and in a stable order after a cursor, and every stored version of a journey."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from onboardflow.core.effects import OpenTask, SendMessage
from onboardflow.core.journey import Journey
from onboardflow.ports import Changes

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def message(message_id: str, *, customer_id: str = "c1", journey_id: str = "welcome", minutes: float = 0):
    return SendMessage(message_id, f"enr_{customer_id}", journey_id, 1, customer_id, "hello",
                       ("email", "sms"), "welcome", "education", at(minutes))


def task(task_id: str, *, customer_id: str = "c1", queue: str = "support", due_hours: float = 48) -> OpenTask:
    return OpenTask(task_id, f"enr_{customer_id}", "delivery", 2, customer_id, "late", queue, "delivery late",
                    "high", T0 + timedelta(hours=due_hours), T0, {"trigger": {"order_id": "o_9"}})


def write(store, **changes) -> None:
    with store.transaction() as tx:
        tx.apply(Changes(**changes))


def ids(rows) -> list[str]:
    return [row.message.message_id if hasattr(row, "message") else row.task.task_id for row in rows]


def journey(template: str) -> Journey:
    return Journey.model_validate({
        "id": "welcome", "name": "Welcome", "owner": "cs@shop.example", "trigger": {"event": "Signed Up"},
        "steps": [{"id": "hello", "send": {"channel": "email", "template": template}}],
    })


# messages


def test_a_message_is_found_by_id_with_what_became_of_it(store):
    write(store, messages={"m1": message("m1")})
    store.record_delivery("m1", status="delivered", channel="sms", at=at(1), provider_id="SM1")

    found = store.message("m1")

    assert found.message == message("m1")
    assert (found.status, found.channel, found.delivered_at) == ("delivered", "sms", at(1))
    assert found.provider_id == "SM1"
    assert store.message("nope") is None


def test_message_pages_follow_time_then_id_and_go_on_after_the_cursor(store):
    times = [("m3", 0), ("m1", 0), ("m2", 5), ("m0", 9)]
    rows = {mid: message(mid, minutes=minutes) for mid, minutes in times}
    write(store, messages=rows)

    first = store.messages_page(limit=2)
    last = first[-1].message
    rest = store.messages_page(after=(last.at, last.message_id), limit=10)

    assert ids(first) == ["m1", "m3"]
    assert ids(rest) == ["m2", "m0"]
    assert store.messages_page(after=(at(9), "m0"), limit=10) == []


def test_message_pages_filter_by_customer_status_journey_and_the_channel_it_went_on(store):
    write(store, messages={
        "a": message("a"), "b": message("b", customer_id="c2", minutes=1),
        "c": message("c", journey_id="winback", minutes=2), "d": message("d", minutes=3),
    })
    store.record_delivery("a", status="delivered", channel="email", at=at(1))
    store.record_delivery("d", status="parked", channel="sms", at=at(4), error="gave up")

    assert ids(store.messages_page(customer_id="c2")) == ["b"]
    assert ids(store.messages_page(status="pending")) == ["b", "c"]
    assert ids(store.messages_page(journey_id="winback")) == ["c"]
    assert ids(store.messages_page(channel="sms")) == ["d"]
    assert ids(store.messages_page(customer_id="c1", status="delivered", channel="email")) == ["a"]
    assert store.messages_page(customer_id="c1", channel="push") == []


# tasks


def test_a_task_is_found_by_id_open_and_then_resolved(store):
    write(store, tasks={"t1": task("t1")})

    assert store.task("t1").task == task("t1")
    assert store.task("t1").status == "open"
    store.resolve_task("t1", outcome="refunded", at=at(30), by="agent@shop.example")
    resolved = store.task("t1")
    assert (resolved.status, resolved.outcome, resolved.resolved_at) == ("resolved", "refunded", at(30))
    assert store.task("nope") is None


def test_task_pages_go_soonest_due_first_filtered_and_after_the_cursor(store):
    write(store, tasks={
        "t1": task("t1", due_hours=24), "t2": task("t2", due_hours=24, queue="vip"),
        "t3": task("t3", customer_id="c2", due_hours=2), "t4": task("t4", due_hours=72),
    })
    store.resolve_task("t4", outcome="done", at=at(1))

    first = store.tasks_page(limit=2)
    rest = store.tasks_page(after=(first[-1].task.due_at, first[-1].task.task_id), limit=2)

    assert ids(first) == ["t3", "t1"]
    assert ids(rest) == ["t2", "t4"]
    assert ids(store.tasks_page(status="open", customer_id="c1")) == ["t1", "t2"]
    assert ids(store.tasks_page(queue="vip")) == ["t2"]
    assert ids(store.tasks_page(status="resolved")) == ["t4"]


def test_task_pages_filter_by_priority_and_reason(store):
    write(store, tasks={
        "t1": task("t1"), "t2": replace(task("t2"), priority="urgent"),
        "t3": replace(task("t3"), reason="refund asked", priority="urgent"),
    })

    assert ids(store.tasks_page(priority="urgent")) == ["t2", "t3"]
    assert ids(store.tasks_page(reason="delivery late")) == ["t1", "t2"]
    assert ids(store.tasks_page(priority="urgent", reason="refund asked")) == ["t3"]
    assert store.tasks_page(priority="low") == []


# journey versions


def test_every_stored_version_is_listed_oldest_first_with_when_it_was_stored(store):
    store.save_version(journey("one"), digest="d1", source="welcome.yaml", now=at(1))
    store.save_version(journey("two"), digest="d2", source=None, now=at(2))
    store.save_version(journey("two"), digest="d2", source=None, now=at(3))  # unchanged: no new version

    versions = store.versions("welcome")

    assert [(v.version, v.digest, v.source, v.created_at) for v in versions] == [
        (1, "d1", "welcome.yaml", at(1)), (2, "d2", None, at(2))
    ]
    assert versions[0].definition["steps"][0]["send"]["template"] == "one"
    assert store.version("welcome", 2).created_at == at(2)
    assert store.versions("nobody") == []

"""What escalation asks of every store: rule tasks with no journey, claims, overdue marks, the helpdesk
hand-off with leases, open tasks by customer and reason, and events read back as history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.effects import OpenTask
from onboardflow.core.model import Event
from onboardflow.ports import Changes, TaskClosed, TaskNotFound, TaskTaken

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def rule_task(
    task_id: str,
    customer_id: str = "c1",
    *,
    reason: str = "refund requested",
    due_hours: int = 48,
    at: datetime = T0,
) -> OpenTask:
    return OpenTask(
        task_id=task_id,
        enrollment_id=None,
        journey_id=None,
        version=None,
        customer_id=customer_id,
        step_id=None,
        queue="support",
        reason=reason,
        priority="normal",
        due_at=at + timedelta(hours=due_hours),
        at=at,
        context={"rule": "refund_request", "text": "please refund"},
        rule="refund_request",
    )


def write(store, *tasks: OpenTask, events: list[tuple[Event, int]] = ()) -> None:
    with store.transaction() as tx:
        tx.apply(Changes(tasks={task.task_id: task for task in tasks}, events=list(events)))


def test_a_rule_task_without_journey_comes_back_as_written(store):
    write(store, rule_task("t1"))

    [row] = store.tasks()

    assert row.task == rule_task("t1")
    assert store.task("t1") == row
    assert store.task("nope") is None


def test_claiming_assigns_once_and_says_who_has_it(store):
    write(store, rule_task("t1"))

    claimed = store.claim_task("t1", assignee="ana@shop.example", at=T0 + timedelta(hours=1))
    again = store.claim_task("t1", assignee="ana@shop.example", at=T0 + timedelta(hours=2))

    assert (claimed.status, claimed.assignee, claimed.assigned_at) == (
        "assigned",
        "ana@shop.example",
        T0 + timedelta(hours=1),
    )
    assert again.assigned_at == T0 + timedelta(hours=1)
    with pytest.raises(TaskTaken, match="assigned to ana@shop.example already"):
        store.claim_task("t1", assignee="bo@shop.example", at=T0)
    assert [row.task.task_id for row in store.tasks(status="assigned")] == ["t1"]


def test_a_resolved_or_unknown_task_cannot_be_claimed(store):
    write(store, rule_task("t1"))
    store.resolve_task("t1", outcome="refunded", at=T0)

    with pytest.raises(TaskClosed, match="resolved already"):
        store.claim_task("t1", assignee="ana@shop.example", at=T0)
    with pytest.raises(TaskNotFound):
        store.claim_task("nope", assignee="ana@shop.example", at=T0)


def test_overdue_tasks_are_marked_urgent_once(store):
    write(
        store,
        rule_task("late", due_hours=1),
        rule_task("later", due_hours=10),
        rule_task("done", due_hours=1),
    )
    store.resolve_task("done", outcome="resolved", at=T0)
    now = T0 + timedelta(hours=2)

    marked = store.mark_overdue(now)

    assert [(row.task.task_id, row.task.priority, row.overdue_at) for row in marked] == [
        ("late", "urgent", now)
    ]
    assert store.mark_overdue(now + timedelta(hours=1)) == []
    assert store.task("late").overdue_at == now
    assert store.task("later").overdue_at is None


def test_handoffs_are_leased_sent_once_and_retried_when_they_fail(store):
    write(store, rule_task("t1"), rule_task("t2", customer_id="c2"))

    first = store.claim_handoffs(T0, 10, lease_seconds=60)
    while_leased = store.claim_handoffs(T0 + timedelta(seconds=30), 10)

    assert [row.task.task_id for row in first] == ["t1", "t2"]
    assert while_leased == []
    store.record_handoff("t1", at=T0, external_id="zd-41")
    store.record_handoff(
        "t2", at=T0, error="503 from the helpdesk", next_attempt_at=T0 + timedelta(minutes=5)
    )
    assert store.claim_handoffs(T0 + timedelta(minutes=1), 10) == []
    [retried] = store.claim_handoffs(T0 + timedelta(minutes=5), 10)
    assert (retried.task.task_id, retried.handoff_error) == ("t2", "503 from the helpdesk")
    sent = store.task("t1")
    assert (sent.external_id, sent.handed_off_at) == ("zd-41", T0)


def test_a_handoff_given_up_is_never_claimed_again(store):
    write(store, rule_task("t1"))
    store.claim_handoffs(T0, 10)

    store.record_handoff("t1", at=T0, error="401: the token is wrong", next_attempt_at=None)

    assert store.claim_handoffs(T0 + timedelta(days=30), 10) == []
    assert store.task("t1").handoff_error == "401: the token is wrong"


def test_closed_tasks_are_not_handed_off(store):
    write(store, rule_task("t1"))
    store.resolve_task("t1", outcome="resolved", at=T0)

    assert store.claim_handoffs(T0, 10) == []


def test_open_tasks_are_found_by_customer_and_reason(store):
    write(store, rule_task("t1"), rule_task("t2", reason="late delivery"), rule_task("t3", customer_id="c2"))
    store.resolve_task("t2", outcome="resolved", at=T0)

    with store.transaction() as tx:
        found = tx.open_tasks(["c1", "c3"])

    assert found == {("c1", "refund requested"): "t1"}


def event(event_id: str, name: str, customer_id: str, minutes: int, **properties) -> Event:
    return Event(event_id, name, customer_id, T0 + timedelta(minutes=minutes), properties)


def test_histories_come_back_per_customer_in_stream_order(store):
    stored = [
        (event("e3", "Support Ticket Opened", "c1", 30, text="still broken"), 3),
        (event("e1", "Order Completed", "c1", 10, total=20.0), 1),
        (event("e2", "Support Ticket Opened", "c1", 20, text="broken"), 2),
        (event("e4", "Support Ticket Opened", "c2", 5), 1),
    ]
    write(store, events=stored)

    with store.transaction() as tx:
        tickets = tx.histories(["c1", "c2", "c9"], ["Support Ticket Opened"])

    assert {customer: [e.id for e in found] for customer, found in tickets.items()} == {
        "c1": ["e2", "e3"],
        "c2": ["e4"],
    }
    assert tickets["c1"][0].properties == {"text": "broken"}
    assert [e.id for e in store.customer_history("c1")] == ["e1", "e2", "e3"]
    assert [e.id for e in store.customer_history("c1", names=["Order Completed"])] == ["e1"]
    assert [e.id for e in store.history()] == ["e1", "e2", "e3", "e4"]
    assert [e.id for e in store.history(names=["Order Completed"])] == ["e1"]

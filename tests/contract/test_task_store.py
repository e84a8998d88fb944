"""Tasks for people, as every store keeps them: opened by the engine, listed, resolved once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.effects import OpenTask
from onboardflow.ports import Changes, TaskClosed, TaskNotFound

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def opened(task_id: str, customer_id: str = "c1", due_hours: int = 48) -> OpenTask:
    return OpenTask(
        task_id=task_id,
        enrollment_id=f"enr_{customer_id}",
        journey_id="delivery-recovery",
        version=2,
        customer_id=customer_id,
        step_id="escalate-late",
        queue="support",
        reason="delivery late",
        priority="high",
        due_at=T0 + timedelta(hours=due_hours),
        at=T0,
        context={"trigger": {"order_id": "o_9", "at": T0}},
    )


def write(store, *tasks: OpenTask) -> None:
    with store.transaction() as tx:
        tx.apply(Changes(tasks={task.task_id: task for task in tasks}))


def test_opened_tasks_are_listed_soonest_due_first_with_their_context(store):
    write(store, opened("t2", due_hours=72), opened("t1", customer_id="c2", due_hours=24))

    listed = store.tasks()

    assert [row.task.task_id for row in listed] == ["t1", "t2"]
    assert listed[1].task == opened("t2", due_hours=72)  # everything the step said, datetimes included
    assert (listed[1].status, listed[1].outcome, listed[1].resolved_at) == ("open", None, None)
    assert [row.task.task_id for row in store.tasks(customer_id="c2")] == ["t1"]


def test_the_same_task_written_twice_is_one_task(store):
    write(store, opened("t1"))
    write(store, opened("t1"))

    assert len(store.tasks()) == 1


def test_resolving_records_outcome_time_and_who(store):
    write(store, opened("t1"), opened("t2"))

    resolved = store.resolve_task("t1", outcome="refunded", at=T0 + timedelta(hours=3), by="agent@shop.example")

    assert (resolved.status, resolved.outcome, resolved.assignee) == ("resolved", "refunded", "agent@shop.example")
    assert [row.task.task_id for row in store.tasks(status="open")] == ["t2"]
    [stored] = store.tasks(status="resolved")
    assert stored.resolved_at == T0 + timedelta(hours=3)


def test_a_task_is_resolved_once(store):
    write(store, opened("t1"))
    store.resolve_task("t1", outcome="resolved", at=T0)

    with pytest.raises(TaskClosed, match="resolved already"):
        store.resolve_task("t1", outcome="refunded", at=T0)
    assert store.tasks()[0].outcome == "resolved"


def test_resolving_an_unknown_task_says_so(store):
    with pytest.raises(TaskNotFound, match="no task 'nope'"):
        store.resolve_task("nope", outcome="resolved", at=T0)

"""Task services the CLI, the API and the helpdesk inbound route share: claim, resolve (telling the
journey), and the overdue sweep. Keyword-only, store and clock given; each is one store write and, where a
journey must hear of it, one queued event."""

from __future__ import annotations

from datetime import datetime

from onboardflow.core.effects import stable_id
from onboardflow.core.model import TASK_OVERDUE, Event
from onboardflow.engine.engine import task_resolved_event
from onboardflow.ports import Clock, Store, Task


def claim_task(*, store: Store, clock: Clock, task_id: str, assignee: str) -> Task:
    """Assign an open task to `assignee` (TaskTaken if someone else has it, TaskClosed once it is done)."""
    return store.claim_task(task_id, assignee=assignee.strip(), at=clock.now())


def resolve_task(*, store: Store, clock: Clock, task_id: str, outcome: str, by: str | None = None) -> Task:
    """Resolve a task and queue the `Task Resolved` event a waiting journey goes on by (workers apply it)."""
    now = clock.now()
    task = store.resolve_task(task_id, outcome=outcome, at=now, by=by)
    store.enqueue([task_resolved_event(task, now)], now=now)
    return task


def sweep_overdue(*, store: Store, now: datetime, limit: int = 500) -> list[Task]:
    """Mark the open tasks past their due time urgent, once each, and queue a `Task Overdue` event for each,
    so journeys (`wait_for`, exit rules) and outbound webhooks can act on the missed SLA."""
    marked = store.mark_overdue(now, limit=limit)
    if marked:
        store.enqueue([task_overdue_event(task, now) for task in marked], now=now)
    return marked


def task_overdue_event(task: Task, at: datetime) -> Event:
    opened = task.task
    properties = {
        "task_id": opened.task_id,
        "enrollment_id": opened.enrollment_id,
        "queue": opened.queue,
        "reason": opened.reason,
        "due_at": opened.due_at,
        "assignee": task.assignee,
    }
    return Event(
        stable_id("evt", opened.task_id, "overdue"), TASK_OVERDUE, opened.customer_id, at, properties
    )

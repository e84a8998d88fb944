"""The SQL store's task work beyond the engine's inserts: claims, overdue marks, the helpdesk hand-off, and
the reads the engine makes to keep one open task per customer and reason."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from onboardflow.core.privacy import OPEN_TASK_STATUSES
from onboardflow.ports import Task, TaskClosed, TaskNotFound, TaskTaken
from onboardflow.store import codec
from onboardflow.store.schema import tasks
from onboardflow.store.statements import ids_in, rows_by_ids

OVERDUE_PRIORITY = "urgent"


def task(connection: sa.Connection, task_id: str, *, lock: bool = False) -> Task | None:
    query = sa.select(tasks).where(tasks.c.id == task_id)
    row = connection.execute(query.with_for_update() if lock else query).mappings().first()
    return None if row is None else codec.task_from_row(row)


def claim(connection: sa.Connection, task_id: str, *, assignee: str, at: datetime) -> Task:
    found = task(connection, task_id, lock=True)
    if found is None:
        raise TaskNotFound(f"no task {task_id!r}")
    checked = check_claim(found, assignee)
    if checked is not None:
        return checked
    values = {"status": "assigned", "assignee": assignee, "assigned_at": at}
    connection.execute(sa.update(tasks).where(tasks.c.id == task_id).values(values))
    return task(connection, task_id)  # type: ignore[return-value]


def check_claim(found: Task, assignee: str) -> Task | None:
    """The task when claiming it changes nothing; raises when it cannot be claimed; None: claim it."""
    if not found.is_open:
        raise TaskClosed(f"task {found.task.task_id} is {found.status} already (outcome: {found.outcome})")
    if found.status == "assigned" and found.assignee == assignee:
        return found
    if found.status == "assigned":
        raise TaskTaken(
            f"task {found.task.task_id} is assigned to {found.assignee} already "
            f"(since {found.assigned_at:%Y-%m-%d %H:%M} UTC)"
        )
    return None


def mark_overdue(connection: sa.Connection, now: datetime, *, limit: int, is_postgres: bool) -> list[Task]:
    query = (
        sa.select(tasks.c.id)
        .where(tasks.c.status.in_(OPEN_TASK_STATUSES), tasks.c.due_at <= now, tasks.c.overdue_at.is_(None))
        .order_by(tasks.c.due_at, tasks.c.id)
        .limit(limit)
    )
    if is_postgres:
        query = query.with_for_update(skip_locked=True)
    ids = list(connection.scalars(query))
    if not ids:
        return []
    connection.execute(
        sa.update(tasks).where(tasks.c.id.in_(ids)).values(overdue_at=now, priority=OVERDUE_PRIORITY)
    )
    rows = connection.execute(
        sa.select(tasks).where(tasks.c.id.in_(ids)).order_by(tasks.c.due_at, tasks.c.id)
    )
    return [codec.task_from_row(row) for row in rows.mappings()]


def claim_handoffs(
    connection: sa.Connection, now: datetime, *, limit: int, lease_seconds: int, is_postgres: bool
) -> list[Task]:
    is_free = sa.or_(tasks.c.lease_until.is_(None), tasks.c.lease_until <= now)
    query = (
        sa.select(tasks)
        .where(tasks.c.status.in_(OPEN_TASK_STATUSES), tasks.c.handoff_due_at <= now, is_free)
        .order_by(tasks.c.handoff_due_at, tasks.c.id)
        .limit(limit)
    )
    if is_postgres:
        query = query.with_for_update(skip_locked=True)
    rows = connection.execute(query).mappings().all()
    if rows:
        until = now + timedelta(seconds=lease_seconds)
        ids = [row["id"] for row in rows]
        connection.execute(sa.update(tasks).where(tasks.c.id.in_(ids)).values(lease_until=until))
    return [codec.task_from_row(row) for row in rows]


def record_handoff(
    connection: sa.Connection,
    task_id: str,
    *,
    at: datetime,
    external_id: str | None,
    error: str | None,
    next_attempt_at: datetime | None,
) -> None:
    values: dict = {
        "handoff_attempts": tasks.c.handoff_attempts + 1,
        "lease_until": None,
        "handoff_error": error,
    }
    if external_id is not None:
        values.update(external_id=external_id, handed_off_at=at, handoff_due_at=None)
    else:
        values.update(handoff_due_at=next_attempt_at)
    result = connection.execute(sa.update(tasks).where(tasks.c.id == task_id).values(values))
    if result.rowcount == 0:
        raise TaskNotFound(f"no task {task_id!r}")


def open_tasks(connection: sa.Connection, customer_ids) -> dict[tuple[str, str], str]:
    """(customer, reason) -> the id of that customer's open task for it."""
    query = (
        sa.select(tasks.c.customer_id, tasks.c.reason, tasks.c.id)
        .where(
            tasks.c.status.in_(OPEN_TASK_STATUSES),
            ids_in(connection.dialect.name, tasks.c.customer_id),
        )
        .order_by(tasks.c.created_at, tasks.c.id)
    )
    found: dict[tuple[str, str], str] = {}
    for row in rows_by_ids(connection, query, customer_ids):
        found.setdefault((row["customer_id"], row["reason"]), row["id"])
    return found

"""One SQL transaction of the engine: one read of what a batch touches, one statement per table to write."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from onboardflow.core.effects import ScheduleTimer
from onboardflow.core.model import Customer, Enrollment
from onboardflow.ports import PARTITIONS, Changes, Entry, QueuedEvent
from onboardflow.store import codec
from onboardflow.store.schema import partitions, queue, timers
from onboardflow.store.statements import execute_by_ids, insert_rows, rows_by_ids, statements_for


class SqlTransaction:
    """The engine's unit of work on one connection; the store commits it when the block ends."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self._is_postgres = connection.dialect.name == "postgresql"
        self._statements = statements_for(connection.dialect.name)

    def lock_partitions(self, partition_ids: Iterable[int]) -> None:
        """Wait for these partitions, in id order so two workers never deadlock; SQLite's BEGIN IMMEDIATE
        already serialises writers."""
        wanted = sorted(set(partition_ids))
        if not self._is_postgres or not wanted:
            return
        query = sa.select(partitions.c.id).where(partitions.c.id.in_(wanted)).order_by(partitions.c.id)
        self._connection.execute(query.with_for_update()).all()

    def claim_partitions(self, limit: int) -> list[int]:
        """Up to `limit` partitions no other worker holds, locked until commit (all of them on SQLite)."""
        if not self._is_postgres:
            return list(range(PARTITIONS))
        query = sa.select(partitions.c.id).order_by(sa.func.random()).limit(limit)
        return list(self._connection.scalars(query.with_for_update(skip_locked=True)))

    def queued_events(self, partition_ids: Iterable[int], limit: int) -> list[QueuedEvent]:
        wanted = sorted(set(partition_ids))
        query = (
            sa.select(queue.c.seq, queue.c.payload)
            .where(queue.c.partition.in_(wanted))
            .order_by(queue.c.seq)
            .limit(limit)
        )
        rows = self._connection.execute(query)
        return [QueuedEvent(seq, codec.event_from_document(payload)) for seq, payload in rows]

    def known_event_ids(self, ids: Iterable[str]) -> set[str]:
        return {row["id"] for row in rows_by_ids(self._connection, self._statements.known_events, ids)}

    def customers(self, ids: Iterable[str]) -> dict[str, Customer]:
        rows = rows_by_ids(self._connection, self._statements.customers, ids)
        return {row["id"]: codec.customer_from_row(row) for row in rows}

    def active_enrollments(self, customer_ids: Iterable[str]) -> list[Enrollment]:
        rows = rows_by_ids(self._connection, self._statements.active_enrollments, customer_ids)
        return [codec.enrollment_from_row(row) for row in rows]

    def enrollments(self, ids: Iterable[str]) -> dict[str, Enrollment]:
        rows = rows_by_ids(self._connection, self._statements.enrollments, ids)
        return {row["id"]: codec.enrollment_from_row(row) for row in rows}

    def entries(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], Entry]:
        rows = rows_by_ids(self._connection, self._statements.entries, customer_ids)
        return {(row["journey_id"], row["customer_id"]): codec.entry_from_row(row) for row in rows}

    def due_timers(
        self, partition_ids: Iterable[int] | None, now: datetime, limit: int
    ) -> list[ScheduleTimer]:
        query = sa.select(timers).where(timers.c.due_at <= now)
        if partition_ids is not None:
            query = query.where(timers.c.partition.in_(sorted(set(partition_ids))))
        query = query.order_by(timers.c.due_at, timers.c.id).limit(limit)
        return [codec.timer_from_row(row) for row in self._connection.execute(query).mappings()]

    def next_timer_due(self) -> datetime | None:
        return self._connection.scalar(sa.select(sa.func.min(timers.c.due_at)))

    def apply(self, changes: Changes) -> None:
        """Write a batch's changes, one statement per table; later reads in this transaction see them."""
        connection, write = self._connection, self._statements
        insert_rows(connection, write.insert_events, [codec.event_row(e, pos) for e, pos in changes.events])
        insert_rows(
            connection, write.upsert_customers, [codec.customer_row(c) for c in changes.customers.values()]
        )
        insert_rows(
            connection,
            write.upsert_enrollments,
            [codec.enrollment_row(e) for e in changes.enrollments.values()],
        )
        insert_rows(connection, write.upsert_entries, [codec.entry_row(e) for e in changes.entries.values()])
        execute_by_ids(
            connection, write.delete_timers, sorted(changes.cancelled_timers | changes.fired_timers)
        )
        insert_rows(connection, write.insert_timers, [codec.timer_row(t) for t in changes.timers.values()])
        insert_rows(
            connection, write.insert_messages, [codec.message_row(m) for m in changes.messages.values()]
        )
        insert_rows(connection, write.insert_tasks, [codec.task_row(t) for t in changes.tasks.values()])
        insert_rows(connection, write.insert_calls, [codec.call_row(c) for c in changes.calls.values()])
        execute_by_ids(connection, write.delete_queued, changes.dequeued)

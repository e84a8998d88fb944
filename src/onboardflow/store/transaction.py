"""One SQL transaction of the engine: batched reads of what a batch touches, one statement per table to write.

Reads by id go out as `IN` lists of at most 900 ids (SQLite's old limit on bound parameters);
writes are executemany batches with the dialect's ON CONFLICT, so a replay writes nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from onboardflow.core.effects import ScheduleTimer
from onboardflow.core.model import Customer, Enrollment
from onboardflow.ports import PARTITIONS, Changes, Entry, QueuedEvent, chunked
from onboardflow.store import codec
from onboardflow.store.schema import (
    customers,
    enrollments,
    entries,
    events,
    messages,
    partitions,
    queue,
    timers,
)

IN_CHUNK = 900


def dialect_insert(dialect: str, table: sa.Table) -> Any:
    """An INSERT that knows ON CONFLICT: PostgreSQL's or SQLite's."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


@cache
def write_statements(dialect: str) -> dict[str, Any]:
    """The INSERT ... ON CONFLICT statements `apply` runs, built once per dialect."""
    return {
        "events": dialect_insert(dialect, events).on_conflict_do_nothing(),
        "customers": _upsert(dialect, customers, ["id"]),
        "enrollments": _upsert(dialect, enrollments, ["id"]),
        "entries": _upsert(dialect, entries, ["journey_id", "customer_id"]),
        "timers": dialect_insert(dialect, timers).on_conflict_do_nothing(),
        "messages": dialect_insert(dialect, messages).on_conflict_do_nothing(),
    }


def _upsert(dialect: str, table: sa.Table, keys: list[str]) -> Any:
    statement = dialect_insert(dialect, table)
    changed = {
        column.name: statement.excluded[column.name] for column in table.columns if column.name not in keys
    }
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)


def rows_where_in(
    connection: sa.Connection, query: sa.Select, column: sa.ColumnElement, ids: Iterable[Any]
) -> Iterator[sa.RowMapping]:
    """The rows of `query` whose `column` is one of `ids`, asked for in chunks."""
    for chunk in chunked(list(dict.fromkeys(ids)), IN_CHUNK):
        yield from connection.execute(query.where(column.in_(chunk))).mappings()


def execute_where_in(
    connection: sa.Connection, statement: Any, column: sa.ColumnElement, ids: Iterable[Any]
) -> None:
    for chunk in chunked(list(dict.fromkeys(ids)), IN_CHUNK):
        connection.execute(statement.where(column.in_(chunk)))


class SqlTransaction:
    """The engine's unit of work on one connection; the store commits it when the block ends."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self._dialect = connection.dialect.name
        self._is_postgres = self._dialect == "postgresql"

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
        rows = rows_where_in(self._connection, sa.select(events.c.id), events.c.id, ids)
        return {row["id"] for row in rows}

    def customers(self, ids: Iterable[str]) -> dict[str, Customer]:
        rows = rows_where_in(self._connection, sa.select(customers), customers.c.id, ids)
        return {row["id"]: codec.customer_from_row(row) for row in rows}

    def active_enrollments(self, customer_ids: Iterable[str]) -> list[Enrollment]:
        query = (
            sa.select(enrollments)
            .where(enrollments.c.status == "active")
            .order_by(enrollments.c.started_at, enrollments.c.id)
        )
        rows = rows_where_in(self._connection, query, enrollments.c.customer_id, customer_ids)
        return [codec.enrollment_from_row(row) for row in rows]

    def enrollments(self, ids: Iterable[str]) -> dict[str, Enrollment]:
        rows = rows_where_in(self._connection, sa.select(enrollments), enrollments.c.id, ids)
        return {row["id"]: codec.enrollment_from_row(row) for row in rows}

    def entries(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], Entry]:
        rows = rows_where_in(self._connection, sa.select(entries), entries.c.customer_id, customer_ids)
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
        statements = write_statements(self._dialect)
        self._insert(statements["events"], [codec.event_row(event, pos) for event, pos in changes.events])
        self._insert(statements["customers"], [codec.customer_row(c) for c in changes.customers.values()])
        self._insert(
            statements["enrollments"], [codec.enrollment_row(e) for e in changes.enrollments.values()]
        )
        self._insert(statements["entries"], [codec.entry_row(entry) for entry in changes.entries.values()])
        gone = changes.cancelled_timers | changes.fired_timers
        execute_where_in(self._connection, sa.delete(timers), timers.c.id, sorted(gone))
        self._insert(statements["timers"], [codec.timer_row(timer) for timer in changes.timers.values()])
        self._insert(statements["messages"], [codec.message_row(m) for m in changes.messages.values()])
        execute_where_in(self._connection, sa.delete(queue), queue.c.seq, changes.dequeued)

    def _insert(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._connection.execute(statement, rows)

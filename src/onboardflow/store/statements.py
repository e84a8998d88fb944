"""The statements of the hot path, built once per dialect so each batch only binds values.

Reads by id bind the ids as one parameter, so a statement's text is the same for any number of ids and is
compiled once: on PostgreSQL `= ANY(:ids)` (an array, in chunks of 900), on SQLite `IN (SELECT value FROM
json_each(:ids))` (a JSON list, all at once); SQLAlchemy's expanding `IN` lists cost more to render than
SQLite takes to run them.
Writes are executemany batches with the dialect's ON CONFLICT, so a replay writes nothing new (psycopg
pipelines them: one round trip for the batch, and faster than one many-row INSERT, as measured).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from onboardflow.core.model import Event
from onboardflow.ports import chunked, partition_of
from onboardflow.store.codec import dumps, queue_payload
from onboardflow.store.schema import (
    UtcDateTime,
    consents,
    customers,
    enrollments,
    entries,
    events,
    held_events,
    messages,
    queue,
    tasks,
    timers,
    webhook_calls,
)

IN_CHUNK = 900


def dialect_insert(dialect: str, table: sa.Table) -> Any:
    """An INSERT that knows ON CONFLICT: PostgreSQL's or SQLite's."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


class Statements:
    """Every statement `SqlTransaction` and the store's queue and outbox run, for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.insert_events = self._insert(events)
        self.upsert_customers = self._insert(customers, update=True)
        self.upsert_enrollments = self._insert(enrollments, update=True)
        self.upsert_entries = self._insert(entries, update=True)
        self.insert_timers = self._insert(timers)
        self.insert_messages = self._insert(messages)
        self.insert_tasks = self._insert(tasks)
        self.insert_calls = self._insert(webhook_calls)
        self.insert_held = self._insert(held_events)
        self.insert_consents = self._insert(consents)  # a ledger line already written (same id) is skipped
        # RETURNING, to say what was added: psycopg's pipelined executemany reports no row count
        self.insert_queued = dialect_insert(dialect, queue).on_conflict_do_nothing().returning(queue.c.event_id)
        self.insert_queue_rows = self._insert(queue)  # SQLite: what is added is known without RETURNING

        self.known_events = sa.select(events.c.id).where(self._ids_in(events.c.id))
        self.queued_events = sa.select(queue.c.event_id.label("id")).where(self._ids_in(queue.c.event_id))
        self.customers = sa.select(customers).where(self._ids_in(customers.c.id))
        self.enrollments = sa.select(enrollments).where(self._ids_in(enrollments.c.id))
        self.active_enrollments = (
            sa.select(enrollments)
            .where(enrollments.c.status == "active", self._ids_in(enrollments.c.customer_id))
            .order_by(enrollments.c.started_at, enrollments.c.id)
        )
        self.entries = sa.select(entries).where(self._ids_in(entries.c.customer_id))

        self.delete_timers = sa.delete(timers).where(self._ids_in(timers.c.id))
        self.delete_queued = sa.delete(queue).where(self._ids_in(queue.c.seq))
        until = sa.bindparam("until", type_=UtcDateTime())
        self.lease_messages = sa.update(messages).where(self._ids_in(messages.c.id)).values(lease_until=until)
        self.lease_calls = (
            sa.update(webhook_calls).where(self._ids_in(webhook_calls.c.id)).values(lease_until=until)
        )

    def _ids_in(self, column: sa.Column) -> sa.ColumnElement[bool]:
        return ids_in(self.dialect, column)

    def _insert(self, table: sa.Table, *, update: bool = False) -> Any:
        statement = dialect_insert(self.dialect, table)
        keys = [column.name for column in table.primary_key.columns]
        if update:
            changed = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
            statement = statement.on_conflict_do_update(index_elements=keys, set_=changed)
        else:
            statement = statement.on_conflict_do_nothing()
        return statement


@cache
def statements_for(dialect: str) -> Statements:
    return Statements(dialect)


def ids_in(dialect: str, column: sa.Column) -> sa.ColumnElement[bool]:
    """`column` is one of the ids bound as `ids` (see `rows_by_ids`)."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(column.type)))
    listed = sa.func.json_each(sa.bindparam("ids", type_=sa.String())).table_valued("value")
    return column.in_(sa.select(listed.c.value))


def rows_by_ids(
    connection: sa.Connection, statement: sa.Select, ids: Iterable[Any]
) -> Iterator[sa.RowMapping]:
    """The rows `statement` (written with `ids_in`) finds for `ids`."""
    for bound in _bound_ids(connection, ids):
        yield from connection.execute(statement, {"ids": bound}).mappings()


def execute_by_ids(connection: sa.Connection, statement: Any, ids: Iterable[Any], **values: Any) -> None:
    for bound in _bound_ids(connection, ids):
        connection.execute(statement, {"ids": bound, **values})


def _bound_ids(connection: sa.Connection, ids: Iterable[Any]) -> Iterator[Any]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        return
    if connection.dialect.name == "postgresql":
        yield from chunked(unique, IN_CHUNK)
    else:
        yield dumps(unique)


def insert_rows(connection: sa.Connection, statement: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        sql, bound, encoded = sqlite_batch(statement, tuple(rows[0]))
        values = itemgetter(*bound)  # every row of a batch comes from one codec function: the same keys
        _execute_sqlite(connection, sql, encoded, [values(row) for row in rows])
        return
    connection.execute(statement, rows).close()


def insert_values(
    connection: sa.Connection, statement: Any, columns: tuple[str, ...], rows: list[tuple]
) -> None:
    """Insert rows given as tuples of Python values in `columns` order (the hot path's events: no dicts)."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows]).close()
        return
    sql, bound, encoded = sqlite_batch(statement, columns)
    if bound != columns:
        values = itemgetter(*(columns.index(name) for name in bound))
        rows = [values(row) for row in rows]
    _execute_sqlite(connection, sql, encoded, rows)


Encoders = tuple[tuple[int, Any], ...]  # (the place of a value in a row, the function encoding it)


def _execute_sqlite(connection: sa.Connection, sql: str, encoded: Encoders, rows: list) -> None:
    if encoded:
        rows = [_encoded(row, encoded) for row in rows]
    connection.exec_driver_sql(sql, rows).close()


def _encoded(row: tuple, encoded: Encoders) -> tuple:
    values = list(row)
    for index, encoder in encoded:
        if values[index] is not None:
            values[index] = encoder(values[index])
    return tuple(values)


_SQLITE = sqlite.dialect()
QUEUE_INSERT = ("INSERT INTO queue (event_id, customer_id, partition, payload, enqueued_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")


def insert_queued_sqlite(connection: sa.Connection, events: Iterable[Event], now: Any) -> None:
    """The queue's insert on SQLite, the API's hot path: each row's values made straight from its event,
    as `codec.queue_row` and `insert_rows` would make and encode them, without the row dicts between."""
    at = _sqlite_time(now)
    rows = [(e.id, e.customer_id, partition_of(e.customer_id), queue_payload(e), at) for e in events]
    connection.exec_driver_sql(QUEUE_INSERT, rows).close()


@cache
def sqlite_batch(statement: Any, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...], Encoders]:
    """The statement's SQL for rows of these columns, the order it binds them in (the table's), and the
    encoder of each value that needs one, by its place in that order.

    SQLAlchemy's per-value bind processing costs more than SQLite's insert itself on this path, so the
    values are encoded here directly, in the very format SQLAlchemy would write (and reads back). Tables
    have two columns or more, so `itemgetter` of the bound names always gives a tuple.
    """
    compiled = statement.compile(dialect=_SQLITE, column_keys=list(columns))
    bound = tuple(compiled.positiontup)
    table = {column.name: column for column in statement.table.columns}
    encoders = [(index, _sqlite_encoder(table[name])) for index, name in enumerate(bound)]
    return compiled.string, bound, tuple((index, encode) for index, encode in encoders if encode is not None)


@lru_cache(maxsize=8192)  # a batch writes one `now` into many rows
def _sqlite_time(value: Any) -> str:
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone: onboardflow stores aware times (UTC)")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_encoder(column: sa.Column) -> Any:
    if isinstance(column.type, UtcDateTime):
        return _sqlite_time
    if isinstance(column.type, sa.JSON):
        return dumps
    return None

"""Idempotency-Key records in SQL: the statements of `SqlStore`'s idempotency methods, one transaction each
(PostgreSQL locks the kept row; SQLite's BEGIN IMMEDIATE the database)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import sqlalchemy as sa

from onboardflow.ports import IdempotencyRecord
from onboardflow.store.schema import idempotency_keys
from onboardflow.store.statements import dialect_insert


def _where(api_key_id: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(idempotency_keys.c.api_key_id == api_key_id, idempotency_keys.c.key == key)


def claim(
    connection: sa.Connection, record: IdempotencyRecord, *, stale_before: datetime, expired_before: datetime
) -> IdempotencyRecord | None:
    """`Store.claim_idempotency_key` in SQL: insert, or read the kept row locked and replace
    it when it gives way. A concurrent insert of the same key waits for the other transaction's end."""
    row = dataclasses.asdict(record)
    insert = dialect_insert(connection.dialect.name, idempotency_keys).on_conflict_do_nothing()
    query = sa.select(idempotency_keys).where(_where(record.api_key_id, record.key)).with_for_update()
    found = None
    while found is None:  # None again: the kept row was released between the two statements
        if connection.execute(insert.returning(idempotency_keys.c.key), row).first() is not None:
            return None
        found = connection.execute(query).mappings().first()
    kept = IdempotencyRecord(**found)
    if not kept.gives_way(stale_before=stale_before, expired_before=expired_before):
        return kept
    connection.execute(sa.update(idempotency_keys).where(_where(record.api_key_id, record.key)).values(row))
    return None


def save_answer(connection: sa.Connection, claimed: IdempotencyRecord, *, status: int, body: str) -> None:
    connection.execute(sa.update(idempotency_keys).where(_held_by(claimed)).values(status=status, body=body))


def release(connection: sa.Connection, claimed: IdempotencyRecord) -> None:
    connection.execute(sa.delete(idempotency_keys).where(_held_by(claimed)))


def _held_by(claimed: IdempotencyRecord) -> sa.ColumnElement[bool]:
    """The row, if the request that claimed it still holds it: not answered, not taken over since."""
    return sa.and_(
        _where(claimed.api_key_id, claimed.key),
        idempotency_keys.c.locked_at == claimed.locked_at,
        idempotency_keys.c.status.is_(None),
    )


def find(connection: sa.Connection, api_key_id: str, key: str) -> IdempotencyRecord | None:
    found = connection.execute(sa.select(idempotency_keys).where(_where(api_key_id, key))).mappings().first()
    return None if found is None else IdempotencyRecord(**found)


def purge(connection: sa.Connection, *, before: datetime) -> int:
    expired = sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
    return connection.execute(expired).rowcount

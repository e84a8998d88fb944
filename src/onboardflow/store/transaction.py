"""One SQL transaction of the engine: one read of what a batch touches, one statement per table to write."""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterable
from datetime import datetime

import sqlalchemy as sa

from onboardflow.core.effects import ScheduleTimer
from onboardflow.core.journey import Journey
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.ports import PARTITIONS, Changes, Entry, JourneyState, QueuedEvent, StoredVersion
from onboardflow.store import codec, history, outbound
from onboardflow.store import tasks as task_rows
from onboardflow.store.schema import (
    enrollments,
    events,
    held_events,
    journey_versions,
    journeys,
    partitions,
    queue,
    timers,
)
from onboardflow.store.statements import (
    dialect_insert,
    execute_by_ids,
    insert_rows,
    insert_values,
    rows_by_ids,
    statements_for,
)


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
        self,
        partition_ids: Iterable[int] | None,
        now: datetime,
        limit: int,
        *,
        excluding: Collection[str] = (),
    ) -> list[ScheduleTimer]:
        query = sa.select(timers).where(timers.c.due_at <= now)
        if partition_ids is not None:
            query = query.where(timers.c.partition.in_(sorted(set(partition_ids))))
        if excluding:  # only while a journey is paused: otherwise the query is the same as ever
            query = query.where(timers.c.journey_id.not_in(sorted(excluding)))
        query = query.order_by(timers.c.due_at, timers.c.id).limit(limit)
        return [codec.timer_from_row(row) for row in self._connection.execute(query).mappings()]

    def next_timer_due(self, *, excluding: Collection[str] = ()) -> datetime | None:
        query = sa.select(sa.func.min(timers.c.due_at))
        if excluding:
            query = query.where(timers.c.journey_id.not_in(sorted(excluding)))
        return self._connection.scalar(query)

    def apply(self, changes: Changes) -> None:
        """Write a batch's changes, one statement per table; later reads in this transaction see them."""
        connection, write = self._connection, self._statements
        events_rows = [codec.event_values(event, position) for event, position in changes.events]
        insert_values(connection, write.insert_events, codec.EVENT_COLUMNS, events_rows)
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
        insert_rows(connection, write.insert_consents, [codec.consent_row(r) for r in changes.consents])
        if changes.held:
            insert_rows(connection, write.insert_held, [codec.held_row(h) for h in changes.held])
        outbound.write_events(connection, changes.outbound)

    # escalation and scores

    def open_tasks(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], str]:
        return task_rows.open_tasks(self._connection, customer_ids)

    def histories(self, customer_ids: Iterable[str], names: Iterable[str]) -> dict[str, list[Event]]:
        return history.histories(self._connection, customer_ids, names)

    # live versions: publishing, migrating, pausing

    def journeys(self) -> dict[str, JourneyState]:
        columns = (journeys.c.id, journeys.c.name, journeys.c.live_version, journeys.c.paused_at,
                   journeys.c.rollout_percent)
        rows = self._connection.execute(sa.select(*columns).order_by(journeys.c.id))
        return {row[0]: JourneyState(*row) for row in rows}

    def version(self, journey_id: str, version: int) -> StoredVersion | None:
        query = sa.select(journey_versions).where(
            journey_versions.c.journey_id == journey_id, journey_versions.c.version == version
        )
        row = self._connection.execute(query).mappings().first()
        return None if row is None else codec.version_from_row(row)

    def save_version(
        self, journey: Journey, *, digest: str, source: str | None, now: datetime, live: bool = True
    ) -> StoredVersion:
        """Make this content live: the live version if its digest is the same, else the next version; not
        `live`, the newest stored version with this digest, else a new (draft) version."""
        connection = self._connection
        if self._is_postgres:  # two publishers of one journey take turns
            key = zlib.crc32(journey.id.encode()) - 2**31
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        if live:
            same = connection.execute(live_versions_query().where(journeys.c.id == journey.id)).mappings().first()
        else:
            same = connection.execute(
                sa.select(journey_versions).where(journey_versions.c.journey_id == journey.id,
                                                  journey_versions.c.digest == digest)
                .order_by(journey_versions.c.version.desc()).limit(1)
            ).mappings().first()
        if same is not None and same["digest"] == digest:
            return codec.version_from_row(same)
        latest = sa.select(sa.func.max(journey_versions.c.version)).where(
            journey_versions.c.journey_id == journey.id
        )
        number = (connection.scalar(latest) or 0) + 1
        definition = journey.model_dump(mode="json", by_alias=True, exclude_none=True)
        stored = StoredVersion(journey.id, number, digest, definition, source, created_at=now)
        _write_version(connection, journey, stored, now, live=live)
        return stored

    def set_live(self, journey_id: str, version: int, *, now: datetime) -> JourneyState:
        stored = self.version(journey_id, version)
        if stored is None:
            raise LookupError(f"journey {journey_id!r} has no version {version}")
        _make_live(self._connection, stored.definition, version, now)
        return self.journeys()[journey_id]

    def set_rollout(self, journey_id: str, percent: float) -> None:
        self._connection.execute(
            sa.update(journeys).where(journeys.c.id == journey_id).values(rollout_percent=percent)
        )

    def set_paused(self, journey_id: str, paused_at: datetime | None) -> None:
        self._connection.execute(
            sa.update(journeys).where(journeys.c.id == journey_id).values(paused_at=paused_at)
        )

    def active_enrollments_at(
        self, journey_id: str, version: int, step_ids: Iterable[str], *, after: str | None, limit: int
    ) -> list[Enrollment]:
        query = sa.select(enrollments).where(
            enrollments.c.journey_id == journey_id,
            enrollments.c.version == version,
            enrollments.c.status == "active",
            enrollments.c.step_id.in_(sorted(set(step_ids))),
        )
        if after is not None:
            query = query.where(enrollments.c.id > after)
        rows = self._connection.execute(query.order_by(enrollments.c.id).limit(limit)).mappings()
        return [codec.enrollment_from_row(row) for row in rows]

    def held_events(self, journey_id: str) -> list[tuple[str, Event]]:
        query = (
            sa.select(held_events.c.enrollment_id, events)
            .join(events, events.c.id == held_events.c.event_id)
            .where(held_events.c.journey_id == journey_id)
            .order_by(held_events.c.customer_id, events.c.position, held_events.c.enrollment_id)
        )
        rows = self._connection.execute(query).mappings()
        return [(row["enrollment_id"], codec.event_from_document(row)) for row in rows]

    def release_held(self, journey_id: str) -> None:
        self._connection.execute(sa.delete(held_events).where(held_events.c.journey_id == journey_id))

    def journey_timers_due(self, journey_id: str, now: datetime) -> list[ScheduleTimer]:
        query = (
            sa.select(timers)
            .where(timers.c.journey_id == journey_id, timers.c.due_at <= now)
            .order_by(timers.c.due_at, timers.c.id)
        )
        return [codec.timer_from_row(row) for row in self._connection.execute(query).mappings()]


def live_versions_query() -> sa.Select:
    return sa.select(journey_versions).join(
        journeys,
        sa.and_(
            journeys.c.id == journey_versions.c.journey_id,
            journeys.c.live_version == journey_versions.c.version,
        ),
    )


def _write_version(
    connection: sa.Connection, journey: Journey, stored: StoredVersion, now: datetime, *, live: bool = True
) -> None:
    connection.execute(
        sa.insert(journey_versions).values(
            journey_id=stored.journey_id,
            version=stored.version,
            digest=stored.digest,
            definition=stored.definition,
            source=stored.source,
            created_at=now,
        )
    )
    if live:
        _make_live(connection, stored.definition, stored.version, now)


def _make_live(connection: sa.Connection, definition: dict, version: int, now: datetime) -> None:
    live = {"live_version": version, "name": definition["name"], "owner": definition["owner"], "updated_at": now}
    upsert = dialect_insert(connection.dialect.name, journeys).values(id=definition["id"], **live)
    connection.execute(upsert.on_conflict_do_update(index_elements=["id"], set_=live))

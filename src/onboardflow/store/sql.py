"""The SQL store: the Store protocol on SQLite (embedded default) or PostgreSQL, through SQLAlchemy Core.

`SqlStore.open(url)` brings the schema up to date first; `SqlStore(url)` only checks that it is.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import chain

import sqlalchemy as sa

from onboardflow.core.consent import ConsentRecord, ConsentState, current_state
from onboardflow.core.journey import Journey
from onboardflow.core.model import HOLDOUT, Customer, Enrollment, Event
from onboardflow.core.outbound import OutboundEvent, task_resolved
from onboardflow.core.review import (
    AuditEntry,
    Comment,
    Decision,
    PlaybookAttachment,
    PlaybookRecord,
    ReviewChanges,
    Risk,
    VersionReview,
)
from onboardflow.ports import (
    ORDER_COMPLETED,
    ApiKey,
    ApiKeyNotFound,
    Cursor,
    CustomerData,
    Erasure,
    GoalCounts,
    IdempotencyRecord,
    InboxMessage,
    JourneyState,
    OutboxMessage,
    StoredVersion,
    Task,
    TaskClosed,
    TaskNotFound,
    User,
    WebhookCall,
    chunked,
)
from onboardflow.store import codec, history, idempotency, people, privacy, review
from onboardflow.store import tasks as task_rows
from onboardflow.store.connection import (
    BEGIN_MODE,
    DEFAULT_URL,
    check_connection,
    create_store_engine,
    parse_url,
    safe_url,
)
from onboardflow.store.memory import MemoryStore
from onboardflow.store.migrate import check_schema, upgrade
from onboardflow.store.outbound import SqlOutbound, write_events
from onboardflow.store.outcomes import SqlOutcomes
from onboardflow.store.schema import (
    UtcDateTime,
    api_keys,
    customers,
    enrollments,
    events,
    held_events,
    inbox,
    journey_versions,
    journeys,
    messages,
    queue,
    tasks,
    timers,
    webhook_calls,
)
from onboardflow.store.statements import (
    IN_CHUNK,
    dialect_insert,
    execute_by_ids,
    insert_queued_sqlite,
    rows_by_ids,
    statements_for,
)
from onboardflow.store.transaction import SqlTransaction, live_versions_query

__all__ = ["DEFAULT_URL", "SqlStore", "open_store"]


def open_store(url: str | None = DEFAULT_URL) -> SqlStore | MemoryStore:
    """The store a URL names: `memory` (or None) for the in-memory store, else SQL at the newest schema."""
    if url is None or url == "memory":
        return MemoryStore()
    return SqlStore.open(url)


class SqlStore(SqlOutbound, SqlOutcomes):
    """Everything in SQL tables; every write is one transaction."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = parse_url(url)
        self._engine = create_store_engine(self.url)
        try:
            check_connection(self._engine)
            with self._reading() as connection:
                check_schema(connection)
        except BaseException:
            self._engine.dispose()
            raise

    @classmethod
    def open(cls, url: str = DEFAULT_URL, *, migrate: bool = True) -> SqlStore:
        """Open the store at `url`, first upgrading its schema to the newest unless `migrate` is False."""
        if migrate:
            upgrade(url)
        return cls(url)

    def __repr__(self) -> str:
        return f"SqlStore({safe_url(self.url)!r})"

    @property
    def is_postgres(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._engine.begin() as connection:
            yield SqlTransaction(connection)

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        """A read-only transaction: on SQLite it takes no write lock."""
        with self._engine.connect() as connection:
            connection.execution_options(**{BEGIN_MODE: "DEFERRED"})
            with connection.begin():
                yield connection

    # journeys and their versions

    def save_version(
        self, journey: Journey, *, digest: str, source: str | None, now: datetime, live: bool = True
    ) -> StoredVersion:
        """Make this content live (or store it as a draft: not `live`), as `SqlTransaction.save_version`."""
        with self.transaction() as tx:
            return tx.save_version(journey, digest=digest, source=source, now=now, live=live)

    def live_versions(self) -> list[StoredVersion]:
        with self._reading() as connection:
            rows = connection.execute(live_versions_query().order_by(journeys.c.id)).mappings()
            return [codec.version_from_row(row) for row in rows]

    def version(self, journey_id: str, version: int) -> StoredVersion | None:
        query = sa.select(journey_versions).where(
            journey_versions.c.journey_id == journey_id, journey_versions.c.version == version
        )
        with self._reading() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else codec.version_from_row(row)

    def versions(self, journey_id: str) -> list[StoredVersion]:
        query = (
            sa.select(journey_versions).where(journey_versions.c.journey_id == journey_id)
            .order_by(journey_versions.c.version)
        )
        with self._reading() as connection:
            return [codec.version_from_row(row) for row in connection.execute(query).mappings()]

    def journeys(self) -> list[JourneyState]:
        with self._reading() as connection:
            return list(SqlTransaction(connection).journeys().values())

    def held_counts(self) -> dict[str, int]:
        query = sa.select(held_events.c.journey_id, sa.func.count()).group_by(held_events.c.journey_id)
        with self._reading() as connection:
            return {journey_id: number for journey_id, number in connection.execute(query)}

    # queue and outbox

    def enqueue(self, new_events: Iterable[Event], *, now: datetime) -> int:
        """Queue events for workers, skipping ids already queued or processed; returns how many were new."""
        return len(self.queue_events(new_events, now=now))

    def queue_events(self, new_events: Iterable[Event], *, now: datetime) -> set[str]:
        """Queue events for workers, skipping ids already queued or processed; the ids queued."""
        unique: dict[str, Event] = {}
        for event in new_events:
            unique.setdefault(event.id, event)
        if not unique:
            return set()
        with self._engine.begin() as connection:
            is_sqlite = connection.dialect.name == "sqlite"
            known = (_sqlite_queued_or_processed if is_sqlite else _queued_or_processed)(connection, unique)
            fresh = [event for event_id, event in unique.items() if event_id not in known]
            if not fresh:
                return set()
            if is_sqlite:
                # BEGIN IMMEDIATE took the write lock before the read above: no one else added any of them
                insert_queued_sqlite(connection, fresh, now)
                return {event.id for event in fresh}
            rows = [codec.queue_row(event, now) for event in fresh]
            inserted = connection.execute(statements_for(connection.dialect.name).insert_queued, rows)
            return {row.event_id for row in inserted}  # rows another enqueuer wrote meanwhile are not ours

    def claim_messages(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[OutboxMessage]:
        """Lease up to `limit` due pending messages for `lease_seconds`; no one else gets them meanwhile."""
        is_free = sa.or_(messages.c.lease_until.is_(None), messages.c.lease_until <= now)
        due_at = sa.func.coalesce(messages.c.next_attempt_at, messages.c.at)
        query = (
            sa.select(messages)
            .where(messages.c.status == "pending", due_at <= now, is_free)
            .order_by(due_at, messages.c.id)
            .limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self._engine.begin() as connection:
            rows = connection.execute(query).mappings().all()
            lease = statements_for(connection.dialect.name).lease_messages
            until = now + timedelta(seconds=lease_seconds)
            execute_by_ids(connection, lease, [row["id"] for row in rows], until=until)
        return [codec.outbox_from_row(row) for row in rows]

    def renew_message_lease(self, message_id: str, *, held_until: datetime, until: datetime) -> bool:
        held = (messages.c.id == message_id) & (messages.c.status == "pending") & (
            messages.c.lease_until == held_until)
        with self._engine.begin() as connection:
            return connection.execute(sa.update(messages).where(held).values(lease_until=until)).rowcount == 1

    def record_delivery(
        self, message_id: str, *, status: str, channel: str | None, at: datetime, error: str | None = None,
        next_attempt_at: datetime | None = None, provider_id: str | None = None, note: str | None = None,
        counted: bool = True, outbound: Sequence[OutboundEvent] = (),
    ) -> None:
        """What became of one message; an attempt to deliver is `counted`, and the lease is given up;
        `outbound` events (message.sent, message.failed) go to their subscriptions in the same transaction."""
        values = {
            "status": status,
            "channel": channel,
            "attempts": messages.c.attempts + int(counted),
            "error": error,
            "lease_until": None,
            "next_attempt_at": next_attempt_at,
        }
        if provider_id is not None:
            values["provider_id"] = provider_id
        if note is not None:
            values["note"] = note
        if status == "delivered":
            values["delivered_at"] = at
        with self._engine.begin() as connection:
            result = connection.execute(sa.update(messages).where(messages.c.id == message_id).values(values))
            if result.rowcount == 0:
                raise KeyError(message_id)
            write_events(connection, outbound)

    def retry_parked(self, message_ids: Iterable[str] | None, *, now: datetime) -> int:
        """Give parked messages another go now, with their attempts counted afresh."""
        query = sa.update(messages).where(messages.c.status == "parked")
        if message_ids is not None:
            query = query.where(messages.c.id.in_(list(message_ids)))
        with self._engine.begin() as connection:
            return connection.execute(
                query.values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
            ).rowcount

    def last_event_times(self, customer_id: str, names: Iterable[str]) -> dict[str, datetime]:
        """The latest time the customer had each of these events."""
        query = (
            sa.select(events.c.name, sa.func.max(events.c.at, type_=UtcDateTime()))
            .where(events.c.customer_id == customer_id, events.c.name.in_(list(names)))
            .group_by(events.c.name)
        )
        with self._reading() as connection:
            return {name: at for name, at in connection.execute(query)}

    # the in-app inbox

    def add_to_inbox(self, message: InboxMessage) -> bool:
        """Keep one in-app message; False when its id is already there (a retried delivery)."""
        with self._engine.begin() as connection:
            insert = dialect_insert(connection.dialect.name, inbox).on_conflict_do_nothing()
            added = connection.execute(insert.returning(inbox.c.message_id), dataclasses.asdict(message))
            return added.first() is not None

    def inbox(self, customer_id: str, *, unread_only: bool = False) -> list[InboxMessage]:
        """A customer's in-app messages, newest first."""
        query = (
            sa.select(inbox)
            .where(inbox.c.customer_id == customer_id)
            .order_by(inbox.c.created_at.desc(), inbox.c.message_id)
        )
        if unread_only:
            query = query.where(inbox.c.read_at.is_(None))
        with self._reading() as connection:
            return [InboxMessage(**row) for row in connection.execute(query).mappings()]

    def mark_read(self, customer_id: str, message_ids: Iterable[str], *, at: datetime) -> int:
        """Mark a customer's messages read at `at`; read ones keep their time; returns how many changed."""
        marked = 0
        with self._engine.begin() as connection:
            for ids in chunked(sorted(set(message_ids)), IN_CHUNK):
                update = (
                    sa.update(inbox)
                    .where(inbox.c.customer_id == customer_id, inbox.c.message_id.in_(ids))
                    .where(inbox.c.read_at.is_(None))
                    .values(read_at=at)
                )
                marked += connection.execute(update).rowcount
        return marked

    # webhook calls

    def claim_calls(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[WebhookCall]:
        """Lease up to `limit` pending calls due by `now`, oldest due first, for no one else meanwhile."""
        is_free = sa.or_(webhook_calls.c.lease_until.is_(None), webhook_calls.c.lease_until <= now)
        query = (
            sa.select(webhook_calls)
            .where(webhook_calls.c.status == "pending", webhook_calls.c.next_attempt_at <= now, is_free)
            .order_by(webhook_calls.c.next_attempt_at, webhook_calls.c.id)
            .limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self._engine.begin() as connection:
            rows = connection.execute(query).mappings().all()
            lease = statements_for(connection.dialect.name).lease_calls
            until = now + timedelta(seconds=lease_seconds)
            execute_by_ids(connection, lease, [row["id"] for row in rows], until=until)
        return [codec.webhook_call_from_row(row) for row in rows]

    def record_call(
        self, call_id: str, *, status: str, at: datetime, attempts: int,
        next_attempt_at: datetime | None = None, response=None, error: str | None = None,
    ) -> None:
        """What an attempt came to: pending again until `next_attempt_at`, or succeeded or failed for good."""
        values = codec.call_outcome(status=status, at=at, attempts=attempts, next_attempt_at=next_attempt_at,
                                    response=response, error=error)
        update = sa.update(webhook_calls).where(webhook_calls.c.id == call_id).values(values)
        with self._engine.begin() as connection:
            result = connection.execute(update)
        if result.rowcount == 0:
            raise KeyError(call_id)

    def calls(self, customer_id: str | None = None) -> list[WebhookCall]:
        query = sa.select(webhook_calls).order_by(webhook_calls.c.created_at, webhook_calls.c.id)
        if customer_id is not None:
            query = query.where(webhook_calls.c.customer_id == customer_id)
        with self._reading() as connection:
            return [codec.webhook_call_from_row(row) for row in connection.execute(query).mappings()]

    # reading

    def counts(self) -> dict[str, int]:
        def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
            return sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery()

        query = sa.select(
            count(events).label("events"),
            count(queue).label("queued"),
            count(customers).label("customers"),
            count(enrollments).label("enrollments"),
            count(enrollments, enrollments.c.status == "active").label("active_enrollments"),
            count(timers).label("timers"),
            count(messages).label("messages"),
            count(messages, messages.c.status == "delivered").label("delivered"),
        )
        with self._reading() as connection:
            return dict(connection.execute(query).mappings().one())

    def step_counts(self) -> list[tuple[str, int, str, str, int]]:
        """Enrollments by journey, version, step and state (`active`, or `ended:<reason>`)."""
        columns = [
            enrollments.c[name] for name in ("journey_id", "version", "step_id", "status", "exit_reason")
        ]
        query = sa.select(*columns, sa.func.count()).group_by(*columns)
        with self._reading() as connection:
            rows = connection.execute(query).all()
        tally: Counter[tuple[str, int, str, str]] = Counter()
        for journey_id, version, step_id, status, exit_reason, number in rows:
            state = status if status == "active" else f"ended:{exit_reason}"
            tally[(journey_id, version, step_id or "-", state)] += number
        return [(*key, number) for key, number in sorted(tally.items())]

    def goal_counts(self) -> dict[str, GoalCounts]:
        group = enrollments.c.group == HOLDOUT
        converted = sa.func.count(enrollments.c.goal_reached_at)
        query = (sa.select(enrollments.c.journey_id, group, sa.func.count(), converted)
                 .group_by(enrollments.c.journey_id, group))
        with self._reading() as connection:
            rows = connection.execute(query).all()
        tally: dict[str, list[int]] = {}
        for journey_id, is_holdout, entrants, converted in rows:
            counts = tally.setdefault(journey_id, [0, 0, 0, 0])
            counts[2 if is_holdout else 0] += entrants
            counts[3 if is_holdout else 1] += converted
        return {journey_id: GoalCounts(*counts) for journey_id, counts in sorted(tally.items())}

    def step_paths(self, journey_id: str, version: int) -> list[tuple[str, ...]]:
        query = (sa.select(enrollments.c.history)
                 .where(enrollments.c.journey_id == journey_id, enrollments.c.version == version)
                 .order_by(enrollments.c.id))
        with self._reading() as connection:
            rows = connection.execute(query).scalars().all()
        return [tuple(visit["step_id"] for visit in history) for history in rows]

    def messages(self, customer_id: str | None = None) -> list[OutboxMessage]:
        query = sa.select(messages).order_by(messages.c.at, messages.c.id)
        if customer_id is not None:
            query = query.where(messages.c.customer_id == customer_id)
        with self._reading() as connection:
            return [codec.outbox_from_row(row) for row in connection.execute(query).mappings()]

    def message(self, message_id: str) -> OutboxMessage | None:
        with self._reading() as connection:
            query = sa.select(messages).where(messages.c.id == message_id)
            row = connection.execute(query).mappings().first()
        return None if row is None else codec.outbox_from_row(row)

    def messages_page(
        self, *, customer_id: str | None = None, status: str | None = None, journey_id: str | None = None,
        channel: str | None = None, after: Cursor | None = None, limit: int = 100,
    ) -> list[OutboxMessage]:
        wanted = {"customer_id": customer_id, "status": status, "journey_id": journey_id, "channel": channel}
        query = _page_query(messages, messages.c.at, wanted, after, limit)
        with self._reading() as connection:
            return [codec.outbox_from_row(row) for row in connection.execute(query).mappings()]

    def customer(self, customer_id: str) -> Customer | None:
        with self._reading() as connection:
            row = (
                connection.execute(sa.select(customers).where(customers.c.id == customer_id))
                .mappings()
                .first()
            )
        return None if row is None else codec.customer_from_row(row)

    def tasks(self, *, status: str | None = None, customer_id: str | None = None) -> list[Task]:
        query = sa.select(tasks).order_by(tasks.c.due_at, tasks.c.id)
        if status is not None:
            query = query.where(tasks.c.status == status)
        if customer_id is not None:
            query = query.where(tasks.c.customer_id == customer_id)
        with self._reading() as connection:
            return [codec.task_from_row(row) for row in connection.execute(query).mappings()]

    def tasks_page(
        self, *, status: str | None = None, customer_id: str | None = None, queue: str | None = None,
        priority: str | None = None, reason: str | None = None, after: Cursor | None = None, limit: int = 100,
    ) -> list[Task]:
        wanted = {"status": status, "customer_id": customer_id, "queue": queue, "priority": priority,
                  "reason": reason}
        query = _page_query(tasks, tasks.c.due_at, wanted, after, limit)
        with self._reading() as connection:
            return [codec.task_from_row(row) for row in connection.execute(query).mappings()]

    def resolve_task(self, task_id: str, *, outcome: str, at: datetime, by: str | None = None) -> Task:
        with self._engine.begin() as connection:
            row = connection.execute(sa.select(tasks).where(tasks.c.id == task_id).with_for_update()).mappings().first()
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}")
            if row["status"] in ("resolved", "cancelled"):
                raise TaskClosed(f"task {task_id} is {row['status']} already (outcome: {row['outcome']})")
            values = {"status": "resolved", "outcome": outcome, "resolved_at": at, "assignee": by or row["assignee"]}
            connection.execute(sa.update(tasks).where(tasks.c.id == task_id).values(values))
            resolved = codec.task_from_row({**row, **values})
            write_events(connection, [task_resolved(resolved.task, outcome=outcome, by=by, at=at)])
        return resolved

    def task(self, task_id: str) -> Task | None:
        with self._reading() as connection:
            return task_rows.task(connection, task_id)

    def claim_task(self, task_id: str, *, assignee: str, at: datetime) -> Task:
        with self._engine.begin() as connection:
            return task_rows.claim(connection, task_id, assignee=assignee, at=at)

    def mark_overdue(self, now: datetime, *, limit: int = 500) -> list[Task]:
        with self._engine.begin() as connection:
            return task_rows.mark_overdue(connection, now, limit=limit, is_postgres=self.is_postgres)

    def claim_handoffs(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[Task]:
        with self._engine.begin() as connection:
            return task_rows.claim_handoffs(connection, now, limit=limit, lease_seconds=lease_seconds,
                                            is_postgres=self.is_postgres)

    def record_handoff(self, task_id: str, *, at: datetime, external_id: str | None = None,
                       error: str | None = None, next_attempt_at: datetime | None = None) -> None:
        with self._engine.begin() as connection:
            task_rows.record_handoff(connection, task_id, at=at, external_id=external_id, error=error,
                                     next_attempt_at=next_attempt_at)

    def history(self, *, names: Iterable[str] | None = None) -> Iterator[Event]:
        with self._reading() as connection:
            yield from history.stream(connection, names)

    def customer_history(self, customer_id: str, *, names: Iterable[str] | None = None) -> list[Event]:
        with self._reading() as connection:
            return history.customer_history(connection, customer_id, names)

    def enrollments_of(self, customer_id: str) -> list[Enrollment]:
        query = (
            sa.select(enrollments)
            .where(enrollments.c.customer_id == customer_id)
            .order_by(enrollments.c.started_at, enrollments.c.id)
        )
        with self._reading() as connection:
            return [codec.enrollment_from_row(row) for row in connection.execute(query).mappings()]

    def customer_events(self, customer_id: str) -> list[tuple[str, int]]:
        query = (
            sa.select(events.c.id, events.c.position)
            .where(events.c.customer_id == customer_id)
            .order_by(events.c.position, events.c.id)
        )
        with self._reading() as connection:
            return [(event_id, position) for event_id, position in connection.execute(query)]

    def customer_of_order(self, order_id: str) -> str | None:
        processed = (
            sa.select(events.c.customer_id)
            .where(events.c.name == ORDER_COMPLETED, events.c.properties["order_id"].as_string() == order_id)
            .order_by(events.c.position, events.c.id).limit(1)
        )
        queued = (
            sa.select(queue.c.customer_id)
            .where(queue.c.payload["name"].as_string() == ORDER_COMPLETED,
                   queue.c.payload[("properties", "order_id")].as_string() == order_id)
            .order_by(queue.c.seq).limit(1)
        )
        with self._reading() as connection:
            return connection.execute(processed).scalar() or connection.execute(queued).scalar()

    # consent and privacy

    def record_consent(self, record: ConsentRecord) -> bool:
        """Append a line to the consent ledger; False when one with its id is there already."""
        with self._engine.begin() as connection:
            return privacy.record_consent(connection, record)

    def consents(self, customer_id: str) -> list[ConsentRecord]:
        with self._reading() as connection:
            return privacy.ledger(connection, customer_id)

    def consent_state(self, customer_id: str) -> ConsentState:
        return current_state(self.consents(customer_id))

    def customer_data(self, customer_id: str) -> CustomerData:
        with self._reading() as connection:
            return privacy.customer_data(connection, customer_id)

    def erase_customer(self, customer_id: str, *, pseudonym: str, now: datetime) -> Erasure | None:
        with self._engine.begin() as connection:
            return privacy.erase(connection, customer_id, pseudonym=pseudonym, now=now)

    def erasures(self) -> list[Erasure]:
        with self._reading() as connection:
            return privacy.erasure_log(connection)

    # API keys

    def save_api_key(self, key: ApiKey) -> None:
        row = {**dataclasses.asdict(key), "scopes": list(key.scopes)}
        with self._engine.begin() as connection:
            connection.execute(sa.insert(api_keys), row)

    def api_key(self, key_id: str) -> ApiKey | None:
        with self._reading() as connection:
            row = connection.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        return _api_key(row) if row else None

    def api_keys(self) -> list[ApiKey]:
        with self._reading() as connection:
            rows = connection.execute(sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
            return [_api_key(row) for row in rows.mappings()]

    def revoke_api_key(self, key_id: str, *, at: datetime) -> ApiKey:
        """Revoke the key (the first revocation's time stays); ApiKeyNotFound when there is no such key."""
        with self._engine.begin() as connection:
            connection.execute(
                sa.update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            row = connection.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise ApiKeyNotFound(f"no API key {key_id!r}: `onboardflow apikey list` shows the keys there are")
        return _api_key(row)

    # review and approval (docs/review.md)

    def record_review(self, changes: ReviewChanges) -> list[AuditEntry]:
        with self._engine.begin() as connection:
            return review.write(connection, changes)

    def review(self, journey_id: str, version: int) -> VersionReview | None:
        return next((r for r in self.reviews(journey_id) if r.version == version), None)

    def reviews(self, journey_id: str) -> list[VersionReview]:
        with self._reading() as connection:
            return review.reviews(connection, journey_id)

    def comments(self, journey_id: str) -> list[Comment]:
        return self._review_rows("comments", journey_id)

    def decisions(self, journey_id: str) -> list[Decision]:
        return self._review_rows("decisions", journey_id)

    def risks(self, journey_id: str) -> list[Risk]:
        return self._review_rows("risks", journey_id)

    def _review_rows(self, kind: str, journey_id: str) -> list:
        table, record = review.KINDS[kind]
        with self._reading() as connection:
            return review.rows_of(connection, table, record, journey_id)

    def audit_trail(self, journey_id: str | None = None) -> list[AuditEntry]:
        with self._reading() as connection:
            return review.trail(connection, journey_id)

    def attachments(self) -> list[PlaybookAttachment]:
        with self._reading() as connection:
            return review.attachments(connection)

    def playbook_records_of(self, journey_id: str) -> list[PlaybookRecord]:
        with self._reading() as connection:
            return review.records_of(connection, journey_id)

    # users

    def save_user(self, user: User) -> None:
        with self._engine.begin() as connection:
            people.save_user(connection, user)

    def user(self, email: str) -> User | None:
        with self._reading() as connection:
            return people.find_user(connection, email)

    def users(self) -> list[User]:
        with self._reading() as connection:
            return people.all_users(connection)

    # Idempotency-Key records of the API

    def claim_idempotency_key(
        self, record: IdempotencyRecord, *, stale_before: datetime, expired_before: datetime
    ) -> IdempotencyRecord | None:
        with self._engine.begin() as connection:
            return idempotency.claim(
                connection, record, stale_before=stale_before, expired_before=expired_before
            )

    def save_idempotent_answer(self, claimed: IdempotencyRecord, *, status: int, body: str) -> None:
        with self._engine.begin() as connection:
            idempotency.save_answer(connection, claimed, status=status, body=body)

    def release_idempotency_key(self, claimed: IdempotencyRecord) -> None:
        with self._engine.begin() as connection:
            idempotency.release(connection, claimed)

    def idempotency_record(self, api_key_id: str, key: str) -> IdempotencyRecord | None:
        with self._reading() as connection:
            return idempotency.find(connection, api_key_id, key)

    def purge_idempotency_keys(self, *, before: datetime) -> int:
        with self._engine.begin() as connection:
            return idempotency.purge(connection, before=before)

    def close(self) -> None:
        self._engine.dispose()


def _queued_or_processed(connection: sa.Connection, ids: Iterable[str]) -> set[str]:
    statements = statements_for(connection.dialect.name)
    queued = rows_by_ids(connection, statements.queued_events, ids)
    processed = rows_by_ids(connection, statements.known_events, ids)
    return {row["id"] for row in chain(queued, processed)}


def _page_query(
    table: sa.Table, time: sa.Column, wanted: dict[str, str | None], after: Cursor | None, limit: int
) -> sa.Select:
    """Rows matching `wanted` (None: any), in (time, id) order, from just after the cursor: a keyset page."""
    matching = [table.c[name] == value for name, value in wanted.items() if value is not None]
    query = sa.select(table).where(*matching)
    if after is not None:
        at, last_id = after
        query = query.where(sa.or_(time > at, sa.and_(time == at, table.c.id > last_id)))
    return query.order_by(time, table.c.id).limit(limit)


def _sqlite_queued_or_processed(connection: sa.Connection, ids: Iterable[str]) -> set[str]:
    """`_queued_or_processed` as one plain statement a chunk: on the API's hot path (a transaction per few
    requests), SQLAlchemy's two compiled selects cost more than SQLite's lookups."""
    known: set[str] = set()
    for chunk in chunked(list(ids), IN_CHUNK // 2):
        marks = ",".join("?" * len(chunk))
        sql = (f"SELECT event_id FROM queue WHERE event_id IN ({marks}) "
               f"UNION ALL SELECT id FROM events WHERE id IN ({marks})")
        known.update(row[0] for row in connection.exec_driver_sql(sql, (*chunk, *chunk)))
    return known


def _api_key(row: sa.RowMapping) -> ApiKey:
    return ApiKey(row["id"], row["name"], tuple(row["scopes"]), row["digest"], row["created_at"],
                  row["revoked_at"], row["user"])

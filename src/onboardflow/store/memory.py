"""The in-memory store: the same Store protocol on plain dicts, for unit tests and the simulator."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

from onboardflow.core.consent import ConsentRecord
from onboardflow.core.effects import ScheduleTimer
from onboardflow.core.journey import Journey
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.core.outbound import OutboundEvent, task_resolved
from onboardflow.ports import (
    ORDER_COMPLETED,
    PARTITIONS,
    ApiKey,
    ApiKeyNotFound,
    Changes,
    Cursor,
    Entry,
    Erasure,
    GoalCounts,
    HeldEvent,
    IdempotencyRecord,
    InboxMessage,
    JourneyState,
    OutboxMessage,
    QueuedEvent,
    StoredVersion,
    Task,
    TaskClosed,
    TaskNotFound,
    User,
    WebhookCall,
    partition_of,
)
from onboardflow.store import codec
from onboardflow.store.memory_idempotency import MemoryIdempotency
from onboardflow.store.memory_outcomes import MemoryOutcomes
from onboardflow.store.memory_index import MemoryIndexes, due_at
from onboardflow.store.memory_outbound import MemoryOutbound
from onboardflow.store.memory_privacy import MemoryPrivacy
from onboardflow.store.memory_review import MemoryReview
from onboardflow.store.memory_tasks import Handoff, MemoryTasks


class MemoryTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def lock_partitions(self, partitions: Iterable[int]) -> None:
        return None  # the store's lock is held for the whole transaction

    def claim_partitions(self, limit: int) -> list[int]:
        return list(range(PARTITIONS))

    def queued_events(self, partitions: Iterable[int], limit: int) -> list[QueuedEvent]:
        wanted = set(partitions)
        found = [q for q in self._store.queue.values() if partition_of(q.event.customer_id) in wanted]
        return sorted(found, key=lambda q: q.seq)[:limit]

    def known_event_ids(self, ids: Iterable[str]) -> set[str]:
        return {event_id for event_id in ids if event_id in self._store.events}

    def customers(self, ids: Iterable[str]) -> dict[str, Customer]:
        return {cid: self._store.customers[cid] for cid in ids if cid in self._store.customers}

    def active_enrollments(self, customer_ids: Iterable[str]) -> list[Enrollment]:
        found = []
        for cid in customer_ids:
            found.extend(e for e in self._store.enrollments_by_customer.get(cid, {}).values() if e.is_active)
        return sorted(found, key=lambda e: (e.started_at, e.id))  # the SQL store's order

    def enrollments(self, ids: Iterable[str]) -> dict[str, Enrollment]:
        return {eid: self._store.enrollments[eid] for eid in ids if eid in self._store.enrollments}

    def entries(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], Entry]:
        by_customer = self._store.entries_by_customer
        return {key: entry for cid in set(customer_ids) for key, entry in by_customer.get(cid, {}).items()}

    def due_timers(
        self, partitions: Iterable[int] | None, now: datetime, limit: int, *, excluding: Collection[str] = ()
    ) -> list[ScheduleTimer]:
        wanted = None if partitions is None else set(partitions)
        store = self._store
        due = [store.timers[key] for _, key in store.timer_index.due_by(now, store.is_current_timer)]
        due = [t for t in due if (wanted is None or partition_of(t.customer_id) in wanted)
               and t.journey_id not in excluding]
        return sorted(due, key=lambda t: (t.due_at, t.timer_id))[:limit]

    def next_timer_due(self, *, excluding: Collection[str] = ()) -> datetime | None:
        if not excluding:
            return self._store.timer_index.first(self._store.is_current_timer)
        timers = self._store.timers.values()
        return min((t.due_at for t in timers if t.journey_id not in excluding), default=None)

    def apply(self, changes: Changes) -> None:
        self._store._apply(changes)  # later reads in this transaction see it, as in SQL

    def open_tasks(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], str]:
        return self._store.open_tasks(customer_ids)

    def histories(self, customer_ids: Iterable[str], names: Iterable[str]) -> dict[str, list[Event]]:
        return self._store.histories(customer_ids, names)

    # live versions

    def journeys(self) -> dict[str, JourneyState]:
        store = self._store
        versions = store.stored_versions
        names = {jid: versions[(jid, number)].definition["name"] for jid, number in store.live.items()}
        return {
            jid: JourneyState(jid, names[jid], number, store.paused.get(jid), store.rollout.get(jid, 100.0))
            for jid, number in sorted(store.live.items())
        }

    def version(self, journey_id: str, version: int) -> StoredVersion | None:
        return self._store.version(journey_id, version)

    def save_version(
        self, journey: Journey, *, digest: str, source: str | None, now: datetime, live: bool = True
    ) -> StoredVersion:
        return self._store.save_version(journey, digest=digest, source=source, now=now, live=live)

    def set_live(self, journey_id: str, version: int, *, now: datetime) -> JourneyState:
        if (journey_id, version) not in self._store.stored_versions:
            raise LookupError(f"journey {journey_id!r} has no version {version}")
        self._store.live[journey_id] = version
        return self.journeys()[journey_id]

    def set_rollout(self, journey_id: str, percent: float) -> None:
        if journey_id in self._store.live:
            self._store.rollout[journey_id] = percent

    def set_paused(self, journey_id: str, paused_at: datetime | None) -> None:
        if paused_at is None:
            self._store.paused.pop(journey_id, None)
        elif journey_id in self._store.live:
            self._store.paused[journey_id] = paused_at

    def active_enrollments_at(
        self, journey_id: str, version: int, step_ids: Iterable[str], *, after: str | None, limit: int
    ) -> list[Enrollment]:
        steps = set(step_ids)
        found = [
            e for e in self._store.enrollments.values()
            if e.journey_id == journey_id and e.version == version and e.is_active and e.step_id in steps
            and (after is None or e.id > after)
        ]
        return sorted(found, key=lambda e: e.id)[:limit]

    def held_events(self, journey_id: str) -> list[tuple[str, Event]]:
        events = self._store.events
        held = [h for h in self._store.held.values() if h.journey_id == journey_id and h.event_id in events]
        held.sort(key=lambda h: (h.customer_id, events[h.event_id][1], h.enrollment_id))  # as SQL
        return [(h.enrollment_id, events[h.event_id][0]) for h in held]

    def release_held(self, journey_id: str) -> None:
        held = self._store.held
        for key in [key for key, h in held.items() if h.journey_id == journey_id]:
            del held[key]

    def journey_timers_due(self, journey_id: str, now: datetime) -> list[ScheduleTimer]:
        due = [t for t in self._store.timers.values() if t.journey_id == journey_id and t.due_at <= now]
        return sorted(due, key=lambda t: (t.due_at, t.timer_id))


class MemoryStore(
    MemoryIndexes, MemoryPrivacy, MemoryTasks, MemoryOutbound, MemoryIdempotency, MemoryOutcomes, MemoryReview
):
    """Everything in dicts; one lock stands in for the database's transactions."""

    def __init__(self) -> None:
        MemoryOutbound.__init__(self)
        MemoryOutcomes.__init__(self)
        MemoryReview.__init__(self)
        self._lock = threading.RLock()
        self.stored_versions: dict[tuple[str, int], StoredVersion] = {}
        self.live: dict[str, int] = {}
        self.queue: dict[str, QueuedEvent] = {}
        self._seq = 0
        self.events: dict[str, tuple[Event, int]] = {}
        self.customers: dict[str, Customer] = {}
        self.enrollments: dict[str, Enrollment] = {}
        self.enrollments_by_customer: dict[str, dict[str, Enrollment]] = {}
        self.entries: dict[tuple[str, str], Entry] = {}
        self.timers: dict[str, ScheduleTimer] = {}
        self.outbox: dict[str, OutboxMessage] = {}
        self.leases: dict[str, datetime] = {}
        self.task_rows: dict[str, Task] = {}
        self.handoffs: dict[str, Handoff] = {}
        self.call_rows: dict[str, dict] = {}  # call id -> the row the SQL store would hold
        self.inbox_messages: dict[str, InboxMessage] = {}
        self.paused: dict[str, datetime] = {}  # journey id -> since when
        self.rollout: dict[str, float] = {}  # journey id -> the share let in, when under 100%
        self.held: dict[tuple[str, str], HeldEvent] = {}  # (enrollment id, event id) -> the held event
        self.ledger: list[ConsentRecord] = []  # in the order written, as the SQL table's seq
        self.ledger_ids: set[str] = set()
        self.erasure_log: list[Erasure] = []
        self.keys: dict[str, ApiKey] = {}
        self.people: dict[str, User] = {}  # by lower-cased email
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self._rebuild_indexes()

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        with self._lock:
            yield MemoryTransaction(self)

    def _apply(self, changes: Changes) -> None:
        for event, position in changes.events:
            if event.id not in self.events:
                self.events[event.id] = (event, position)
                self.events_by_customer.setdefault(event.customer_id, []).append(event.id)
        self.customers.update(changes.customers)
        for enrollment in changes.enrollments.values():
            self.enrollments[enrollment.id] = enrollment
            self.enrollments_by_customer.setdefault(enrollment.customer_id, {})[enrollment.id] = enrollment
        self.entries.update(changes.entries)
        for key, entry in changes.entries.items():
            self.entries_by_customer.setdefault(key[1], {})[key] = entry
        for timer_id in changes.cancelled_timers | changes.fired_timers:
            self.timers.pop(timer_id, None)
        for timer in changes.timers.values():
            if timer.timer_id not in self.timers:
                self.timers[timer.timer_id] = timer
                self.timer_index.add(timer.due_at, timer.timer_id)
        for message in changes.messages.values():
            if message.message_id not in self.outbox:
                self.outbox[message.message_id] = OutboxMessage(message)
                self.outbox_by_customer.setdefault(message.customer_id, []).append(message.message_id)
                self.pending_index.add(message.at, message.message_id)
        for task in changes.tasks.values():
            self.task_rows.setdefault(task.task_id, Task(task))
        for call in changes.calls.values():
            self.call_rows.setdefault(call.call_id, codec.call_row(call))
        for held in changes.held:
            self.held.setdefault((held.enrollment_id, held.event_id), held)
        dequeued = set(changes.dequeued)
        for event_id in [eid for eid, q in self.queue.items() if q.seq in dequeued]:
            del self.queue[event_id]
        for record in changes.consents:
            self._append_consent(record)
        self._write_outbound(changes.outbound)

    # journeys
    def save_version(
        self, journey: Journey, *, digest: str, source: str | None, now: datetime, live: bool = True
    ) -> StoredVersion:
        with self._lock:
            same = self._same_content(journey.id, digest, live=live)
            if same is not None:
                return same
            number = max((v for (jid, v) in self.stored_versions if jid == journey.id), default=0) + 1
            definition = journey.model_dump(mode="json", by_alias=True, exclude_none=True)
            stored = StoredVersion(journey.id, number, digest, definition, source, created_at=now)
            self.stored_versions[(journey.id, number)] = stored
            if live:
                self.live[journey.id] = number
            return stored

    def _same_content(self, journey_id: str, digest: str, *, live: bool) -> StoredVersion | None:
        """The live version if it has this digest (`live`), else the newest stored one that has it."""
        if live:
            current = self.live.get(journey_id)
            found = self.stored_versions.get((journey_id, current)) if current is not None else None
            return found if found is not None and found.digest == digest else None
        same = [v for (jid, _), v in self.stored_versions.items() if jid == journey_id and v.digest == digest]
        return max(same, key=lambda v: v.version, default=None)

    def live_versions(self) -> list[StoredVersion]:
        return [self.stored_versions[(jid, number)] for jid, number in sorted(self.live.items())]

    def version(self, journey_id: str, version: int) -> StoredVersion | None:
        return self.stored_versions.get((journey_id, version))

    def versions(self, journey_id: str) -> list[StoredVersion]:
        found = [v for (jid, _), v in self.stored_versions.items() if jid == journey_id]
        return sorted(found, key=lambda v: v.version)

    def journeys(self) -> list[JourneyState]:
        with self.transaction() as tx:
            return list(tx.journeys().values())

    def held_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for held in self.held.values():
            counts[held.journey_id] = counts.get(held.journey_id, 0) + 1
        return counts

    # queue and outbox
    def enqueue(self, events: Iterable[Event], *, now: datetime) -> int:
        return len(self.queue_events(events, now=now))

    def queue_events(self, events: Iterable[Event], *, now: datetime) -> set[str]:
        added: set[str] = set()
        with self._lock:
            for event in events:
                if event.id in self.queue or event.id in self.events:
                    continue
                self._seq += 1
                self.queue[event.id] = QueuedEvent(self._seq, event)
                added.add(event.id)
        return added

    def claim_messages(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[OutboxMessage]:
        with self._lock:
            found = self.pending_index.due_by(now, self.is_current_message)
            due = [self.outbox[mid] for _, mid in found if self.leases.get(mid, now) <= now]
            claimed = sorted(due, key=lambda row: (due_at(row), row.message.message_id))[:limit]  # as SQL
            for row in claimed:
                self.leases[row.message.message_id] = now + timedelta(seconds=lease_seconds)
            return claimed

    def renew_message_lease(self, message_id: str, *, held_until: datetime, until: datetime) -> bool:
        with self._lock:
            row = self.outbox.get(message_id)
            if row is None or row.status != "pending" or self.leases.get(message_id) != held_until:
                return False
            self.leases[message_id] = until
            return True

    def record_delivery(
        self, message_id: str, *, status: str, channel: str | None, at: datetime, error: str | None = None,
        next_attempt_at: datetime | None = None, provider_id: str | None = None, note: str | None = None,
        counted: bool = True, outbound: Sequence[OutboundEvent] = (),
    ) -> None:
        with self._lock:
            row = self.outbox[message_id]
            self.outbox[message_id] = replace(
                row, status=status, channel=channel, attempts=row.attempts + counted, error=error,
                delivered_at=at if status == "delivered" else row.delivered_at, next_attempt_at=next_attempt_at,
                provider_id=provider_id or row.provider_id, note=note if note is not None else row.note,
            )
            self.leases.pop(message_id, None)
            self._write_outbound(outbound)
            if status == "pending":
                self.pending_index.add(due_at(self.outbox[message_id]), message_id)

    def retry_parked(self, message_ids: Iterable[str] | None, *, now: datetime) -> int:
        with self._lock:
            wanted = [mid for mid, row in self.outbox.items() if row.status == "parked"
                      and (message_ids is None or mid in set(message_ids))]
            for message_id in wanted:
                row = self.outbox[message_id]
                self.outbox[message_id] = replace(row, status="pending", attempts=0, next_attempt_at=now)
                self.pending_index.add(now, message_id)
            return len(wanted)

    def last_event_times(self, customer_id: str, names: Iterable[str]) -> dict[str, datetime]:
        wanted, found = set(names), {}
        for event_id in self.events_by_customer.get(customer_id, ()):
            event = self.events[event_id][0]
            if event.customer_id == customer_id and event.name in wanted:
                found[event.name] = max(found.get(event.name, event.at), event.at)
        return found

    # the in-app inbox
    def add_to_inbox(self, message: InboxMessage) -> bool:
        with self._lock:
            if message.message_id in self.inbox_messages:
                return False
            self.inbox_messages[message.message_id] = message
            return True

    def inbox(self, customer_id: str, *, unread_only: bool = False) -> list[InboxMessage]:
        found = [
            m for m in self.inbox_messages.values()
            if m.customer_id == customer_id and not (unread_only and m.read_at is not None)
        ]
        found.sort(key=lambda m: m.message_id)
        return sorted(found, key=lambda m: m.created_at, reverse=True)  # as SQL: newest first, ties by id

    def mark_read(self, customer_id: str, message_ids: Iterable[str], *, at: datetime) -> int:
        marked = 0
        with self._lock:
            for message_id in set(message_ids):
                found = self.inbox_messages.get(message_id)
                if found is not None and found.customer_id == customer_id and found.read_at is None:
                    self.inbox_messages[message_id] = replace(found, read_at=at)
                    marked += 1
        return marked

    # webhook calls
    def claim_calls(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[WebhookCall]:
        with self._lock:
            due = [
                row for row in self.call_rows.values()
                if row["status"] == "pending" and row["next_attempt_at"] <= now
                and (row.get("lease_until") is None or row["lease_until"] <= now)
            ]
            claimed = sorted(due, key=lambda row: (row["next_attempt_at"], row["id"]))[:limit]  # as SQL
            for row in claimed:
                row["lease_until"] = now + timedelta(seconds=lease_seconds)
            return [codec.webhook_call_from_row(row) for row in claimed]

    def record_call(
        self, call_id: str, *, status: str, at: datetime, attempts: int,
        next_attempt_at: datetime | None = None, response=None, error: str | None = None,
    ) -> None:
        values = codec.call_outcome(status=status, at=at, attempts=attempts, next_attempt_at=next_attempt_at,
                                    response=response, error=error)
        with self._lock:
            self.call_rows[call_id].update(values)

    def calls(self, customer_id: str | None = None) -> list[WebhookCall]:
        found = [row for row in self.call_rows.values() if customer_id in (None, row["customer_id"])]
        found.sort(key=lambda row: (row["created_at"], row["id"]))
        return [codec.webhook_call_from_row(row) for row in found]

    # reading
    def counts(self) -> dict[str, int]:
        return {
            "events": len(self.events),
            "queued": len(self.queue),
            "customers": len(self.customers),
            "enrollments": len(self.enrollments),
            "active_enrollments": sum(1 for e in self.enrollments.values() if e.is_active),
            "timers": len(self.timers),
            "messages": len(self.outbox),
            "delivered": sum(1 for m in self.outbox.values() if m.status == "delivered"),
        }

    def step_counts(self) -> list[tuple[str, int, str, str, int]]:
        tally: dict[tuple[str, int, str, str], int] = {}
        for e in self.enrollments.values():
            key = (e.journey_id, e.version, e.step_id or "-", e.status if e.is_active else f"ended:{e.exit_reason}")
            tally[key] = tally.get(key, 0) + 1
        return [(*key, count) for key, count in sorted(tally.items())]

    def goal_counts(self) -> dict[str, GoalCounts]:
        tally: dict[str, list[int]] = {}
        for e in self.enrollments.values():
            counts = tally.setdefault(e.journey_id, [0, 0, 0, 0])
            offset = 2 if e.is_holdout else 0
            counts[offset] += 1
            counts[offset + 1] += e.goal_reached_at is not None
        return {journey_id: GoalCounts(*counts) for journey_id, counts in sorted(tally.items())}

    def step_paths(self, journey_id: str, version: int) -> list[tuple[str, ...]]:
        return [tuple(visit.step_id for visit in e.history)
                for _, e in sorted(self.enrollments.items()) if (e.journey_id, e.version) == (journey_id, version)]

    def messages(self, customer_id: str | None = None) -> list[OutboxMessage]:
        if customer_id is None:
            found = list(self.outbox.values())
        else:
            rows = (self.outbox[mid] for mid in self.outbox_by_customer.get(customer_id, ()))
            found = [m for m in rows if m.message.customer_id == customer_id]
        return sorted(found, key=lambda m: (m.message.at, m.message.message_id))

    def message(self, message_id: str) -> OutboxMessage | None:
        return self.outbox.get(message_id)

    def messages_page(
        self, *, customer_id: str | None = None, status: str | None = None, journey_id: str | None = None,
        channel: str | None = None, after: Cursor | None = None, limit: int = 100,
    ) -> list[OutboxMessage]:
        wanted = {"customer_id": customer_id, "status": status, "journey_id": journey_id, "channel": channel}
        found = [row for row in self.messages() if _matches(_message_fields(row), wanted)]
        return _page(found, lambda row: (row.message.at, row.message.message_id), after, limit)

    def customer(self, customer_id: str) -> Customer | None:
        return self.customers.get(customer_id)

    def tasks(self, *, status: str | None = None, customer_id: str | None = None) -> list[Task]:
        found = [
            row for row in self.task_rows.values()
            if (status is None or row.status == status) and customer_id in (None, row.task.customer_id)
        ]
        return sorted(found, key=lambda row: (row.task.due_at, row.task.task_id))

    def tasks_page(
        self, *, status: str | None = None, customer_id: str | None = None, queue: str | None = None,
        priority: str | None = None, reason: str | None = None, after: Cursor | None = None, limit: int = 100,
    ) -> list[Task]:
        found = self.tasks(status=status, customer_id=customer_id)
        found = [row for row in found if queue in (None, row.task.queue) and priority in (None, row.task.priority)
                 and reason in (None, row.task.reason)]
        return _page(found, lambda row: (row.task.due_at, row.task.task_id), after, limit)

    def resolve_task(self, task_id: str, *, outcome: str, at: datetime, by: str | None = None) -> Task:
        with self._lock:
            row = self.task_rows.get(task_id)
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}")
            if row.status in ("resolved", "cancelled"):
                raise TaskClosed(f"task {task_id} is {row.status} already (outcome: {row.outcome})")
            resolved = replace(row, status="resolved", outcome=outcome, resolved_at=at, assignee=by or row.assignee)
            self.task_rows[task_id] = resolved
            self._write_outbound([task_resolved(row.task, outcome=outcome, by=by, at=at)])
            return resolved

    def enrollments_of(self, customer_id: str) -> list[Enrollment]:
        return sorted(self.enrollments_by_customer.get(customer_id, {}).values(), key=lambda e: (e.started_at, e.id))

    def customer_events(self, customer_id: str) -> list[tuple[str, int]]:
        found = [(event.id, pos) for event, pos in self.events.values() if event.customer_id == customer_id]
        return sorted(found, key=lambda item: item[1])

    def customer_of_order(self, order_id: str) -> str | None:
        with self._lock:
            processed = sorted(self.events.values(), key=lambda item: item[1])
            candidates = [event for event, _ in processed] + [q.event for q in sorted(self.queue.values(),
                                                                                      key=lambda q: q.seq)]
        return next((event.customer_id for event in candidates
                     if event.name == ORDER_COMPLETED and event.properties.get("order_id") == order_id), None)

    # API keys
    def save_api_key(self, key: ApiKey) -> None:
        with self._lock:
            if key.id in self.keys:
                raise ValueError(f"an API key {key.id!r} exists already")
            self.keys[key.id] = key

    def api_key(self, key_id: str) -> ApiKey | None:
        return self.keys.get(key_id)

    def api_keys(self) -> list[ApiKey]:
        return sorted(self.keys.values(), key=lambda key: (key.created_at, key.id))

    def revoke_api_key(self, key_id: str, *, at: datetime) -> ApiKey:
        with self._lock:
            key = self.keys.get(key_id)
            if key is None:
                raise ApiKeyNotFound(f"no API key {key_id!r}: `onboardflow apikey list` shows the keys there are")
            if key.revoked_at is None:
                key = self.keys[key_id] = replace(key, revoked_at=at)
            return key

    # users
    def save_user(self, user: User) -> None:
        with self._lock:
            self.people[user.email.lower()] = replace(user, email=user.email.lower())

    def user(self, email: str) -> User | None:
        return self.people.get(email.lower())

    def users(self) -> list[User]:
        return [self.people[email] for email in sorted(self.people)]

    def close(self) -> None:
        return None


def _due_at(row: OutboxMessage) -> datetime:
    return row.next_attempt_at or row.message.at


def _message_fields(row: OutboxMessage) -> dict[str, str | None]:
    message = row.message
    return {"customer_id": message.customer_id, "status": row.status, "journey_id": message.journey_id,
            "channel": row.channel}


def _matches(fields: dict[str, str | None], wanted: dict[str, str | None]) -> bool:
    return all(value is None or fields[name] == value for name, value in wanted.items())


def _page(rows: list, key, after: Cursor | None, limit: int) -> list:
    """`rows` sorted by `key`: the first `limit` of those after the cursor, as the SQL store's keyset."""
    if after is not None:
        rows = [row for row in rows if key(row) > after]
    return rows[:limit]

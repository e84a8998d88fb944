"""The memory store's consent ledger and GDPR parts, as the SQL store's `store.privacy` does them: one
customer's data in one read, and erasure; what is kept and removed is decided in `core.privacy`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from onboardflow.core.consent import ConsentRecord, ConsentState, current_state
from onboardflow.core.effects import ScheduleTimer, stable_id
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.core.privacy import (
    CANCELLED,
    OPEN_TASK_STATUSES,
    erased_call_request,
    erased_consent,
    erased_enrollment,
    erased_event,
    erased_inbox_message,
    erased_message,
    erased_profile,
    erased_task,
    running_timer_ids,
)
from onboardflow.ports import (
    CustomerData,
    Entry,
    Erasure,
    HeldEvent,
    InboxMessage,
    OutboxMessage,
    QueuedEvent,
    Task,
    partition_of,
)
from onboardflow.store import codec


class MemoryPrivacy:
    """Mixed into MemoryStore, whose dicts it reads and changes under the store's lock."""

    _lock: threading.RLock
    queue: dict[str, QueuedEvent]
    events: dict[str, tuple[Event, int]]
    customers: dict[str, Customer]
    enrollments: dict[str, Enrollment]
    enrollments_by_customer: dict[str, dict[str, Enrollment]]
    entries: dict[tuple[str, str], Entry]
    timers: dict[str, ScheduleTimer]
    outbox: dict[str, OutboxMessage]
    leases: dict[str, datetime]
    task_rows: dict[str, Task]
    call_rows: dict[str, dict]
    inbox_messages: dict[str, InboxMessage]
    held: dict[tuple[str, str], HeldEvent]
    ledger: list[ConsentRecord]  # in the order written, as the SQL table's seq
    ledger_ids: set[str]
    ledger_by_customer: dict[str, list[int]]  # seqs of `ledger`, per customer
    erasure_log: list[Erasure]
    _erase_deliveries: Callable[[str], int]  # MemoryOutbound's

    def _rebuild_indexes(self) -> None: ...

    def _append_consent(self, record: ConsentRecord) -> bool:
        if record.id in self.ledger_ids:
            return False
        self.ledger_ids.add(record.id)
        self.ledger_by_customer.setdefault(record.customer_id, []).append(len(self.ledger))
        self.ledger.append(record)
        return True

    def record_consent(self, record: ConsentRecord) -> bool:
        with self._lock:
            return self._append_consent(record)

    def consents(self, customer_id: str) -> list[ConsentRecord]:
        with self._lock:
            ledger = self.ledger
            own = [(ledger[seq].at, seq, ledger[seq]) for seq in self.ledger_by_customer.get(customer_id, ())
                   if ledger[seq].customer_id == customer_id]
        return [record for _, _, record in sorted(own, key=lambda item: item[:2])]

    def consent_state(self, customer_id: str) -> ConsentState:
        return current_state(self.consents(customer_id))

    def customer_data(self, customer_id: str) -> CustomerData:
        with self._lock:
            events = [(e, pos) for e, pos in self.events.values() if e.customer_id == customer_id]
            queued = sorted(
                (q for q in self.queue.values() if q.event.customer_id == customer_id), key=lambda q: q.seq
            )
            return CustomerData(
                customer_id=customer_id,
                profile=self.customers.get(customer_id),
                events=sorted(events, key=lambda item: (item[1], item[0].id)),
                queued=[q.event for q in queued],
                enrollments=self.enrollments_of(customer_id),
                messages=self.messages(customer_id),
                consents=self.consents(customer_id),
                tasks=self.tasks(customer_id=customer_id),
                webhook_calls=[codec.call_document(row) for row in self._calls_of(customer_id)],
                inbox=self.inbox(customer_id),
                webhook_deliveries=self.deliveries(customer_id=customer_id)[::-1],  # oldest first
            )

    def _calls_of(self, customer_id: str) -> list[dict]:
        own = [row for row in self.call_rows.values() if row["customer_id"] == customer_id]
        return sorted(own, key=lambda row: (row["created_at"], row["id"]))

    def erase_customer(self, customer_id: str, *, pseudonym: str, now: datetime) -> Erasure | None:
        """As the SQL store: see `core.privacy` for what is kept, `store.privacy` for the steps."""
        with self._lock:
            data = self.customer_data(customer_id)
            if data.is_empty:
                return None
            if not self.customer_data(pseudonym).is_empty:
                raise ValueError(f"the pseudonym {pseudonym!r} is in use already: choose another")
            counts = {
                "customers": self._erase_profile(data, pseudonym),
                "events": self._erase_events(data, pseudonym),
                "enrollments": self._erase_enrollments(data, pseudonym, now),
                "timers": self._delete_timers(data),
                "tasks": self._erase_tasks(data, pseudonym),
                "webhook_calls": self._erase_calls(customer_id, pseudonym),
                "inbox": self._erase_inbox(customer_id, pseudonym),
                **self._move_rows(customer_id, pseudonym),
                "webhook_deliveries_deleted": self._erase_deliveries(customer_id),
            }
            erasure = Erasure(stable_id("era", pseudonym), pseudonym, now, counts)
            self.erasure_log.append(erasure)
            self._rebuild_indexes()
            return erasure

    def erasures(self) -> list[Erasure]:
        return sorted(self.erasure_log, key=lambda erasure: (erasure.erased_at, erasure.id))

    def _erase_profile(self, data: CustomerData, pseudonym: str) -> int:
        if data.profile is None:
            return 0
        del self.customers[data.customer_id]
        self.customers[pseudonym] = erased_profile(data.profile, pseudonym)
        return 1

    def _erase_events(self, data: CustomerData, pseudonym: str) -> int:
        for event, position in data.events:
            self.events[event.id] = (erased_event(event, pseudonym), position)
        return len(data.events)

    def _erase_enrollments(self, data: CustomerData, pseudonym: str, now: datetime) -> int:
        self.enrollments_by_customer.pop(data.customer_id, None)
        for enrollment in data.enrollments:
            erased = erased_enrollment(enrollment, pseudonym, now=now)
            self.enrollments[erased.id] = erased
            self.enrollments_by_customer.setdefault(pseudonym, {})[erased.id] = erased
        for journey_id, customer_id in [key for key in self.entries if key[1] == data.customer_id]:
            entry = self.entries.pop((journey_id, customer_id))
            self.entries[(journey_id, pseudonym)] = replace(entry, customer_id=pseudonym)
        return len(data.enrollments)

    def _delete_timers(self, data: CustomerData) -> int:
        ids = running_timer_ids(data.enrollments)
        for timer_id in ids:
            self.timers.pop(timer_id, None)
        return len(ids)

    def _erase_tasks(self, data: CustomerData, pseudonym: str) -> int:
        for row in data.tasks:
            status = CANCELLED if row.status in OPEN_TASK_STATUSES else row.status
            erased = replace(row, task=erased_task(row.task, pseudonym), status=status, outcome=None)
            self.task_rows[row.task.task_id] = erased
        return len(data.tasks)

    def _erase_calls(self, customer_id: str, pseudonym: str) -> int:
        own = self._calls_of(customer_id)
        for row in own:
            self.call_rows[row["id"]] = {
                **row, "customer_id": pseudonym, "partition": partition_of(pseudonym), "scope": {},
                "request": erased_call_request(row["request"]), "response": None, "error": None,
                "status": CANCELLED if row["status"] == "pending" else row["status"],
            }
        return len(own)

    def _erase_inbox(self, customer_id: str, pseudonym: str) -> int:
        own = [m for m in self.inbox_messages.values() if m.customer_id == customer_id]
        for message in own:
            self.inbox_messages[message.message_id] = erased_inbox_message(message, pseudonym)
        return len(own)

    def _move_rows(self, customer_id: str, pseudonym: str) -> dict[str, int]:
        moved = 0
        for message_id, row in list(self.outbox.items()):
            if row.message.customer_id != customer_id:
                continue
            pending = row.status == "pending"
            self.outbox[message_id] = replace(
                row,
                message=erased_message(row.message, pseudonym),
                status=CANCELLED if pending else row.status,
                error="customer erased" if pending else None,
            )
            self.leases.pop(message_id, None)
            moved += 1
        own = [seq for seq, record in enumerate(self.ledger) if record.customer_id == customer_id]
        for seq in own:
            self.ledger[seq] = erased_consent(self.ledger[seq], pseudonym)
        queued = [event_id for event_id, q in self.queue.items() if q.event.customer_id == customer_id]
        for event_id in queued:
            del self.queue[event_id]
        for key in [key for key, held in self.held.items() if held.customer_id == customer_id]:
            del self.held[key]
        return {"messages": moved, "consents": len(own), "queued_events_deleted": len(queued)}

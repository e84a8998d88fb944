"""The memory store's task work and history reads, as the SQL store's `store.tasks` and `store.history` do
them: claims, overdue marks, the helpdesk hand-off, open tasks by customer and reason, events by customer."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from onboardflow.core.model import Event
from onboardflow.ports import Task, TaskNotFound
from onboardflow.store.tasks import OVERDUE_PRIORITY, check_claim


@dataclass
class Handoff:
    """What the SQL table's handoff columns hold for one task."""

    due_at: datetime | None
    attempts: int = 0
    lease_until: datetime | None = None


class MemoryTasks:
    """Mixed into MemoryStore, whose dicts it reads and changes under the store's lock."""

    _lock: threading.RLock
    events: dict[str, tuple[Event, int]]
    task_rows: dict[str, Task]
    handoffs: dict[str, Handoff]

    def task(self, task_id: str) -> Task | None:
        return self.task_rows.get(task_id)

    def claim_task(self, task_id: str, *, assignee: str, at: datetime) -> Task:
        with self._lock:
            found = self.task_rows.get(task_id)
            if found is None:
                raise TaskNotFound(f"no task {task_id!r}")
            checked = check_claim(found, assignee)
            if checked is not None:
                return checked
            claimed = self.task_rows[task_id] = replace(
                found, status="assigned", assignee=assignee, assigned_at=at
            )
            return claimed

    def mark_overdue(self, now: datetime, *, limit: int = 500) -> list[Task]:
        with self._lock:
            due = sorted(
                (row for row in self.task_rows.values() if row.is_overdue(now) and row.overdue_at is None),
                key=lambda row: (row.task.due_at, row.task.task_id),
            )[:limit]
            marked = []
            for row in due:
                urgent = replace(row.task, priority=OVERDUE_PRIORITY)
                marked.append(replace(row, task=urgent, overdue_at=now))
                self.task_rows[row.task.task_id] = marked[-1]
            return marked

    def claim_handoffs(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[Task]:
        with self._lock:
            due = [
                row
                for task_id, row in self.task_rows.items()
                if row.is_open
                and self._handoff(row).due_at is not None
                and self._handoff(row).due_at <= now
                and (self._handoff(row).lease_until is None or self._handoff(row).lease_until <= now)
            ]
            claimed = sorted(due, key=lambda row: (self._handoff(row).due_at, row.task.task_id))[:limit]
            for row in claimed:
                self._handoff(row).lease_until = now + timedelta(seconds=lease_seconds)
            return claimed

    def record_handoff(
        self,
        task_id: str,
        *,
        at: datetime,
        external_id: str | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        with self._lock:
            row = self.task_rows.get(task_id)
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}")
            handoff = self._handoff(row)
            handoff.attempts += 1
            handoff.lease_until = None
            if external_id is not None:
                handoff.due_at = None
                row = replace(row, external_id=external_id, handed_off_at=at)
            else:
                handoff.due_at = next_attempt_at
            self.task_rows[task_id] = replace(row, handoff_error=error, handoff_attempts=handoff.attempts)

    def _handoff(self, row: Task) -> Handoff:
        return self.handoffs.setdefault(row.task.task_id, Handoff(row.task.at))

    # the engine's reads, in a transaction

    def open_tasks(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], str]:
        wanted = set(customer_ids)
        found: dict[tuple[str, str], str] = {}
        rows = sorted(self.task_rows.values(), key=lambda row: (row.task.at, row.task.task_id))  # as SQL
        for row in rows:
            if row.is_open and row.task.customer_id in wanted:
                found.setdefault((row.task.customer_id, row.task.reason), row.task.task_id)
        return found

    def histories(self, customer_ids: Iterable[str], names: Iterable[str] | None) -> dict[str, list[Event]]:
        wanted, named = set(customer_ids), None if names is None else set(names)
        found: dict[str, list[tuple[int, Event]]] = {}
        for event, position in list(self.events.values()):
            if event.customer_id in wanted and (named is None or event.name in named):
                found.setdefault(event.customer_id, []).append((position, event))
        return {
            customer: [event for _, event in sorted(rows, key=lambda item: item[0])]
            for customer, rows in found.items()
        }

    # history, for the models

    def history(self, *, names: Iterable[str] | None = None) -> Iterator[Event]:
        named = None if names is None else set(names)
        with self._lock:
            rows = [
                (event.customer_id, position, event.id, event)
                for event, position in self.events.values()
                if named is None or event.name in named
            ]
        for *_, event in sorted(rows, key=lambda row: row[:3]):
            yield event

    def customer_history(self, customer_id: str, *, names: Iterable[str] | None = None) -> list[Event]:
        return self.histories([customer_id], names).get(customer_id, [])

"""Indexes of the memory store: what is due by a time, and one customer's rows, without scanning them all.

The simulator asks "which timers and messages are due by T" thousands of times over a store of millions
of rows; a scan each time would make a run quadratic in its customers.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import datetime

from onboardflow.core.consent import ConsentRecord
from onboardflow.core.effects import ScheduleTimer
from onboardflow.core.model import Event
from onboardflow.ports import Entry, OutboxMessage

IsCurrent = Callable[[datetime, str], bool]  # (due, key) -> whether the row still stands at that time


class DueIndex:
    """Keys by due time, in a heap. A row that changes is added again with its new time; the old entry
    goes stale and is dropped when met (`is_current` says which entries still stand)."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []

    def add(self, due: datetime, key: str) -> None:
        heapq.heappush(self._heap, (due, key))

    def rebuild(self, entries: Iterable[tuple[datetime, str]]) -> None:
        self._heap = list(entries)
        heapq.heapify(self._heap)

    def first(self, is_current: IsCurrent) -> datetime | None:
        """The earliest due time of a current entry."""
        self._drop_stale(is_current)
        return self._heap[0][0] if self._heap else None

    def due_by(self, now: datetime, is_current: IsCurrent) -> list[tuple[datetime, str]]:
        """Every current (due, key) with due <= now, earliest first: walks only the heap's due part."""
        self._drop_stale(is_current)
        heap, found, stack = self._heap, [], [0] if self._heap else []
        while stack:
            index = stack.pop()
            due, key = heap[index]
            if due > now:
                continue  # the heap property: nothing below is due either
            if is_current(due, key):
                found.append((due, key))
            stack.extend(child for child in (2 * index + 1, 2 * index + 2) if child < len(heap))
        found.sort()
        return list(dict.fromkeys(found))  # a key added twice at one time is one entry

    def _drop_stale(self, is_current: IsCurrent) -> None:
        heap = self._heap
        while heap and not is_current(*heap[0]):
            heapq.heappop(heap)


def due_at(row: OutboxMessage) -> datetime:
    """When a pending outbox message is due: its next attempt, else at once (its own time)."""
    return row.next_attempt_at or row.message.at


class MemoryIndexes:
    """Mixed into MemoryStore: its indexes, built from its rows (and again after an erasure moved some)."""

    events: dict[str, tuple[Event, int]]
    entries: dict[tuple[str, str], Entry]
    timers: dict[str, ScheduleTimer]
    outbox: dict[str, OutboxMessage]
    ledger: list[ConsentRecord]

    def _rebuild_indexes(self) -> None:
        self.entries_by_customer: dict[str, dict[tuple[str, str], Entry]] = {}
        for key, entry in self.entries.items():
            self.entries_by_customer.setdefault(key[1], {})[key] = entry
        self.events_by_customer: dict[str, list[str]] = {}
        for event, _ in self.events.values():
            self.events_by_customer.setdefault(event.customer_id, []).append(event.id)
        self.outbox_by_customer: dict[str, list[str]] = {}
        for message_id, row in self.outbox.items():
            self.outbox_by_customer.setdefault(row.message.customer_id, []).append(message_id)
        self.ledger_by_customer: dict[str, list[int]] = {}
        for seq, record in enumerate(self.ledger):
            self.ledger_by_customer.setdefault(record.customer_id, []).append(seq)
        self.timer_index = DueIndex()
        self.timer_index.rebuild((timer.due_at, timer_id) for timer_id, timer in self.timers.items())
        self.pending_index = DueIndex()
        pending = ((due_at(row), mid) for mid, row in self.outbox.items() if row.status == "pending")
        self.pending_index.rebuild(pending)

    def is_current_timer(self, due: datetime, timer_id: str) -> bool:
        timer = self.timers.get(timer_id)
        return timer is not None and timer.due_at == due

    def is_current_message(self, due: datetime, message_id: str) -> bool:
        row = self.outbox.get(message_id)
        return row is not None and row.status == "pending" and due_at(row) == due

"""The memory store's outcome reads and report runs, as the SQL store's `store.outcomes` does them."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from onboardflow.core.model import Customer, Enrollment
from onboardflow.ports import ReportRun


class MemoryOutcomes:
    """Mixed into MemoryStore, whose dicts it reads under the store's lock."""

    _lock: threading.RLock
    enrollments: dict[str, Enrollment]
    customers: dict[str, Customer]

    def __init__(self) -> None:
        self.runs: dict[str, ReportRun] = {}

    def journey_enrollments(self, journey_id: str | None = None) -> list[Enrollment]:
        with self._lock:
            found = [e for e in self.enrollments.values() if journey_id in (None, e.journey_id)]
        return sorted(found, key=lambda e: (e.started_at, e.id))

    def profiles(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        with self._lock:
            return {cid: self.customers[cid] for cid in set(customer_ids) if cid in self.customers}

    def claim_report_run(self, run: ReportRun) -> bool:
        with self._lock:
            if run.id in self.runs:
                return False
            self.runs[run.id] = run
            return True

    def report_runs(self, kind: str | None = None) -> list[ReportRun]:
        with self._lock:
            found = [run for run in self.runs.values() if kind in (None, run.kind)]
        return sorted(found, key=lambda run: (run.started_at, run.id))

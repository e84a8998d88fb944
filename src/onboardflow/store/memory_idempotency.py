"""The memory store's Idempotency-Key records, as `store.idempotency` keeps them in SQL."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime

from onboardflow.ports import IdempotencyRecord


class MemoryIdempotency:
    """Mixed into MemoryStore: the records in a dict, under the store's lock."""

    _lock: threading.RLock
    idempotency: dict[tuple[str, str], IdempotencyRecord]

    def claim_idempotency_key(
        self, record: IdempotencyRecord, *, stale_before: datetime, expired_before: datetime
    ) -> IdempotencyRecord | None:
        with self._lock:
            kept = self.idempotency.get((record.api_key_id, record.key))
            if kept is None or kept.gives_way(stale_before=stale_before, expired_before=expired_before):
                self.idempotency[(record.api_key_id, record.key)] = record
                return None
            return kept

    def save_idempotent_answer(self, claimed: IdempotencyRecord, *, status: int, body: str) -> None:
        with self._lock:
            if self._holds(claimed):
                self.idempotency[(claimed.api_key_id, claimed.key)] = dataclasses.replace(
                    claimed, status=status, body=body
                )

    def release_idempotency_key(self, claimed: IdempotencyRecord) -> None:
        with self._lock:
            if self._holds(claimed):
                del self.idempotency[(claimed.api_key_id, claimed.key)]

    def _holds(self, claimed: IdempotencyRecord) -> bool:
        kept = self.idempotency.get((claimed.api_key_id, claimed.key))
        return kept is not None and kept.locked_at == claimed.locked_at and kept.is_in_flight

    def idempotency_record(self, api_key_id: str, key: str) -> IdempotencyRecord | None:
        return self.idempotency.get((api_key_id, key))

    def purge_idempotency_keys(self, *, before: datetime) -> int:
        with self._lock:
            old = [name for name, kept in self.idempotency.items() if kept.created_at < before]
            for name in old:
                del self.idempotency[name]
            return len(old)

"""The memory store's outbound webhooks, as the SQL store's `store.outbound` does them: subscriptions,
deliveries fanned out with the change they report, claimed with a lease, recorded attempt by attempt."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from onboardflow.core.outbound import OutboundDelivery, OutboundEvent, Subscription, deliveries_for
from onboardflow.ports import Cursor, SubscriptionNotFound
from onboardflow.store.outbound import attempt_values, disabled_note


class MemoryOutbound:
    """Mixed into MemoryStore: its lock stands in for the transaction."""

    _lock: threading.RLock

    def __init__(self) -> None:
        self.subscription_rows: dict[str, Subscription] = {}
        self.delivery_rows: dict[str, OutboundDelivery] = {}
        self.delivery_leases: dict[str, datetime] = {}

    def _write_outbound(self, events: Sequence[OutboundEvent]) -> None:
        if events and self.subscription_rows:
            self._insert_deliveries(deliveries_for(events, self.subscription_rows.values()))

    def _insert_deliveries(self, deliveries: Iterable[OutboundDelivery]) -> int:
        added = 0
        for delivery in deliveries:
            if delivery.id not in self.delivery_rows:
                self.delivery_rows[delivery.id] = delivery
                added += 1
        return added

    # subscriptions

    def create_subscription(self, subscription: Subscription) -> Subscription:
        with self._lock:
            if subscription.id in self.subscription_rows:
                raise ValueError(f"a subscription with id {subscription.id!r} exists already")
            self.subscription_rows[subscription.id] = subscription
            return subscription

    def subscriptions(self) -> list[Subscription]:
        return sorted(self.subscription_rows.values(), key=lambda s: (s.created_at, s.id))  # as SQL

    def subscription(self, subscription_id: str) -> Subscription | None:
        return self.subscription_rows.get(subscription_id)

    def update_subscription(self, subscription: Subscription) -> Subscription:
        with self._lock:
            current = self.subscription_rows.get(subscription.id)
            if current is None:
                raise SubscriptionNotFound(f"no subscription {subscription.id!r}")
            subscription = replace(subscription, created_at=current.created_at)
            self.subscription_rows[subscription.id] = subscription
            if not subscription.enabled:
                self._fail_pending(subscription)
            return subscription

    def _fail_pending(self, subscription: Subscription) -> None:
        at = subscription.disabled_at or subscription.created_at
        for delivery_id, delivery in list(self.delivery_rows.items()):
            if delivery.subscription_id == subscription.id and delivery.status == "pending":
                self.delivery_rows[delivery_id] = replace(
                    delivery, status="failed", error=disabled_note(subscription), finished_at=at,
                    next_attempt_at=None)
                self.delivery_leases.pop(delivery_id, None)

    def delete_subscription(self, subscription_id: str) -> bool:
        with self._lock:
            theirs = [key for key, d in self.delivery_rows.items() if d.subscription_id == subscription_id]
            for delivery_id in theirs:
                del self.delivery_rows[delivery_id]
                self.delivery_leases.pop(delivery_id, None)
            return self.subscription_rows.pop(subscription_id, None) is not None

    def _erase_deliveries(self, customer_id: str) -> int:
        theirs = [key for key, d in self.delivery_rows.items() if d.customer_id == customer_id]
        for delivery_id in theirs:
            del self.delivery_rows[delivery_id]
            self.delivery_leases.pop(delivery_id, None)
        return len(theirs)

    # deliveries

    def add_deliveries(self, deliveries: Iterable[OutboundDelivery]) -> int:
        with self._lock:
            return self._insert_deliveries(deliveries)

    def claim_deliveries(
        self, now: datetime, limit: int, *, lease_seconds: int = 60
    ) -> list[OutboundDelivery]:
        with self._lock:
            enabled = {s.id for s in self.subscription_rows.values() if s.enabled}
            due = [
                d for d in self.delivery_rows.values()
                if d.status == "pending" and d.subscription_id in enabled and d.next_attempt_at is not None
                and d.next_attempt_at <= now and self.delivery_leases.get(d.id, now) <= now
            ]
            claimed = sorted(due, key=lambda d: (d.next_attempt_at, d.id))[:limit]
            for delivery in claimed:
                self.delivery_leases[delivery.id] = now + timedelta(seconds=lease_seconds)
            return claimed

    def record_attempt(
        self, delivery_id: str, *, status: str, at: datetime, attempts: int,
        next_attempt_at: datetime | None = None, response_status: int | None = None, error: str | None = None,
    ) -> bool:
        values = attempt_values(status=status, at=at, attempts=attempts, next_attempt_at=next_attempt_at,
                                response_status=response_status, error=error)
        with self._lock:
            delivery = self.delivery_rows.get(delivery_id)
            if delivery is None:
                return False
            self.delivery_rows[delivery_id] = replace(delivery, **values)
            self.delivery_leases.pop(delivery_id, None)
            return True

    def deliveries(self, *, status: str | None = None, subscription_id: str | None = None,
                   customer_id: str | None = None, before: Cursor | None = None,
                   limit: int | None = None) -> list[OutboundDelivery]:
        found = [
            d for d in self.delivery_rows.values()
            if status in (None, d.status) and subscription_id in (None, d.subscription_id)
            and customer_id in (None, d.customer_id) and (before is None or (d.created_at, d.id) < before)
        ]
        found.sort(key=lambda d: (d.created_at, d.id), reverse=True)  # as SQL: newest first
        return found if limit is None else found[:limit]

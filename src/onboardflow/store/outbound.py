"""The SQL side of outbound webhooks: subscriptions, and deliveries written in the transaction of the
change they report (a transactional outbox), claimed with a lease and recorded attempt by attempt.

The rows as records, and the checks on what an attempt records, are here too: the memory store uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from onboardflow.core.outbound import (
    DELIVERY_STATUSES,
    OutboundDelivery,
    OutboundEvent,
    Subscription,
    deliveries_for,
)
from onboardflow.ports import Cursor, SubscriptionNotFound
from onboardflow.store.schema import UtcDateTime, webhook_deliveries, webhook_subscriptions
from onboardflow.store.statements import dialect_insert, insert_rows

Row = dict[str, Any]


# records and rows


def subscription_row(subscription: Subscription) -> Row:
    return {
        "id": subscription.id, "url": subscription.url, "events": list(subscription.events),
        "secret": subscription.secret, "description": subscription.description,
        "enabled": subscription.enabled, "disabled_reason": subscription.disabled_reason,
        "disabled_at": subscription.disabled_at, "created_at": subscription.created_at,
        "previous_secret": subscription.previous_secret,
        "previous_secret_until": subscription.previous_secret_until,
    }


def subscription_from_row(row: Any) -> Subscription:
    return Subscription(
        id=row["id"], url=row["url"], events=tuple(row["events"]), secret=row["secret"],
        created_at=row["created_at"], description=row["description"], enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"], disabled_at=row["disabled_at"],
        previous_secret=row["previous_secret"], previous_secret_until=row["previous_secret_until"],
    )


DELIVERY_FIELDS = ("id", "subscription_id", "event_id", "event_type", "body", "created_at", "customer_id",
                   "status", "attempts", "next_attempt_at", "response_status", "error", "finished_at")


def delivery_row(delivery: OutboundDelivery) -> Row:
    return {name: getattr(delivery, name) for name in DELIVERY_FIELDS}


def delivery_from_row(row: Any) -> OutboundDelivery:
    return OutboundDelivery(**{name: row[name] for name in DELIVERY_FIELDS})


def attempt_values(*, status: str, at: datetime, attempts: int, next_attempt_at: datetime | None,
                   response_status: int | None, error: str | None) -> Row:
    """The values `record_attempt` writes: pending again until `next_attempt_at`, or finished at `at`."""
    if status not in DELIVERY_STATUSES:
        raise ValueError(f"a delivery's status is one of {', '.join(DELIVERY_STATUSES)}, not {status!r}")
    values: Row = {"status": status, "attempts": attempts, "response_status": response_status, "error": error}
    if status == "pending":
        if next_attempt_at is None:
            raise ValueError("a delivery kept pending for a retry needs next_attempt_at: when to try again")
        values["next_attempt_at"] = next_attempt_at
    else:
        values["finished_at"] = at
        values["next_attempt_at"] = None
    return values


def disabled_note(subscription: Subscription) -> str:
    return f"not sent: the subscription was disabled ({subscription.disabled_reason or 'no reason given'})"


# subscriptions


def write_events(connection: sa.Connection, events: Sequence[OutboundEvent]) -> None:
    """A delivery for each event and each enabled subscription that wants it, in this transaction;
    one already written (same event, same subscription) is left as it is."""
    if not events:
        return
    query = sa.select(webhook_subscriptions).where(webhook_subscriptions.c.enabled.is_(True))
    subscriptions = [subscription_from_row(row) for row in connection.execute(query).mappings()]
    if subscriptions:
        rows = [delivery_row(delivery) for delivery in deliveries_for(events, subscriptions)]
        insert_rows(connection, _insert_or_skip(connection.dialect.name), rows)  # the engine's fast path


def insert_deliveries(connection: sa.Connection, deliveries: Iterable[OutboundDelivery]) -> int:
    """Write deliveries, skipping ones written already; how many were new."""
    rows = [delivery_row(delivery) for delivery in deliveries]
    if not rows:
        return 0
    insert = _insert_or_skip(connection.dialect.name).returning(webhook_deliveries.c.id)
    return sum(1 for _ in connection.execute(insert, rows))


@cache
def _insert_or_skip(dialect: str) -> Any:
    return dialect_insert(dialect, webhook_deliveries).on_conflict_do_nothing()


def insert_subscription(connection: sa.Connection, subscription: Subscription) -> Subscription:
    insert = dialect_insert(connection.dialect.name, webhook_subscriptions).on_conflict_do_nothing()
    added = connection.execute(insert.returning(webhook_subscriptions.c.id), subscription_row(subscription))
    if added.first() is None:
        raise ValueError(f"a subscription with id {subscription.id!r} exists already")
    return subscription


def select_subscriptions(connection: sa.Connection, subscription_id: str | None = None) -> list[Subscription]:
    query = sa.select(webhook_subscriptions).order_by(webhook_subscriptions.c.created_at,
                                                       webhook_subscriptions.c.id)
    if subscription_id is not None:
        query = query.where(webhook_subscriptions.c.id == subscription_id)
    return [subscription_from_row(row) for row in connection.execute(query).mappings()]


def write_subscription(connection: sa.Connection, subscription: Subscription) -> Subscription:
    row = subscription_row(subscription)
    del row["created_at"]
    update = sa.update(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription.id).values(row)
    if connection.execute(update).rowcount == 0:
        raise SubscriptionNotFound(f"no subscription {subscription.id!r}")
    if not subscription.enabled:
        d = webhook_deliveries.c
        pending = (d.subscription_id == subscription.id) & (d.status == "pending")
        at = subscription.disabled_at or subscription.created_at
        connection.execute(sa.update(webhook_deliveries).where(pending).values(
            status="failed", error=disabled_note(subscription), finished_at=at, next_attempt_at=None,
            lease_until=None))
    return select_subscriptions(connection, subscription.id)[0]


def remove_subscription(connection: sa.Connection, subscription_id: str) -> bool:
    theirs = webhook_deliveries.c.subscription_id == subscription_id
    connection.execute(sa.delete(webhook_deliveries).where(theirs))
    it = webhook_subscriptions.c.id == subscription_id
    return connection.execute(sa.delete(webhook_subscriptions).where(it)).rowcount > 0


def erase_deliveries(connection: sa.Connection, customer_id: str) -> int:
    """Erasure: a customer's deliveries go, sent or not (their bodies are copies of data about them, and a
    pending one must not go out after the customer is erased)."""
    theirs = webhook_deliveries.c.customer_id == customer_id
    return connection.execute(sa.delete(webhook_deliveries).where(theirs)).rowcount


# deliveries


def lease_deliveries(
    connection: sa.Connection, now: datetime, limit: int, *, lease_seconds: int
) -> list[OutboundDelivery]:
    d, s = webhook_deliveries.c, webhook_subscriptions.c
    is_free = sa.or_(d.lease_until.is_(None), d.lease_until <= now)
    query = (
        sa.select(webhook_deliveries)
        .join(webhook_subscriptions, s.id == d.subscription_id)
        .where(d.status == "pending", d.next_attempt_at <= now, is_free, s.enabled.is_(True))
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=webhook_deliveries)
    rows = connection.execute(query).mappings().all()
    if rows:
        until = sa.bindparam("until", type_=UtcDateTime())
        claimed = d.id.in_([row["id"] for row in rows])
        lease = sa.update(webhook_deliveries).where(claimed).values(lease_until=until)
        connection.execute(lease, {"until": now + timedelta(seconds=lease_seconds)})
    return [delivery_from_row(row) for row in rows]


def write_attempt(connection: sa.Connection, delivery_id: str, values: Row) -> bool:
    update = sa.update(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
    return connection.execute(update.values(**values, lease_until=None)).rowcount > 0


def select_deliveries(connection: sa.Connection, *, status: str | None, subscription_id: str | None,
                      customer_id: str | None, before: Cursor | None, limit: int | None
                      ) -> list[OutboundDelivery]:
    d = webhook_deliveries.c
    query = sa.select(webhook_deliveries).order_by(d.created_at.desc(), d.id.desc())
    for column, value in ((d.status, status), (d.subscription_id, subscription_id),
                          (d.customer_id, customer_id)):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        at, last_id = before
        query = query.where(sa.or_(d.created_at < at, sa.and_(d.created_at == at, d.id < last_id)))
    if limit is not None:
        query = query.limit(limit)
    return [delivery_from_row(row) for row in connection.execute(query).mappings()]


class SqlOutbound:
    """Mixed into SqlStore: each method one transaction on its engine."""

    _engine: sa.Engine

    _reading: Callable[[], AbstractContextManager[sa.Connection]]

    def create_subscription(self, subscription: Subscription) -> Subscription:
        with self._engine.begin() as connection:
            return insert_subscription(connection, subscription)

    def subscriptions(self) -> list[Subscription]:
        with self._reading() as connection:
            return select_subscriptions(connection)

    def subscription(self, subscription_id: str) -> Subscription | None:
        with self._reading() as connection:
            found = select_subscriptions(connection, subscription_id)
        return found[0] if found else None

    def update_subscription(self, subscription: Subscription) -> Subscription:
        with self._engine.begin() as connection:
            return write_subscription(connection, subscription)

    def delete_subscription(self, subscription_id: str) -> bool:
        with self._engine.begin() as connection:
            return remove_subscription(connection, subscription_id)

    def add_deliveries(self, deliveries: Iterable[OutboundDelivery]) -> int:
        with self._engine.begin() as connection:
            return insert_deliveries(connection, deliveries)

    def claim_deliveries(
        self, now: datetime, limit: int, *, lease_seconds: int = 60
    ) -> list[OutboundDelivery]:
        with self._engine.begin() as connection:
            return lease_deliveries(connection, now, limit, lease_seconds=lease_seconds)

    def record_attempt(
        self, delivery_id: str, *, status: str, at: datetime, attempts: int,
        next_attempt_at: datetime | None = None, response_status: int | None = None, error: str | None = None,
    ) -> bool:
        values = attempt_values(status=status, at=at, attempts=attempts, next_attempt_at=next_attempt_at,
                                response_status=response_status, error=error)
        with self._engine.begin() as connection:
            return write_attempt(connection, delivery_id, values)

    def deliveries(self, *, status: str | None = None, subscription_id: str | None = None,
                   customer_id: str | None = None, before: Cursor | None = None,
                   limit: int | None = None) -> list[OutboundDelivery]:
        with self._reading() as connection:
            return select_deliveries(connection, status=status, subscription_id=subscription_id,
                                     customer_id=customer_id, before=before, limit=limit)


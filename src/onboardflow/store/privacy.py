"""The SQL side of consent and privacy: the consent ledger, one customer's data in one read, erasure in one
transaction. What erasure keeps and removes is decided in `core.privacy`, the same for the memory store.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from onboardflow.core.consent import ConsentRecord
from onboardflow.core.effects import stable_id
from onboardflow.core.privacy import (
    CANCELLED,
    OPEN_TASK_STATUSES,
    erased_call_request,
    erased_enrollment,
    erased_event,
    erased_profile,
    erased_task,
    running_timer_ids,
)
from onboardflow.ports import CustomerData, Erasure, InboxMessage, partition_of
from onboardflow.store import codec
from onboardflow.store.outbound import delivery_from_row, erase_deliveries
from onboardflow.store.schema import (
    consents,
    customers,
    enrollments,
    entries,
    erasures,
    events,
    held_events,
    inbox,
    messages,
    queue,
    tasks,
    webhook_calls,
    webhook_deliveries,
)
from onboardflow.store.statements import dialect_insert, execute_by_ids, insert_rows, statements_for
from onboardflow.store.transaction import SqlTransaction


def record_consent(connection: sa.Connection, record: ConsentRecord) -> bool:
    """Add one line to the ledger; False when a line with its id is there already."""
    insert = dialect_insert(connection.dialect.name, consents).on_conflict_do_nothing()
    return connection.execute(insert.returning(consents.c.seq), codec.consent_row(record)).first() is not None


def ledger(connection: sa.Connection, customer_id: str) -> list[ConsentRecord]:
    """A customer's ledger in the order it happened: by time, then by the order it was written."""
    own = consents.c.customer_id == customer_id
    query = sa.select(consents).where(own).order_by(consents.c.at, consents.c.seq)
    return [codec.consent_from_row(row) for row in connection.execute(query).mappings()]


def customer_data(connection: sa.Connection, customer_id: str) -> CustomerData:
    def own(table: sa.Table, *order: sa.Column) -> list[sa.RowMapping]:
        query = sa.select(table).where(table.c.customer_id == customer_id).order_by(*order)
        return list(connection.execute(query).mappings())

    profile = connection.execute(sa.select(customers).where(customers.c.id == customer_id)).mappings().first()
    return CustomerData(
        customer_id=customer_id,
        profile=None if profile is None else codec.customer_from_row(profile),
        events=[(codec.event_from_document(row), row["position"])
                for row in own(events, events.c.position, events.c.id)],
        queued=[codec.event_from_document(row["payload"]) for row in own(queue, queue.c.seq)],
        enrollments=[codec.enrollment_from_row(row)
                     for row in own(enrollments, enrollments.c.started_at, enrollments.c.id)],
        messages=[codec.outbox_from_row(row) for row in own(messages, messages.c.at, messages.c.id)],
        consents=ledger(connection, customer_id),
        tasks=[codec.task_from_row(row) for row in own(tasks, tasks.c.due_at, tasks.c.id)],
        webhook_calls=[codec.call_document(row)
                       for row in own(webhook_calls, webhook_calls.c.created_at, webhook_calls.c.id)],
        inbox=[InboxMessage(**row) for row in own(inbox, inbox.c.created_at.desc(), inbox.c.message_id)],
        webhook_deliveries=[delivery_from_row(row) for row in own(
            webhook_deliveries, webhook_deliveries.c.created_at, webhook_deliveries.c.id)],
    )


def erase(connection: sa.Connection, customer_id: str, *, pseudonym: str, now: datetime) -> Erasure | None:
    """Erase one customer in this transaction; None when the store holds nothing on them."""
    SqlTransaction(connection).lock_partitions([partition_of(customer_id), partition_of(pseudonym)])
    data = customer_data(connection, customer_id)
    if data.is_empty:
        return None
    if not customer_data(connection, pseudonym).is_empty:
        raise ValueError(f"the pseudonym {pseudonym!r} is in use already: choose another")
    counts = {
        "customers": _erase_profile(connection, data, pseudonym),
        "events": _erase_events(connection, data, pseudonym),
        "enrollments": _erase_enrollments(connection, data, pseudonym, now),
        "timers": _delete_timers(connection, data),
        "tasks": _erase_tasks(connection, data, pseudonym),
        "webhook_calls": _erase_calls(connection, customer_id, pseudonym),
        "inbox": _erase_inbox(connection, customer_id, pseudonym),
        **_move_rows(connection, customer_id, pseudonym),
        "webhook_deliveries_deleted": erase_deliveries(connection, customer_id),
    }
    erasure = Erasure(stable_id("era", pseudonym), pseudonym, now, counts)
    row = {"id": erasure.id, "pseudonym": pseudonym, "erased_at": now, "counts": counts}
    connection.execute(sa.insert(erasures).values(row))
    return erasure


def erasure_log(connection: sa.Connection) -> list[Erasure]:
    query = sa.select(erasures).order_by(erasures.c.erased_at, erasures.c.id)
    return [
        Erasure(row["id"], row["pseudonym"], row["erased_at"], row["counts"])
        for row in connection.execute(query).mappings()
    ]


def _erase_profile(connection: sa.Connection, data: CustomerData, pseudonym: str) -> int:
    if data.profile is None:
        return 0
    connection.execute(sa.delete(customers).where(customers.c.id == data.customer_id))
    erased = erased_profile(data.profile, pseudonym)
    connection.execute(sa.insert(customers).values(codec.customer_row(erased)))
    return 1


def _erase_events(connection: sa.Connection, data: CustomerData, pseudonym: str) -> int:
    update = (
        sa.update(events)
        .where(events.c.id == sa.bindparam("b_id"))
        .values(customer_id=pseudonym, properties=sa.bindparam("b_properties"), customer=None)
    )
    rows = [
        {"b_id": event.id, "b_properties": erased_event(event, pseudonym).properties}
        for event, _ in data.events
    ]
    if rows:
        connection.execute(update, rows)
    return len(rows)


def _erase_enrollments(connection: sa.Connection, data: CustomerData, pseudonym: str, now: datetime) -> int:
    erased = [erased_enrollment(e, pseudonym, now=now) for e in data.enrollments]
    upsert = statements_for(connection.dialect.name).upsert_enrollments
    insert_rows(connection, upsert, [codec.enrollment_row(enrollment) for enrollment in erased])
    # entries (the re-entry rule's memory) follow their enrollments, and are counted with them
    connection.execute(
        sa.update(entries).where(entries.c.customer_id == data.customer_id).values(customer_id=pseudonym)
    )
    return len(erased)


def _delete_timers(connection: sa.Connection, data: CustomerData) -> int:
    """The timers of the enrollments that were running: each waits on one (wait, or wait_for's timeout)."""
    ids = running_timer_ids(data.enrollments)
    execute_by_ids(connection, statements_for(connection.dialect.name).delete_timers, ids)
    return len(ids)


def _erase_tasks(connection: sa.Connection, data: CustomerData, pseudonym: str) -> int:
    """Tasks under the pseudonym, their context scrubbed and outcome (free text) gone; open ones cancelled."""
    update = sa.update(tasks).where(tasks.c.id == sa.bindparam("b_id")).values(
        customer_id=pseudonym, partition=partition_of(pseudonym), context=sa.bindparam("b_context"),
        status=sa.bindparam("b_status"), outcome=None,
    )
    rows = [
        {"b_id": row.task.task_id, "b_context": erased_task(row.task, pseudonym).context,
         "b_status": CANCELLED if row.status in OPEN_TASK_STATUSES else row.status}
        for row in data.tasks
    ]
    if rows:
        connection.execute(update, rows)
    return len(rows)


def _erase_calls(connection: sa.Connection, customer_id: str, pseudonym: str) -> int:
    """Webhook calls under the pseudonym, without body, headers, scope or response; pending ones cancelled."""
    own = connection.execute(
        sa.select(webhook_calls.c.id, webhook_calls.c.request, webhook_calls.c.status)
        .where(webhook_calls.c.customer_id == customer_id)
    ).mappings().all()
    update = sa.update(webhook_calls).where(webhook_calls.c.id == sa.bindparam("b_id")).values(
        customer_id=pseudonym, partition=partition_of(pseudonym), request=sa.bindparam("b_request"), scope={},
        status=sa.bindparam("b_status"), response=None, error=None, lease_until=None,
    )
    rows = [
        {"b_id": row["id"], "b_request": erased_call_request(row["request"]),
         "b_status": CANCELLED if row["status"] == "pending" else row["status"]}
        for row in own
    ]
    if rows:
        connection.execute(update, rows)
    return len(rows)


def _erase_inbox(connection: sa.Connection, customer_id: str, pseudonym: str) -> int:
    """In-app messages under the pseudonym: purpose and times kept (read rates), their text gone."""
    moved = connection.execute(
        sa.update(inbox).where(inbox.c.customer_id == customer_id)
        .values(customer_id=pseudonym, title="", body="", deep_link=None)
    )
    return moved.rowcount


def _move_rows(connection: sa.Connection, customer_id: str, pseudonym: str) -> dict[str, int]:
    """Messages and consent lines under the pseudonym (pending messages cancelled, free text and evidence
    gone); queued events, not yet processed and so in no aggregate, deleted."""
    own = messages.c.customer_id == customer_id
    moved = {"customer_id": pseudonym, "partition": partition_of(pseudonym), "lease_until": None}
    pending = connection.execute(
        sa.update(messages).where(own, messages.c.status == "pending")
        .values(**moved, status=CANCELLED, error="customer erased")
    )
    others = connection.execute(sa.update(messages).where(own).values(**moved, error=None))
    ledger_lines = connection.execute(
        sa.update(consents)
        .where(consents.c.customer_id == customer_id)
        .values(customer_id=pseudonym, evidence={})
    )
    dropped = connection.execute(sa.delete(queue).where(queue.c.customer_id == customer_id))
    # held events name events for a paused journey's enrollments, which erasure ended: nothing to resume
    connection.execute(sa.delete(held_events).where(held_events.c.customer_id == customer_id))
    return {
        "messages": pending.rowcount + others.rowcount,
        "consents": ledger_lines.rowcount,
        "queued_events_deleted": dropped.rowcount,
    }

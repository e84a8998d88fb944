"""How records become rows and rows records, and the JSON codec that keeps datetimes in documents.

A datetime inside a document (an enrollment's trigger, a visit in its history) is written as
`{"$datetime": "<ISO 8601>"}` and read back as the same datetime: a record read back equals the one written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson

from onboardflow.core.consent import ConsentRecord
from onboardflow.core.effects import CallWebhook, OpenTask, ScheduleTimer, SendMessage
from onboardflow.core.model import Customer, Enrollment, Event, Visit, Waiting
from onboardflow.ports import (
    CALL_STATUSES,
    Entry,
    HeldEvent,
    OutboxMessage,
    StoredVersion,
    Task,
    WebhookCall,
    partition_of,
)

DATETIME_TAG = "$datetime"

Row = Mapping[str, Any]


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=_encode, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return _ENCODER.encode(value)  # integers past 64 bits, which orjson refuses; or a true type error


# orjson writes datetimes itself unless told to pass them to `_encode`, which tags them
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def loads(text: str | bytes) -> Any:
    return _DECODER.decode(text if isinstance(text, str) else bytes(text).decode())


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {DATETIME_TAG: value.isoformat()}
    raise TypeError(f"{type(value).__name__} cannot be stored in a JSON column: {value!r}")


def _decode(document: dict[str, Any]) -> Any:
    if len(document) == 1 and DATETIME_TAG in document:
        return datetime.fromisoformat(document[DATETIME_TAG])
    return document


# made once: json.dumps and json.loads with options build a new encoder or decoder on every call
_ENCODER = json.JSONEncoder(default=_encode, separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder(object_hook=_decode)


# events and the queue


def event_document(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "customer_id": event.customer_id,
        "at": event.at,
        "properties": event.properties,
        "customer": event.customer,
    }


def event_from_document(document: Row) -> Event:
    return Event(
        id=document["id"],
        name=document["name"],
        customer_id=document["customer_id"],
        at=document["at"],
        properties=document["properties"],
        customer=document["customer"],
    )


EVENT_COLUMNS = ("id", "name", "customer_id", "at", "properties", "customer", "position")


def event_values(event: Event, position: int) -> tuple:
    """An event's row as values in `EVENT_COLUMNS` order: the engine writes one for every event."""
    return (event.id, event.name, event.customer_id, event.at, event.properties, event.customer, position)


def queue_payload(event: Event) -> str:
    """`dumps(event_document(event))`, with the time tagged here rather than through orjson's callback."""
    return dumps({**event_document(event), "at": {DATETIME_TAG: event.at.isoformat()}})


def queue_row(event: Event, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "customer_id": event.customer_id,
        "partition": partition_of(event.customer_id),
        "payload": event_document(event),
        "enqueued_at": now,
    }


# customers, enrollments, entries: the table's columns are the record's fields


def customer_row(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "email": customer.email,
        "phone": customer.phone,
        "locale": customer.locale,
        "timezone": customer.timezone,
        "country": customer.country,
        "traits": customer.traits,
        "consent": customer.consent,
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "first_order_at": customer.first_order_at,
        "last_order_at": customer.last_order_at,
        "events_count": customer.events_count,
        "updated_at": customer.updated_at,
    }


def customer_from_row(row: Row) -> Customer:
    return Customer(**row)


def enrollment_row(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.id,
        "journey_id": enrollment.journey_id,
        "version": enrollment.version,
        "customer_id": enrollment.customer_id,
        "trigger": enrollment.trigger,
        "started_at": enrollment.started_at,
        "step_id": enrollment.step_id,
        "waiting": _waiting_document(enrollment.waiting),
        "status": enrollment.status,
        "exit_reason": enrollment.exit_reason,
        "ended_at": enrollment.ended_at,
        "goal_reached_at": enrollment.goal_reached_at,
        "seq": enrollment.seq,
        "history": [{"step_id": visit.step_id, "at": visit.at} for visit in enrollment.history],
        "group": enrollment.group,
        "paths": enrollment.paths,
    }


def enrollment_from_row(row: Row) -> Enrollment:
    fields = dict(row)
    waiting = fields["waiting"]
    fields["waiting"] = None if waiting is None else _waiting_from(waiting)
    fields["history"] = tuple(Visit(**visit) for visit in fields["history"])
    return Enrollment(**fields)


def _waiting_from(document: dict[str, Any]) -> Waiting:
    events = document.get("events")
    if events is None:  # written before waits could be on several events
        events = [document["event"]] if document.get("event") else []
    return Waiting(
        step_id=document["step_id"],
        timer_id=document.get("timer_id"),
        until=document.get("until"),
        events=tuple(events),
        ref=document.get("ref"),
    )


def _waiting_document(waiting: Waiting | None) -> dict[str, Any] | None:
    if waiting is None:
        return None
    return {
        "step_id": waiting.step_id,
        "timer_id": waiting.timer_id,
        "until": waiting.until,
        "events": list(waiting.events),
        "ref": waiting.ref,
    }


def entry_row(entry: Entry) -> dict[str, Any]:
    return {
        "journey_id": entry.journey_id,
        "customer_id": entry.customer_id,
        "enrollment_id": entry.enrollment_id,
        "started_at": entry.started_at,
    }


def entry_from_row(row: Row) -> Entry:
    return Entry(row["journey_id"], row["customer_id"], row["enrollment_id"], row["started_at"])


def held_row(held: HeldEvent) -> dict[str, Any]:
    return {
        "enrollment_id": held.enrollment_id,
        "event_id": held.event_id,
        "journey_id": held.journey_id,
        "customer_id": held.customer_id,
    }


# timers and the outbox


def timer_row(timer: ScheduleTimer) -> dict[str, Any]:
    return {
        "id": timer.timer_id,
        "enrollment_id": timer.enrollment_id,
        "customer_id": timer.customer_id,
        "partition": partition_of(timer.customer_id),
        "due_at": timer.due_at,
        "journey_id": timer.journey_id,
    }


def timer_from_row(row: Row) -> ScheduleTimer:
    return ScheduleTimer(
        row["id"], row["enrollment_id"], row["customer_id"], row["due_at"], row["journey_id"]
    )


def message_row(message: SendMessage) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "enrollment_id": message.enrollment_id,
        "journey_id": message.journey_id,
        "version": message.version,
        "customer_id": message.customer_id,
        "step_id": message.step_id,
        "channels": list(message.channels),
        "template": message.template,
        "purpose": message.purpose,
        "at": message.at,
        "partition": partition_of(message.customer_id),
        "status": "pending",
        "attempts": 0,
    }


def outbox_from_row(row: Row) -> OutboxMessage:
    message = SendMessage(
        message_id=row["id"],
        enrollment_id=row["enrollment_id"],
        journey_id=row["journey_id"],
        version=row["version"],
        customer_id=row["customer_id"],
        step_id=row["step_id"],
        channels=tuple(row["channels"]),
        template=row["template"],
        purpose=row["purpose"],
        at=row["at"],
    )
    return OutboxMessage(
        message,
        status=row["status"],
        attempts=row["attempts"],
        channel=row["channel"],
        delivered_at=row["delivered_at"],
        error=row["error"],
        next_attempt_at=row["next_attempt_at"],
        provider_id=row["provider_id"],
        note=row["note"],
    )


def version_from_row(row: Row) -> StoredVersion:
    return StoredVersion(row["journey_id"], row["version"], row["digest"], row["definition"], row["source"],
                         created_at=row["created_at"])


def task_row(task: OpenTask) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "enrollment_id": task.enrollment_id,
        "journey_id": task.journey_id,
        "version": task.version,
        "customer_id": task.customer_id,
        "step_id": task.step_id,
        "queue": task.queue,
        "reason": task.reason,
        "priority": task.priority,
        "status": "open",
        "context": task.context,
        "due_at": task.due_at,
        "created_at": task.at,
        "partition": partition_of(task.customer_id),
        "rule": task.rule,
        "handoff_due_at": task.at,  # to the helpdesk at once, when one is set up
        "handoff_attempts": 0,
    }


def task_from_row(row: Row) -> Task:
    opened = OpenTask(
        task_id=row["id"],
        enrollment_id=row["enrollment_id"],
        journey_id=row["journey_id"],
        version=row["version"],
        customer_id=row["customer_id"],
        step_id=row["step_id"],
        queue=row["queue"],
        reason=row["reason"],
        priority=row["priority"],
        due_at=row["due_at"],
        at=row["created_at"],
        context=row["context"],
        rule=row.get("rule"),
    )
    return Task(opened, row["status"], row["assignee"], row["outcome"], row["resolved_at"],
                assigned_at=row.get("assigned_at"), overdue_at=row.get("overdue_at"),
                external_id=row.get("external_id"), handed_off_at=row.get("handed_off_at"),
                handoff_error=row.get("handoff_error"), handoff_attempts=row.get("handoff_attempts") or 0)


def call_row(call: CallWebhook) -> dict[str, Any]:
    request = {
        "url": call.url,
        "method": call.method,
        "headers": call.headers,
        "body": call.body,
        "secret": call.secret,
        "timeout": call.timeout.total_seconds(),
        "retries": call.retries,
    }
    return {
        "id": call.call_id,
        "enrollment_id": call.enrollment_id,
        "journey_id": call.journey_id,
        "version": call.version,
        "customer_id": call.customer_id,
        "step_id": call.step_id,
        "request": request,
        "scope": call.scope,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": call.at,
        "created_at": call.at,
        "partition": partition_of(call.customer_id),
    }


def call_from_row(row: Row) -> CallWebhook:
    request = row["request"]
    return CallWebhook(
        call_id=row["id"],
        enrollment_id=row["enrollment_id"],
        journey_id=row["journey_id"],
        version=row["version"],
        customer_id=row["customer_id"],
        step_id=row["step_id"],
        url=request["url"],
        method=request["method"],
        headers=request["headers"],
        body=request["body"],
        secret=request["secret"],
        timeout=timedelta(seconds=request["timeout"]),
        retries=request["retries"],
        scope=row["scope"],
        at=row["created_at"],
    )


# the consent ledger and erasures


def consent_row(record: ConsentRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "customer_id": record.customer_id,
        "channel": record.channel,
        "purpose": record.purpose,
        "status": record.status,
        "source": record.source,
        "text_version": record.text_version,
        "at": record.at,
        "evidence": record.evidence,
    }


def consent_from_row(row: Row) -> ConsentRecord:
    return ConsentRecord(
        id=row["id"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        purpose=row["purpose"],
        status=row["status"],
        source=row["source"],
        at=row["at"],
        text_version=row["text_version"],
        evidence=row["evidence"],
    )


def call_document(row: Row) -> dict[str, Any]:
    """A webhook call as a customer's data export shows it: what was sent about them, and what came of it.
    Headers and the signing secret are the operator's, not the customer's, and stay out."""
    request = row["request"]
    return {
        "id": row["id"],
        "enrollment_id": row["enrollment_id"],
        "journey_id": row["journey_id"],
        "version": row["version"],
        "customer_id": row["customer_id"],
        "step_id": row["step_id"],
        "url": request["url"],
        "method": request["method"],
        "body": request.get("body"),
        "scope": row["scope"],
        "status": row["status"],
        "attempts": row["attempts"],
        "response": row.get("response"),
        "error": row.get("error"),
        "created_at": row["created_at"],
        "finished_at": row.get("finished_at"),
    }


def webhook_call_from_row(row: Row) -> WebhookCall:
    return WebhookCall(
        call_from_row(row),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        response=row.get("response"),
        error=row.get("error"),
        finished_at=row.get("finished_at"),
    )


def call_outcome(
    *,
    status: str,
    at: datetime,
    attempts: int,
    next_attempt_at: datetime | None,
    response: Any,
    error: str | None,
) -> dict[str, Any]:
    """The column values `record_call` writes: a retry keeps the call pending until `next_attempt_at`,
    a final outcome gets its `finished_at`; either way the lease is given up."""
    if status not in CALL_STATUSES:
        raise ValueError(f"a webhook call's status is one of {', '.join(CALL_STATUSES)}, not {status!r}")
    values: dict[str, Any] = {
        "status": status, "attempts": attempts, "response": response, "error": error, "lease_until": None,
    }
    if status == "pending":
        if next_attempt_at is None:
            raise ValueError("a call kept pending for a retry needs next_attempt_at: when to try again")
        values["next_attempt_at"] = next_attempt_at
    else:
        values["finished_at"] = at
    return values

"""What a person working a task sees of the customer: the task, the profile, their orders, their journeys
step by step, the messages sent, and the text that triggered the task. Read when asked, so it is current."""

from __future__ import annotations

from typing import Any

from onboardflow.core.escalation import text_in
from onboardflow.core.model import ORDER_COMPLETED, Customer
from onboardflow.engine.webhook_request import plain
from onboardflow.ports import Store, Task

RECENT = 20  # orders and messages shown: the latest


def task_context(store: Store, row: Task) -> dict[str, Any]:
    """The task and its customer's context, JSON-ready (times in ISO 8601)."""
    customer_id = row.task.customer_id
    context = {
        "task": task_summary(row),
        "customer": _profile(store.customer(customer_id)),
        "orders": _orders(store, customer_id),
        "journeys": _journeys(store, customer_id),
        "messages": _messages(store, customer_id),
        "text": row.task.context.get("text") or text_in(row.task.context.get("trigger") or {}) or None,
        "detail": row.task.context.get("detail"),
    }
    return plain(context)


def task_summary(row: Task) -> dict[str, Any]:
    task = row.task
    return {
        "id": task.task_id,
        "customer_id": task.customer_id,
        "queue": task.queue,
        "reason": task.reason,
        "priority": task.priority,
        "status": row.status,
        "assignee": row.assignee,
        "outcome": row.outcome,
        "due_at": task.due_at,
        "created_at": task.at,
        "resolved_at": row.resolved_at,
        "overdue_at": row.overdue_at,
        "rule": task.rule,
        "journey_id": task.journey_id,
        "version": task.version,
        "enrollment_id": task.enrollment_id,
        "step_id": task.step_id,
        "external_id": row.external_id,
        "context": task.context,
    }


def _profile(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    fields = (
        "id",
        "email",
        "phone",
        "locale",
        "timezone",
        "country",
        "traits",
        "orders_count",
        "total_spent",
        "first_order_at",
        "last_order_at",
    )
    return {name: getattr(customer, name) for name in fields}


def _orders(store: Store, customer_id: str) -> list[dict[str, Any]]:
    orders = store.customer_history(customer_id, names=[ORDER_COMPLETED])[-RECENT:]
    keep = ("order_id", "total", "currency", "status", "products")
    return [
        {"at": event.at, **{name: event.properties[name] for name in keep if name in event.properties}}
        for event in orders
    ]


def _journeys(store: Store, customer_id: str) -> list[dict[str, Any]]:
    return [
        {
            "enrollment_id": e.id,
            "journey_id": e.journey_id,
            "version": e.version,
            "status": e.status,
            "step_id": e.step_id,
            "started_at": e.started_at,
            "ended_at": e.ended_at,
            "exit_reason": e.exit_reason,
            "steps": [{"step_id": visit.step_id, "at": visit.at} for visit in e.history],
        }
        for e in store.enrollments_of(customer_id)
    ]


def _messages(store: Store, customer_id: str) -> list[dict[str, Any]]:
    return [
        {
            "message_id": row.message.message_id,
            "journey_id": row.message.journey_id,
            "step_id": row.message.step_id,
            "template": row.message.template,
            "purpose": row.message.purpose,
            "channel": row.channel,
            "status": row.status,
            "at": row.message.at,
            "delivered_at": row.delivered_at,
        }
        for row in store.messages(customer_id)[-RECENT:]
    ]

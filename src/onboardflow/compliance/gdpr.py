"""GDPR: everything held on a customer as one JSON document (right of access, art. 15), and erasure (art. 17).

What erasure keeps (aggregates under a pseudonym) and removes is decided in `core.privacy`; the pseudonym is
random, so nothing outside the store can link it back to the person.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import Any

from onboardflow.core.consent import ConsentRecord, current_state
from onboardflow.core.outbound import OutboundDelivery
from onboardflow.engine.ingest import event_to_json
from onboardflow.ports import CustomerData, Erasure, OutboxMessage, Store, Task

EXPORT_FORMAT = "onboardflow/customer-export/v1"


class CustomerNotFound(LookupError):
    """The store holds nothing on this customer id."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(
            f"no customer {customer_id!r} in this store: check the id (ids are case-sensitive); "
            "a customer erased already has no data left under their id"
        )
        self.customer_id = customer_id


def export_customer(*, store: Store, customer_id: str, now: datetime) -> dict[str, Any]:
    """Everything the store holds on the customer, as one JSON-ready document."""
    data = store.customer_data(customer_id)
    if data.is_empty:
        raise CustomerNotFound(customer_id)
    urls = {subscription.id: subscription.url for subscription in store.subscriptions()}
    return export_document(data, now=now, subscription_urls=urls)


def export_document(data: CustomerData, *, now: datetime,
                    subscription_urls: dict[str, str] | None = None) -> dict[str, Any]:
    """The export; `subscription_urls` names where each outbound webhook delivery was sent (a recipient of
    the data, which the right of access covers)."""
    urls = subscription_urls or {}
    return {
        "format": EXPORT_FORMAT,
        "customer_id": data.customer_id,
        "exported_at": iso(now),
        "profile": plain(data.profile),
        "consent": {
            "ledger": [consent_document(record) for record in data.consents],
            "state": _state(data.consents),
        },
        "events": [{**plain(event_to_json(event)), "position": position} for event, position in data.events],
        "queued_events": [plain(event_to_json(event)) for event in data.queued],
        "enrollments": [plain(enrollment) for enrollment in data.enrollments],
        "messages": [message_document(row) for row in data.messages],
        "tasks": [task_document(row) for row in data.tasks],
        "webhook_calls": [plain(call) for call in data.webhook_calls],
        "inbox": [plain(message) for message in data.inbox],
        "webhook_deliveries": [delivery_document(delivery, urls.get(delivery.subscription_id))
                               for delivery in data.webhook_deliveries],
    }


def erase_customer(
    *, store: Store, customer_id: str, now: datetime, pseudonym: str | None = None
) -> Erasure:
    """Erase the customer's personal data; what aggregates need stays under a new random pseudonym."""
    erasure = store.erase_customer(customer_id, pseudonym=pseudonym or new_pseudonym(), now=now)
    if erasure is None:
        raise CustomerNotFound(customer_id)
    return erasure


def new_pseudonym() -> str:
    return f"anon_{secrets.token_hex(12)}"


def erasure_document(erasure: Erasure) -> dict[str, Any]:
    return plain(erasure)


def consent_document(record: ConsentRecord) -> dict[str, Any]:
    return plain(record)


def message_document(row: OutboxMessage) -> dict[str, Any]:
    document = plain(row)
    return {**document.pop("message"), **document}


def delivery_document(delivery: OutboundDelivery, url: str | None) -> dict[str, Any]:
    """An outbound webhook delivery: where it went, what became of it, and the event it carried, as sent."""
    document = plain(delivery)
    document["body"] = json.loads(delivery.body)
    return {**document, "url": url}


def task_document(row: Task) -> dict[str, Any]:
    document = plain(row)
    return {**document.pop("task"), **document}


def _state(ledger: list[ConsentRecord]) -> list[dict[str, Any]]:
    state = current_state(ledger)
    return [
        {"channel": channel, "purpose": purpose, "status": record.status, "at": iso(record.at),
         "source": record.source}
        for (channel, purpose), record in sorted(state.items())
    ]


def plain(value: Any) -> Any:
    """A JSON-ready copy: records as objects, datetimes as ISO-8601 UTC strings, tuples as lists."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

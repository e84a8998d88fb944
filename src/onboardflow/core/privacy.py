"""What erasing a customer (GDPR art. 17) keeps and removes, as pure functions both stores apply.

Kept, under a pseudonym: what aggregates need (order counts and totals, products, journeys and steps, times,
country). Removed: contact fields, traits, the inline customer blocks of events, every event property not
on the list below (names, addresses, free text, identifiers of the shop's own records), consent evidence.
An allow-list, not a deny-list: a property nobody thought of is removed, not kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from onboardflow.core.consent import ConsentRecord
from onboardflow.core.effects import OpenTask, SendMessage
from onboardflow.core.model import Customer, Enrollment, Event

ERASED = "erased"  # the exit reason of enrollments that were running when their customer was erased
CANCELLED = "cancelled"  # messages, tasks and webhook calls still to do when their customer was erased
OPEN_TASK_STATUSES = ("open", "assigned")
CALL_REQUEST_KEPT = ("url", "method", "timeout", "retries", "secret")  # the body and headers carry data

# event properties kept: amounts, products, and the words that say what kind of thing happened
KEPT_PROPERTIES = frozenset(
    {
        "total", "subtotal", "revenue", "value", "shipping", "tax", "discount", "currency", "coupon",
        "products", "quantity", "price", "product_id", "sku", "category", "brand", "variant",
        "rating", "score", "channel", "purpose", "source", "text_version", "template", "journey_id",
        "step_id", "plan", "interval", "status", "carrier",
    }
)
KEPT_PRODUCT_FIELDS = frozenset(
    {"product_id", "sku", "category", "name", "brand", "variant", "price", "quantity", "position", "coupon"}
)
Inboxed = TypeVar("Inboxed")  # ports.InboxMessage, which the pure core does not import
TRIGGER_FIELDS = ("id", "name", "at")  # what an enrollment's trigger holds beside the event's properties


def scrub_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The event properties an erased customer's event keeps."""
    kept = {name: value for name, value in properties.items() if name in KEPT_PROPERTIES}
    if isinstance(kept.get("products"), list):
        kept["products"] = [
            {name: value for name, value in product.items() if name in KEPT_PRODUCT_FIELDS}
            for product in kept["products"]
            if isinstance(product, Mapping)
        ]
    elif "products" in kept:
        del kept["products"]
    return kept


def erased_profile(customer: Customer, pseudonym: str) -> Customer:
    """The profile under the pseudonym: aggregates and country kept, contact fields and traits gone."""
    return replace(
        customer, id=pseudonym, email=None, phone=None, locale=None, timezone=None, traits={}, consent={}
    )


def erased_event(event: Event, pseudonym: str) -> Event:
    return replace(event, customer_id=pseudonym, properties=scrub_properties(event.properties), customer=None)


def erased_trigger(trigger: Mapping[str, Any]) -> dict[str, Any]:
    kept = scrub_properties(trigger)
    kept.update({name: trigger[name] for name in TRIGGER_FIELDS if name in trigger})
    return kept


def erased_enrollment(enrollment: Enrollment, pseudonym: str, *, now: datetime) -> Enrollment:
    """The enrollment under the pseudonym; one still running ends (`erased`): no one is left to message."""
    erased = replace(enrollment, customer_id=pseudonym, trigger=erased_trigger(enrollment.trigger))
    if erased.is_active:
        erased = replace(erased, status="ended", exit_reason=ERASED, ended_at=now, waiting=None)
    return erased


def running_timer_ids(enrollments: Iterable[Enrollment]) -> list[str]:
    """The timers running enrollments wait on (a wait, or a wait_for's timeout): erasure deletes them."""
    return [e.waiting.timer_id for e in enrollments if e.is_active and e.waiting and e.waiting.timer_id]


def erased_message(message: SendMessage, pseudonym: str) -> SendMessage:
    return replace(message, customer_id=pseudonym)


def erased_task(task: OpenTask, pseudonym: str) -> OpenTask:
    """The task under the pseudonym: queue, reason, priority and times kept; of its context, only the
    trigger's kept properties."""
    context = {"trigger": erased_trigger(task.context["trigger"])} if "trigger" in task.context else {}
    return replace(task, customer_id=pseudonym, context=context)


def erased_call_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A webhook call's request without what was rendered from the customer (body) or sent with it."""
    kept = {name: request[name] for name in CALL_REQUEST_KEPT if name in request}
    return {**kept, "body": None, "headers": {}}


def erased_inbox_message(message: Inboxed, pseudonym: str) -> Inboxed:
    """An in-app message (`ports.InboxMessage`) under the pseudonym: purpose and times (read rates) kept,
    the rendered text gone."""
    return replace(message, customer_id=pseudonym, title="", body="", deep_link=None)


def erased_consent(record: ConsentRecord, pseudonym: str) -> ConsentRecord:
    """The ledger line under the pseudonym: what and when kept (for opt-in rates), the evidence gone."""
    return replace(record, customer_id=pseudonym, evidence={})

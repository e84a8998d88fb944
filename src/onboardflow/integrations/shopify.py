"""Shopify webhooks as canonical events: topic by topic, with the signature checked before anything else.

Shopify ids exceed 2^53, so they are kept as strings (Python's json reads them as exact integers).
Events that name no customer (fulfillments, refunds) are tied to one through their order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from onboardflow.core.model import Event
from onboardflow.integrations.shopify_consent import consent_block

SHIPMENT_EVENTS = {
    "in_transit": "Order Shipped",
    "out_for_delivery": "Order Shipped",
    "delivered": "Order Delivered",
    "failure": "Delivery Failed",
    "attempted_delivery": "Delivery Failed",
}
TOPICS = ("orders/create", "orders/paid", "fulfillments/create", "fulfillments/update", "refunds/create",
          "customers/create", "checkouts/create", "checkouts/update", "customers/redact")


class PayloadError(ValueError):
    """A webhook body that cannot be turned into an event, with what is wrong."""


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """`X-Shopify-Hmac-SHA256`: base64 HMAC-SHA256 of the raw body with the app's secret, compared in
    constant time."""
    if not header or not secret:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, header.strip())


def shopify_events(
    topic: str, payload: dict[str, Any], *, customer_for_order: Callable[[str], str | None] = lambda _: None
) -> list[Event]:
    """The canonical events a webhook of `topic` stands for (none, for a shipment status that is not news).

    `customer_for_order` finds the customer of an order already seen, for topics that carry only the order.
    """
    handler = _HANDLERS.get(topic)
    if handler is None:
        raise PayloadError(f"topic {topic!r} is not handled; onboardflow takes: {', '.join(TOPICS)}")
    if not isinstance(payload, dict):
        raise PayloadError("a Shopify webhook body is a JSON object")
    return handler(payload, customer_for_order)


def _order_created(order: dict, _lookup) -> list[Event]:
    customer = order.get("customer") or {}
    properties = {
        "order_id": exact_id(order, "id"),
        "order_number": order.get("order_number"),
        "total": money(order.get("total_price")),
        "currency": order.get("currency"),
        "products": [_line(item) for item in order.get("line_items") or []],
        "source": "shopify",
    }
    profile = _profile(customer, order)
    return [Event(f"shopify:order:{properties['order_id']}:created", "Order Completed", _customer_id(customer, order),
                  _time(order, "created_at"), properties, profile)]


def _order_paid(order: dict, _lookup) -> list[Event]:
    customer = order.get("customer") or {}
    properties = {"order_id": exact_id(order, "id"), "total": money(order.get("total_price")),
                  "currency": order.get("currency"), "source": "shopify"}
    at = _time(order, "processed_at", fallback="updated_at")
    return [Event(f"shopify:order:{properties['order_id']}:paid", "Payment Confirmed",
                  _customer_id(customer, order), at, properties)]


def _fulfillment(fulfillment: dict, lookup) -> list[Event]:
    name = SHIPMENT_EVENTS.get(fulfillment.get("shipment_status") or "")
    if name is None:
        return []  # label printed, confirmed, ...: not something a journey waits for
    order_id = exact_id(fulfillment, "order_id")
    properties = {"order_id": order_id, "fulfillment_id": exact_id(fulfillment, "id"),
                  "shipment_status": fulfillment["shipment_status"], "tracking_number": fulfillment.get("tracking_number"),
                  "tracking_url": fulfillment.get("tracking_url"), "carrier": fulfillment.get("tracking_company"),
                  "source": "shopify"}
    event_id = f"shopify:fulfillment:{properties['fulfillment_id']}:{fulfillment['shipment_status']}"
    customer_id = _of_order(order_id, lookup, fulfillment.get("email"))
    return [Event(event_id, name, customer_id, _time(fulfillment, "updated_at", fallback="created_at"), properties)]


def _refund(refund: dict, lookup) -> list[Event]:
    order_id = exact_id(refund, "order_id")
    amount = sum(money(t.get("amount")) or 0 for t in refund.get("transactions") or [] if t.get("kind") == "refund")
    properties = {"order_id": order_id, "refund_id": exact_id(refund, "id"), "amount": round(amount, 2),
                  "note": refund.get("note"), "source": "shopify"}
    return [Event(f"shopify:refund:{properties['refund_id']}", "Refund Requested", _of_order(order_id, lookup, None),
                  _time(refund, "created_at"), properties)]


def _customer_created(customer: dict, _lookup) -> list[Event]:
    properties = {"source": "shopify", "state": customer.get("state")}
    return [Event(f"shopify:customer:{exact_id(customer, 'id')}:created", "Signed Up", _customer_id(customer, customer),
                  _time(customer, "created_at"), properties, _profile(customer, customer))]


def _checkout(checkout: dict, _lookup) -> list[Event]:
    customer = checkout.get("customer") or {}
    token = checkout.get("token") or exact_id(checkout, "id")
    properties = {"checkout_id": str(token), "total": money(checkout.get("total_price")),
                  "currency": checkout.get("currency"), "recover_url": checkout.get("abandoned_checkout_url"),
                  "products": [_line(item) for item in checkout.get("line_items") or []], "source": "shopify"}
    # create and update of one checkout are one `Checkout Started`: the id is the checkout's
    return [Event(f"shopify:checkout:{token}", "Checkout Started", _customer_id(customer, checkout),
                  _time(checkout, "created_at"), properties, _profile(customer, checkout))]


def redact_customer_id(payload: dict) -> str:
    """The customer a `customers/redact` request names, as onboardflow knows them."""
    return _customer_id(payload.get("customer") or {}, payload)


_HANDLERS = {
    "orders/create": _order_created,
    "orders/paid": _order_paid,
    "fulfillments/create": _fulfillment,
    "fulfillments/update": _fulfillment,
    "refunds/create": _refund,
    "customers/create": _customer_created,
    "checkouts/create": _checkout,
    "checkouts/update": _checkout,
}


def _profile(customer: dict, record: dict) -> dict[str, Any] | None:
    address = customer.get("default_address") or record.get("shipping_address") or record.get("billing_address") or {}
    block: dict[str, Any] = {
        "email": customer.get("email") or record.get("email") or record.get("contact_email"),
        "phone": customer.get("phone") or record.get("phone"),
        "locale": record.get("customer_locale"),
        "country": address.get("country_code"),
    }
    traits = {key: customer.get(key) for key in ("first_name", "last_name") if customer.get(key)}
    if address.get("province_code"):
        traits["state"] = address["province_code"]
    if traits:
        block["traits"] = traits
    consent = marketing_consent(customer, record)
    if consent:
        block["consent"] = consent
    block = {key: value for key, value in block.items() if value}
    return block or None


def marketing_consent(customer: dict, record: dict) -> dict[str, Any]:
    """Email and SMS marketing consent as Shopify states it, per channel, by the rules of
    `shopify_consent`: never asked, pending or invalid is `unknown`, and an unticked box says nothing, so
    neither can undo a grant made elsewhere. The engine writes granted and withdrawn to the consent ledger."""
    try:
        return consent_block(record)
    except ValueError as error:
        raise PayloadError(str(error)) from None


def _customer_id(customer: dict, record: dict) -> str:
    if customer.get("id") is not None:
        return f"shopify:{exact_id(customer, 'id')}"
    email = customer.get("email") or record.get("email") or record.get("contact_email")
    if email:
        return f"email:{email.strip().lower()}"  # a guest checkout: known by address only
    raise PayloadError("the payload names no customer: neither customer.id nor an email")


def _of_order(order_id: str, lookup, email: str | None) -> str:
    found = lookup(order_id)
    if found:
        return found
    if email:
        return f"email:{email.strip().lower()}"
    raise PayloadError(f"order {order_id} is not known yet: its orders/create webhook has not been received")


def _line(item: dict) -> dict[str, Any]:
    return {"product_id": exact_id(item, "product_id") if item.get("product_id") is not None else None,
            "variant_id": exact_id(item, "variant_id") if item.get("variant_id") is not None else None,
            "sku": item.get("sku"), "name": item.get("title") or item.get("name"),
            "price": money(item.get("price")), "quantity": item.get("quantity"), "vendor": item.get("vendor")}


def exact_id(record: dict, key: str) -> str:
    """An id as a string, exactly: a float would already have lost digits past 2^53."""
    value = record.get(key)
    if value is None or isinstance(value, bool) or isinstance(value, float):
        raise PayloadError(f"{key!r} must be an integer or string id, got {value!r}")
    return str(value)


def money(value: Any) -> float | None:
    try:
        return None if value in (None, "") else round(float(value), 2)
    except (TypeError, ValueError):
        raise PayloadError(f"{value!r} is not an amount of money") from None


def _time(record: dict, key: str, *, fallback: str | None = None) -> datetime:
    text = record.get(key) or (record.get(fallback) if fallback else None)
    if not isinstance(text, str):
        raise PayloadError(f"{key!r} is missing: Shopify sends it as an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{key!r} is {text!r}, not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{key!r} is {text!r}, which has no time zone")
    return moment.astimezone(UTC)

"""WooCommerce webhooks as canonical events: `order.created`, `order.updated` (by the status an order
moves to), `customer.created`, with the `X-WC-Webhook-Signature` checked first.

WooCommerce writes times in the store's zone and again in UTC (`*_gmt`, without a zone): the UTC ones
are read. An update to a status an order already had is the same event again, and deduplicated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from onboardflow.core.model import Event
from onboardflow.integrations.shopify import PayloadError
from onboardflow.integrations.shopify import exact_id as _id
from onboardflow.integrations.shopify import money as _money

STATUS_EVENTS = {  # an order moving to this status is this event
    "processing": "Payment Confirmed",
    "completed": "Order Shipped",
    "refunded": "Refund Requested",
    "failed": "Payment Failed",
    "cancelled": "Order Cancelled",
}
TOPICS = ("order.created", "order.updated", "customer.created")


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """`X-WC-Webhook-Signature`: base64 HMAC-SHA256 of the raw body with the webhook's secret."""
    if not header or not secret:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, header.strip())


def woocommerce_events(topic: str, payload: dict[str, Any]) -> list[Event]:
    if not isinstance(payload, dict):
        raise PayloadError("a WooCommerce webhook body is a JSON object")
    if topic == "order.created":
        return [_order(payload, "created", "Order Completed", "date_created_gmt")]
    if topic == "order.updated":
        name = STATUS_EVENTS.get(str(payload.get("status")))
        return [] if name is None else [_order(payload, str(payload["status"]), name, "date_modified_gmt")]
    if topic == "customer.created":
        return [_customer(payload)]
    raise PayloadError(f"topic {topic!r} is not handled; onboardflow takes: {', '.join(TOPICS)}")


def _order(order: dict, status: str, name: str, time_field: str) -> Event:
    order_id = _id(order, "id")
    properties = {
        "order_id": order_id,
        "status": order.get("status"),
        "total": _money(order.get("total")),
        "currency": order.get("currency"),
        "products": [_line(item) for item in order.get("line_items") or []],
        "source": "woocommerce",
    }
    billing = order.get("billing") or {}
    return Event(f"woo:order:{order_id}:{status}", name, _customer_id(order.get("customer_id"), billing),
                 _time(order, time_field), properties, _profile(billing))


def _customer(customer: dict) -> Event:
    billing = {**(customer.get("billing") or {}), "email": customer.get("email") or (customer.get("billing") or {}).get("email")}
    profile = _profile(billing) or {}
    traits = {key: customer.get(key) for key in ("first_name", "last_name", "role") if customer.get(key)}
    if traits:
        profile["traits"] = {**profile.get("traits", {}), **traits}
    return Event(f"woo:customer:{_id(customer, 'id')}:created", "Signed Up", _customer_id(customer.get("id"), billing),
                 _time(customer, "date_created_gmt"), {"source": "woocommerce"}, profile or None)


def _profile(billing: dict) -> dict[str, Any] | None:
    block = {"email": billing.get("email"), "phone": billing.get("phone"), "country": billing.get("country")}
    traits = {key: billing.get(key) for key in ("first_name", "last_name", "state") if billing.get(key)}
    if traits:
        block["traits"] = traits
    block = {key: value for key, value in block.items() if value}
    return block or None


def _customer_id(customer_id: Any, billing: dict) -> str:
    if customer_id not in (None, 0, "0", ""):
        return f"woo:{customer_id}"
    if billing.get("email"):
        return f"email:{billing['email'].strip().lower()}"  # a guest order: known by address only
    raise PayloadError("the payload names no customer: customer_id is 0 and billing has no email")


def _line(item: dict) -> dict[str, Any]:
    return {"product_id": str(item.get("product_id")), "sku": item.get("sku") or None, "name": item.get("name"),
            "price": _money(item.get("price")), "quantity": item.get("quantity")}


def _time(record: dict, key: str) -> datetime:
    text = record.get(key)
    if not isinstance(text, str):
        raise PayloadError(f"{key!r} is missing: WooCommerce sends it as a UTC time (2017-03-22T16:28:08)")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{key!r} is {text!r}, not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

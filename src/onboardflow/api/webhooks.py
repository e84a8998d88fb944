"""Store webhooks (Shopify, WooCommerce): signature first, then the body as canonical events on the queue.

The route only verifies, maps and enqueues, so it answers within the stores' few-second limit; workers
do the journeys. Event ids come from the body, so a redelivery queues nothing new. Shopify retries
anything but a 2xx, so a topic onboardflow does not take is answered 200 with `ignored`, saying why.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import SecretStr

from onboardflow.api.dependencies import ClockDep, SettingsDep, StoreDep
from onboardflow.api.openapi import problems
from onboardflow.api.problems import Problem
from onboardflow.compliance import gdpr
from onboardflow.compliance.gdpr import CustomerNotFound
from onboardflow.core.consent import consents_carried_by
from onboardflow.core.model import Event
from onboardflow.integrations import shopify, woocommerce
from onboardflow.integrations.shopify import PayloadError
from onboardflow.ports import Store

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WOO_PING = re.compile(rb"webhook_id=\d+")


@router.post("/shopify", responses=problems(400, 401, 422, 503))
async def shopify_webhook(request: Request, store: StoreDep, settings: SettingsDep, clock: ClockDep) -> dict:
    """One Shopify delivery: `X-Shopify-Hmac-SHA256` over the raw body, the topic in `X-Shopify-Topic`."""
    body = await request.body()
    secret = _secret(settings.shopify_webhook_secret, "ONBOARDFLOW_SHOPIFY_WEBHOOK_SECRET", "Shopify")
    if not shopify.verify_signature(body, request.headers.get("x-shopify-hmac-sha256"), secret):
        raise _unsigned("X-Shopify-Hmac-SHA256", "ONBOARDFLOW_SHOPIFY_WEBHOOK_SECRET")
    topic = _topic(request, "x-shopify-topic")
    payload = _json(body)
    if topic == "customers/redact":
        return _redact(store, payload, clock.now())
    if topic not in shopify.TOPICS:
        return _ignored(topic, shopify.TOPICS)
    delivery = {"webhook_id": request.headers.get("x-shopify-webhook-id"),
                "shopify_event_id": request.headers.get("x-shopify-event-id")}
    events = _shopify_events(store, topic, payload)
    events = _with_delivery(events, delivery)
    consents = _record_consents(store, events)
    return _enqueue(store, clock.now(), topic, events) | {"consents": consents}


@router.post("/woocommerce", responses=problems(400, 401, 422, 503))
async def woocommerce_webhook(
    request: Request, store: StoreDep, settings: SettingsDep, clock: ClockDep
) -> dict:
    """One WooCommerce delivery: `X-WC-Webhook-Signature` over the raw body, the topic in
    `X-WC-Webhook-Topic`. The unsigned `webhook_id=N` ping sent when a webhook is saved gets a 200."""
    body = await request.body()
    if WOO_PING.fullmatch(body.strip()) and "x-wc-webhook-topic" not in request.headers:
        return {"ping": True, "queued": 0}
    secret = _secret(
        settings.woocommerce_webhook_secret, "ONBOARDFLOW_WOOCOMMERCE_WEBHOOK_SECRET", "WooCommerce"
    )
    if not woocommerce.verify_signature(body, request.headers.get("x-wc-webhook-signature"), secret):
        raise _unsigned("X-WC-Webhook-Signature", "ONBOARDFLOW_WOOCOMMERCE_WEBHOOK_SECRET")
    topic = _topic(request, "x-wc-webhook-topic")
    if topic not in woocommerce.TOPICS:
        return _ignored(topic, woocommerce.TOPICS)
    try:
        events = woocommerce.woocommerce_events(topic, _json(body))
    except PayloadError as error:
        raise Problem(422, "Webhook body not usable", f"{topic}: {error}", topic=topic) from None
    delivery = {"webhook_id": request.headers.get("x-wc-webhook-id"),
                "delivery_id": request.headers.get("x-wc-webhook-delivery-id")}
    return _enqueue(store, clock.now(), topic, _with_delivery(events, delivery))


def _shopify_events(store: Store, topic: str, payload: Any) -> list[Event]:
    """The body's events; 422 (Shopify retries) when a fulfillment or refund names an order not seen yet.

    The mapping would fall back to the fulfillment's email, but that is another customer id than the
    order's (`shopify:<id>`): the journey waiting on the order would never see it.
    """
    unknown: list[str] = []

    def customer_for_order(order_id: str) -> str | None:
        found = store.customer_of_order(order_id)
        if found is None:
            unknown.append(order_id)
        return found

    try:
        events = shopify.shopify_events(topic, payload, customer_for_order=customer_for_order)
    except PayloadError as error:
        raise Problem(422, "Webhook body not usable", f"{topic}: {error}", topic=topic) from None
    if events and unknown:
        raise Problem(422, "Order not known yet",
                      f"{topic}: order {unknown[0]} is not known yet: its orders/create webhook has not "
                      "arrived (Shopify retries this delivery)", topic=topic, order_id=unknown[0])
    return events


def _secret(value: SecretStr | None, variable: str, shop: str) -> str:
    if value is None:
        raise Problem(503, f"{shop} webhooks are not set up",
                      f"the server has no webhook secret: set {variable} to the one {shop} signs with")
    return value.get_secret_value()


def _unsigned(header: str, variable: str) -> Problem:
    return Problem(401, "Bad webhook signature",
                   f"{header} is missing or does not match the body: sign the raw body with the secret in "
                   f"{variable} (base64 HMAC-SHA256)")


def _topic(request: Request, header: str) -> str:
    topic = request.headers.get(header, "").strip()
    if not topic:
        raise Problem(400, "Webhook topic missing", f"send the topic in the {header} header")
    return topic


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Problem(400, "Webhook body is not JSON", f"the body must be a JSON object: {error}") from None


def _ignored(topic: str, taken: tuple[str, ...]) -> dict:
    return {"queued": 0, "ignored": True,
            "detail": f"topic {topic!r} is not handled; onboardflow takes: {', '.join(taken)}"}


def _with_delivery(events: list[Event], delivery: dict[str, str | None]) -> list[Event]:
    """Which delivery brought the event, for tracing; the id stays the body's, so redeliveries match."""
    kept = {key: value for key, value in delivery.items() if value}
    return [replace(event, properties={**event.properties, **kept}) for event in events]


def _enqueue(store: Store, now: datetime, topic: str, events: list[Event]) -> dict:
    queued = store.enqueue(events, now=now)
    return {"topic": topic, "events": len(events), "queued": queued}


def _record_consents(store: Store, events: list[Event]) -> int:
    """The consent statements of the body (`shopify_consent`'s rules, in each event's customer block) go
    to the ledger now, not when a worker gets to the event. They are the very lines the worker writes
    (`consents_carried_by`, ids from the event's), so neither the worker nor a redelivery adds a second."""
    return sum(store.record_consent(line) for event in events for line in consents_carried_by(event))


def _redact(store: Store, payload: Any, now: datetime) -> dict:
    """`customers/redact` (GDPR): erase the customer; one never seen has nothing to erase, which is a 200."""
    if not isinstance(payload, dict):
        raise Problem(422, "Webhook body not usable", "customers/redact: the body is a JSON object")
    try:
        customer_id = shopify.redact_customer_id(payload)
    except PayloadError as error:
        raise Problem(422, "Webhook body not usable", f"customers/redact: {error}") from None
    try:
        erasure = gdpr.erase_customer(store=store, customer_id=customer_id, now=now)
    except CustomerNotFound:
        return {"topic": "customers/redact", "erased": False, "customer_id": customer_id,
                "detail": "no data is held on this customer"}
    return {"topic": "customers/redact", "erased": True, "pseudonym": erasure.pseudonym,
            "counts": erasure.counts}

"""Outbound webhook subscriptions through the API (`onboardflow webhooks …`): create (the secret shown once),
list, read, change, remove, rotate the secret, list deliveries, send a test. Every route needs `admin`: a
subscription decides where the store's events, and the customer ids in them, are sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

import httpx
from fastapi import Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from onboardflow.api.dependencies import ClockDep, SettingsDep, StoreDep, keyed_router, require_admin
from onboardflow.api.params import (
    BAD_CURSOR,
    DEFAULT_LIMIT,
    CursorQuery,
    Limit,
    decode_cursor,
    id_path,
    page,
)
from onboardflow.api.problems import Problem, problem_responses
from onboardflow.core.outbound import (
    DELIVERY_STATUSES,
    EVENT_TYPES,
    EVERY_EVENT,
    OutboundDelivery,
    Subscription,
)
from onboardflow.outbound.deliverer import Deliverer, rules
from onboardflow.outbound.subscriptions import (
    SubscriptionInvalid,
    address_warning,
    change_subscription,
    create_subscription,
    existing,
    rotate_secret,
)
from onboardflow.ports import SubscriptionNotFound

router = keyed_router("/v1/webhooks", "outbound webhooks")
ADMIN = [Depends(require_admin)]
NO_SUBSCRIPTION = problem_responses({404: "No such subscription"})
SubscriptionIdPath = Annotated[str, id_path("The subscription's id", "sub_3f0c9a2b7d4e6f8a9b0c1d2e")]
DeliveryStatus = Literal[DELIVERY_STATUSES]  # type: ignore[valid-type]
EVENTS_HELP = f"Event types: {', '.join(EVENT_TYPES)}; or {EVERY_EVENT} for all (types added later included)"

SUBSCRIPTION_EXAMPLE = {
    "id": "sub_3f0c9a2b7d4e6f8a9b0c1d2e", "url": "https://hooks.shop.example/onboardflow",
    "events": ["task.opened", "task.resolved"], "description": "helpdesk sync", "enabled": True,
    "disabled_reason": None, "disabled_at": None, "created_at": "2026-03-01T10:00:00Z",
    "previous_secret_valid_until": None,
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DELIVERY_EXAMPLE = {
    "id": "msg_5f2a9c0e1d2b3a4f5e6d7c8b", "subscription_id": "sub_3f0c9a2b7d4e6f8a9b0c1d2e",
    "event_id": "task_8d1e07.4:opened", "event_type": "task.opened", "customer_id": "c_42",
    "status": "pending", "attempts": 1, "next_attempt_at": "2026-03-01T10:00:05Z", "response_status": 503,
    "error": "hooks.shop.example answered 503 Service Unavailable", "created_at": "2026-03-01T10:00:00Z",
    "finished_at": None,
}


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"url": "https://hooks.shop.example/onboardflow", "events": ["task.opened", "task.resolved"],
         "description": "helpdesk sync"}]})

    url: str = Field(max_length=2000, description="Where to POST the events: https://… (or http://…)")
    events: list[str] = Field(min_length=1, max_length=50, description=EVENTS_HELP)
    description: str = Field(default="", max_length=500, description="A note for people: whose, what for")


class WebhookUpdate(BaseModel):
    """What to change; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"events": ["*"]}, {"enabled": False, "disabled_reason": "endpoint moving"}, {"enabled": True}]})

    url: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=50, description=EVENTS_HELP)
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = Field(
        default=None, description="false stops deliveries (pending ones fail with the reason); true delivers "
                                  "again from the next event on")
    disabled_reason: str | None = Field(default=None, max_length=500, description="Why, when disabling")


class WebhookRead(BaseModel):
    """A subscription, without its secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUBSCRIPTION_EXAMPLE]})

    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    created_at: datetime
    previous_secret_valid_until: datetime | None = Field(
        description="After a rotation: until when deliveries are signed with the old secret too")

    @classmethod
    def of(cls, subscription: Subscription) -> WebhookRead:
        return cls(id=subscription.id, url=subscription.url, events=list(subscription.events),
                   description=subscription.description, enabled=subscription.enabled,
                   disabled_reason=subscription.disabled_reason, disabled_at=subscription.disabled_at,
                   created_at=subscription.created_at,
                   previous_secret_valid_until=subscription.previous_secret_until)


class WebhookCreated(WebhookRead):
    """The new subscription with its signing secret: shown this once, keep it where the receiver verifies."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE, "warnings": []}]})

    secret: str
    warnings: list[str] = Field(description="What will go wrong as it is (a private address)")


class WebhookPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [SUBSCRIPTION_EXAMPLE]}]})

    items: list[WebhookRead]


class RotateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"grace_hours": 24}, {}]})

    grace_hours: float | None = Field(
        default=None, ge=0, le=24 * 30,
        description="Hours the old secret keeps signing beside the new one (default: the server's "
                    "ONBOARDFLOW_OUTBOUND_WEBHOOKS_ROTATION_GRACE_HOURS, 24); 0 stops it at once")


class SecretRotated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": SUBSCRIPTION_EXAMPLE["id"], "secret": SECRET_EXAMPLE,
        "previous_secret_valid_until": "2026-03-02T10:00:00Z"}]})

    id: str
    secret: str = Field(description="The new signing secret, shown this once")
    previous_secret_valid_until: datetime | None = Field(
        description="Until then deliveries carry a signature with the old secret too; null: not at all")


class DeliveryRead(BaseModel):
    """One event on its way to the subscription: `pending` (next at `next_attempt_at`), `delivered`, or
    `failed` for good; `error` and `response_status` say how the last attempt went."""

    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    id: str = Field(description="The webhook-id the receiver sees")
    subscription_id: str
    event_id: str
    event_type: str
    customer_id: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    response_status: int | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, delivery: OutboundDelivery) -> DeliveryRead:
        fields = {name: getattr(delivery, name) for name in cls.model_fields}
        return cls(**fields)


class DeliveryPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [DELIVERY_EXAMPLE], "next": None}]})

    items: list[DeliveryRead]
    next: str | None = Field(description="The cursor of the next page; null on the last one")


class TestSent(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "delivered": True, "response_status": 200, "error": None,
        "delivery": {**DELIVERY_EXAMPLE, "event_type": "webhook.test", "status": "delivered"}}]})

    delivered: bool = Field(description="Whether the endpoint answered 2xx")
    response_status: int | None
    error: str | None = Field(description="What went wrong, when it did")
    delivery: DeliveryRead


@router.get("", dependencies=ADMIN)
def list_webhooks(store: StoreDep) -> WebhookPage:
    """Subscriptions, oldest first (secrets are never shown again)."""
    return WebhookPage(items=[WebhookRead.of(s) for s in store.subscriptions()])


@router.post("", dependencies=ADMIN, status_code=201)
def create_webhook(body: WebhookCreate, store: StoreDep, clock: ClockDep, settings: SettingsDep
                   ) -> WebhookCreated:
    """Subscribe an endpoint to event types; the answer holds its signing secret, shown this once."""
    subscription = _checked(lambda: create_subscription(store=store, now=clock.now(), url=body.url,
                                                        events=body.events, description=body.description))
    warning = address_warning(subscription.url, allow_private=settings.outbound_webhooks_allow_private)
    return WebhookCreated(**WebhookRead.of(subscription).model_dump(), secret=subscription.secret,
                          warnings=[warning] if warning else [])


@router.get("/{subscription_id}", dependencies=ADMIN, responses=NO_SUBSCRIPTION)
def get_webhook(subscription_id: SubscriptionIdPath, store: StoreDep) -> WebhookRead:
    """One subscription, without its secret."""
    return WebhookRead.of(_existing(store, subscription_id))


@router.patch("/{subscription_id}", dependencies=ADMIN, responses=NO_SUBSCRIPTION)
def update_webhook(subscription_id: SubscriptionIdPath, body: WebhookUpdate, store: StoreDep,
                   clock: ClockDep) -> WebhookRead:
    """Change its URL, event types, description, or whether it is enabled; the rest stays."""
    changed = _checked(lambda: change_subscription(
        store=store, subscription_id=subscription_id, now=clock.now(), url=body.url, events=body.events,
        description=body.description, enabled=body.enabled, reason=body.disabled_reason))
    return WebhookRead.of(changed)


@router.delete("/{subscription_id}", dependencies=ADMIN, status_code=204, responses=NO_SUBSCRIPTION)
def delete_webhook(subscription_id: SubscriptionIdPath, store: StoreDep) -> Response:
    """Remove it and its deliveries: nothing more is sent to it (to pause instead, PATCH enabled: false)."""
    _existing(store, subscription_id)
    store.delete_subscription(subscription_id)
    return Response(status_code=204)


@router.post("/{subscription_id}/rotate-secret", dependencies=ADMIN, responses=NO_SUBSCRIPTION)
def rotate_webhook_secret(subscription_id: SubscriptionIdPath, store: StoreDep, clock: ClockDep,
                          settings: SettingsDep, body: RotateRequest | None = None) -> SecretRotated:
    """A fresh signing secret, shown this once. For the grace period every delivery is signed with both the
    new and the old secret, so the receiver can switch meanwhile; after it, with the new one only."""
    hours = body.grace_hours if body and body.grace_hours is not None else (
        settings.outbound_webhooks_rotation_grace_hours)
    rotated = _checked(lambda: rotate_secret(store=store, subscription_id=subscription_id, now=clock.now(),
                                             grace=timedelta(hours=hours)))
    return SecretRotated(id=rotated.id, secret=rotated.secret,
                         previous_secret_valid_until=rotated.previous_secret_until)


@router.get("/{subscription_id}/deliveries", dependencies=ADMIN, responses={**NO_SUBSCRIPTION, **BAD_CURSOR})
def list_deliveries(
    subscription_id: SubscriptionIdPath,
    store: StoreDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this state")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> DeliveryPage:
    """Its deliveries, newest first: attempts, when the next is due, the last answer or error."""
    _existing(store, subscription_id)
    rows = store.deliveries(status=status, subscription_id=subscription_id, before=decode_cursor(cursor),
                            limit=limit + 1)
    items, after = page(rows, limit, lambda delivery: (delivery.created_at, delivery.id))
    return DeliveryPage(items=[DeliveryRead.of(d) for d in items], next=after)


@router.post("/{subscription_id}/test", dependencies=ADMIN, responses=NO_SUBSCRIPTION)
def send_test(subscription_id: SubscriptionIdPath, store: StoreDep, clock: ClockDep,
              settings: SettingsDep) -> TestSent:
    """Send a `webhook.test` event to it now, enabled or not: one attempt, recorded, never retried; the
    answer says what the endpoint answered (200 either way: the request was carried out)."""
    subscription = _existing(store, subscription_id)
    with httpx.Client(follow_redirects=False) as http:
        deliverer = Deliverer(store, clock=clock, http=http, rules=rules(settings))
        delivery, outcome = deliverer.send_test(subscription)
    return TestSent(delivered=outcome.kind == "delivered", response_status=outcome.status,
                    error=outcome.error, delivery=DeliveryRead.of(delivery))


def _existing(store, subscription_id: str) -> Subscription:
    return _checked(lambda: existing(store, subscription_id))


def _checked(change):
    """The change carried out, or its problems as a 404 (no such subscription) or a 422 naming each field."""
    try:
        return change()
    except SubscriptionNotFound as error:
        raise Problem(404, "Subscription not found", f"{error} (GET /v1/webhooks lists them)") from None
    except SubscriptionInvalid as invalid:
        errors = [{"field": f"body.{field}", "message": problem.removeprefix(f"{field}: ")}
                  for field, problem in zip(invalid.fields, invalid.problems, strict=True)]
        raise Problem(422, "Invalid subscription", str(invalid), errors=errors) from None

"""The event routes' bodies and answers as Pydantic models: they describe the OpenAPI document.

The routes read their bodies themselves and check each event with `engine.ingest.parse_event`, the rules
`onboardflow ingest` applies, so one bad event in a batch is reported by its index while the others are
taken; these models say the same rules to the reader of the document and give its examples.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MAX_BATCH_EVENTS = 1000

ORDER_EVENT = {
    "id": "evt_01", "name": "Order Completed", "customer_id": "c_42", "at": "2026-03-01T10:00:00Z",
    "properties": {"order_id": "o_9", "total": 120.0, "currency": "USD",
                   "products": [{"product_id": "p_1", "category": "skincare", "price": 60.0, "quantity": 2}]},
    "customer": {"email": "ana@example.com", "phone": "+15551234567", "locale": "en-US",
                 "timezone": "America/New_York", "country": "US", "traits": {"type": "retail"}},
}
DELIVERED_EVENT = {"id": "evt_02", "name": "Order Delivered", "customer_id": "c_42",
                   "at": "2026-03-04T15:30:00+01:00", "properties": {"order_id": "o_9"}}


class CustomerUpdate(BaseModel):
    """The customer block: updates the profile in the same step as the event (an inline identify)."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, examples=["ana@example.com"])
    phone: str | None = Field(default=None, description="E.164", examples=["+15551234567"])
    locale: str | None = Field(default=None, examples=["en-US"])
    timezone: str | None = Field(default=None, description="An IANA time zone", examples=["America/New_York"])
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2", examples=["US"])
    traits: dict[str, Any] | None = Field(default=None, examples=[{"type": "retail"}])
    consent: dict[str, Any] | None = Field(
        default=None, description="Consent per channel, as docs/consent.md describes"
    )


class EventCreate(BaseModel):
    """One event in the canonical shape. The same id twice is one event: the second is a duplicate."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ORDER_EVENT]})

    id: str | int = Field(description="Unique per event; a retry with the same id queues nothing new")
    name: str | int = Field(description="Segment's ecommerce names where there is one",
                            examples=["Order Completed"])
    customer_id: str | int = Field(examples=["c_42"])
    at: AwareDatetime = Field(description="When it happened: ISO-8601 with a zone (Z or an offset)")
    properties: dict[str, Any] = Field(default_factory=dict, description="Names per Segment's ecommerce spec")
    customer: CustomerUpdate | None = None


class EventBatchCreate(BaseModel):
    """Up to 1,000 events. The good ones are queued; each bad one is reported by its index."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventCreate] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class EventProblem(BaseModel):
    """An event that was not taken, and what to fix in it."""

    index: int = Field(description="Its position in the request (0 for a single event)")
    id: str | None = Field(description="Its id, when it had a usable one")
    detail: str = Field(examples=["'at' has no time zone: '2026-03-01T10:00:00'; add Z or an offset"])


class EventsAccepted(BaseModel):
    """What was taken: the ids queued for the workers now, and those seen before (not queued again)."""

    accepted: int = Field(description="Events taken: queued and duplicates")
    queued: list[str]
    duplicates: list[str] = Field(description="Ids already queued or processed, or earlier in the request")
    errors: list[EventProblem] = Field(description="The events not taken (a batch takes the others)")
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "accepted": 2, "queued": ["evt_02"], "duplicates": ["evt_01"],
        "errors": [{"index": 2, "id": "evt_03",
                    "detail": "'at' has no time zone: '2026-03-04 15:30'; add Z or an offset"}],
    }]})


class Ignored(BaseModel):
    index: int
    type: str
    detail: str


class SegmentAccepted(EventsAccepted):
    ignored: list[Ignored] = Field(description="Calls of types onboardflow does not use: page, screen, ...")
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "accepted": 1, "queued": ["ajs-2f6a0c1e"], "duplicates": [], "errors": [],
        "ignored": [{"index": 1, "type": "page", "detail": "page calls are not used by onboardflow"}],
    }]})


class SegmentCall(BaseModel):
    """A Segment call, as Segment's Spec defines it; other fields Segment sends are allowed and unused."""

    model_config = ConfigDict(extra="allow")

    type: Literal["track", "identify", "page", "screen", "group", "alias"]
    messageId: str | None = Field(default=None, description="The event's id")  # noqa: N815 - Segment's name
    userId: str | int | None = Field(default=None, description="The customer id")  # noqa: N815
    anonymousId: str | None = Field(default=None, description="The customer id when there is no userId")  # noqa: N815
    event: str | None = Field(default=None, description="track: the event's name",
                              examples=["Order Completed"])
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = Field(default=None, description="identify: the profile")
    context: dict[str, Any] | None = Field(default=None, description="context.traits, locale, timezone")
    timestamp: AwareDatetime | None = None
    originalTimestamp: AwareDatetime | None = None  # noqa: N815
    sentAt: AwareDatetime | None = None  # noqa: N815


class SegmentBatch(BaseModel):
    """Segment's batch: its `context` and `sentAt` apply to each call without its own."""

    model_config = ConfigDict(extra="allow")

    batch: list[SegmentCall] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)
    context: dict[str, Any] | None = None
    sentAt: AwareDatetime | None = None  # noqa: N815


SEGMENT_TRACK = {
    "type": "track", "messageId": "ajs-next-1f2e", "userId": "c_42", "event": "Order Completed",
    "timestamp": "2026-03-01T10:00:00.000Z", "properties": {"order_id": "o_9", "total": 120.0},
    "context": {"traits": {"email": "ana@example.com"}, "locale": "en-US", "timezone": "America/New_York"},
}
SEGMENT_IDENTIFY = {
    "type": "identify", "messageId": "ajs-next-77aa", "userId": "c_42", "timestamp": "2026-03-01T09:58:00Z",
    "traits": {"email": "ana@example.com", "phone": "+15551234567", "firstName": "Ana",
               "address": {"country": "US"}},
}

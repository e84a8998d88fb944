"""What the customer routes take and give: a profile update, and a customer with everything that happened
to them. Profile fields are checked by `core.profile`: a bad one is a 422 naming it and what to write."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from onboardflow.api.consent import ConsentCreate, ConsentRead
from onboardflow.api.messages import MessageRead
from onboardflow.api.tasks import TaskRead
from onboardflow.core.model import Customer, Enrollment
from onboardflow.core.profile import (
    ADDRESS_TYPES,
    ADDRESSES_TRAIT,
    check_country,
    check_locale,
    check_phone,
    check_timezone,
)
from onboardflow.profiles import KINDS, TimelineEntry

Text = Annotated[str, Field(min_length=1, max_length=200)]

ADDRESS_EXAMPLE = {"type": "shipping", "name": "Ana Lima", "line1": "12 Harbour St", "line2": "Apt 4",
                   "city": "Boston", "region": "MA", "postal_code": "02110", "country": "US"}
UPDATE_EXAMPLE = {
    "email": "ana@example.com", "phone": "+15551234567", "locale": "en-US", "timezone": "America/New_York",
    "country": "US", "addresses": [ADDRESS_EXAMPLE], "traits": {"type": "retail", "first_name": "Ana"},
    "consent": [{"channel": "email", "purpose": "marketing", "status": "granted", "source": "signup-form",
                 "text_version": "2026-01", "evidence": {"double_opt_in": True}}],
}
PROFILE_EXAMPLE = {
    "id": "c_42", "email": "ana@example.com", "phone": "+15551234567", "locale": "en-US",
    "timezone": "America/New_York", "country": "US", "addresses": [ADDRESS_EXAMPLE],
    "traits": {"type": "retail", "first_name": "Ana"}, "orders_count": 1, "total_spent": 120.0,
    "first_order_at": "2026-03-01T10:00:00Z", "last_order_at": "2026-03-01T10:00:00Z", "events_count": 3,
    "updated_at": "2026-03-02T09:00:00Z",
}


class Address(BaseModel):
    """A postal address of a kind: shipping, billing, home, work or other."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ADDRESS_EXAMPLE]})

    type: Literal[ADDRESS_TYPES]  # type: ignore[valid-type]
    name: Text | None = None
    line1: Text
    line2: Text | None = None
    city: Text
    region: Text | None = Field(default=None, description="State, province or county")
    postal_code: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    country: str = Field(max_length=10, description="ISO 3166-1 alpha-2, e.g. US")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return check_country(value)


class CustomerUpdate(BaseModel):
    """A profile change: fields left out (or null) keep their value; `traits` merge into the profile's
    traits (a trait set to null is kept as null); `addresses` replace the addresses; each `consent` line
    is added to the ledger."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [UPDATE_EXAMPLE]})

    email: EmailStr | None = Field(default=None, max_length=254)
    country: str | None = Field(default=None, max_length=10, description="ISO 3166-1 alpha-2, e.g. US")
    phone: str | None = Field(default=None, max_length=40,
                              description="E.164, e.g. +15551234567; a national number is read in `country`")
    locale: str | None = Field(default=None, max_length=64, description="A BCP 47 tag, e.g. en-US")
    timezone: str | None = Field(default=None, max_length=64, description="An IANA zone: America/New_York")
    addresses: list[Address] | None = Field(default=None, max_length=20)
    traits: dict[Annotated[str, Field(min_length=1, max_length=100)], Any] | None = Field(
        default=None, max_length=200, examples=[{"type": "wholesale", "plan": "pro"}]
    )
    consent: list[ConsentCreate] = Field(default_factory=list, max_length=50)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else check_country(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_phone(value, country=info.data.get("country"))

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else check_locale(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("traits")
    @classmethod
    def _traits(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and ADDRESSES_TRAIT in value:
            raise ValueError(f"send addresses in the `addresses` field, not as the trait {ADDRESSES_TRAIT!r}")
        return value

    def changes(self) -> dict[str, Any]:
        """The profile fields given, as the canonical event's customer block takes them."""
        return self.model_dump(mode="json", exclude={"consent"}, exclude_none=True)


class ProfileRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PROFILE_EXAMPLE]})

    id: str
    email: str | None
    phone: str | None
    locale: str | None
    timezone: str | None
    country: str | None
    addresses: list[dict[str, Any]]
    traits: dict[str, Any]
    orders_count: int
    total_spent: float
    first_order_at: datetime | None
    last_order_at: datetime | None
    events_count: int
    updated_at: datetime | None

    @classmethod
    def of(cls, customer: Customer) -> ProfileRead:
        traits = dict(customer.traits)
        addresses = traits.pop(ADDRESSES_TRAIT, None)
        addresses = [a for a in addresses if isinstance(a, dict)] if isinstance(addresses, list) else []
        return cls(
            id=customer.id, email=customer.email, phone=customer.phone, locale=customer.locale,
            timezone=customer.timezone, country=customer.country, addresses=addresses, traits=traits,
            orders_count=customer.orders_count, total_spent=customer.total_spent,
            first_order_at=customer.first_order_at, last_order_at=customer.last_order_at,
            events_count=customer.events_count, updated_at=customer.updated_at,
        )


class ProfileUpdateRead(BaseModel):
    """The profile change is queued for the engine, as every event the API takes: workers apply it in the
    customer's order. `profile` is the profile as it will be once applied (events queued earlier may still
    change it); `GET /v1/customers/{id}` shows the stored one."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "c_42", "state": "queued", "event_id": "evt_3a4b5c6d7e8f90a1b2c3d4e5",
        "profile": PROFILE_EXAMPLE, "consents": [],
    }]})

    customer_id: str
    state: Literal["queued", "queued_already"] = Field(
        description="queued: a worker applies it next; queued_already: this very update was taken before"
    )
    event_id: str = Field(description="The `Profile Updated` event that carries the change")
    profile: ProfileRead
    consents: list[ConsentRead] = Field(description="The consent lines added to the ledger")


class EnrollmentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "enr_5c1f0e9a2b7d4e6f8a9b0c1d", "journey_id": "first-purchase-welcome", "version": 1,
        "step_id": "await-delivery", "status": "active", "group": "journey",
        "started_at": "2026-03-01T10:00:00Z", "ended_at": None, "exit_reason": None, "goal_reached_at": None,
        "waiting_for": ["Order Delivered"],
        "waiting_until": "2026-03-11T10:00:00Z",
    }]})

    id: str
    journey_id: str
    version: int
    step_id: str | None
    status: str
    group: str = Field(description="journey, or holdout: enrolled and measured, sent nothing")
    started_at: datetime
    ended_at: datetime | None
    exit_reason: str | None
    goal_reached_at: datetime | None
    waiting_for: list[str] = Field(description="The events that would move it on")
    waiting_until: datetime | None = Field(description="When its timer fires")

    @classmethod
    def of(cls, e: Enrollment) -> EnrollmentRead:
        waiting = e.waiting
        return cls(
            id=e.id, journey_id=e.journey_id, version=e.version, step_id=e.step_id, status=e.status,
            group=e.group, started_at=e.started_at, ended_at=e.ended_at, exit_reason=e.exit_reason,
            goal_reached_at=e.goal_reached_at, waiting_for=list(waiting.events) if waiting else [],
            waiting_until=waiting.until if waiting else None,
        )


class TimelineEntryRead(BaseModel):
    at: datetime
    kind: Literal[KINDS]  # type: ignore[valid-type]
    summary: str
    ref: str = Field(description="The id of the event, consent line, enrollment, message or task")
    journey_id: str | None

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryRead:
        return cls(at=entry.at, kind=entry.kind, summary=entry.summary, ref=entry.ref,
                   journey_id=entry.journey_id)


class CustomerRead(BaseModel):
    """One customer: the stored profile (null while their only events are queued), consent, enrollments,
    messages, tasks, and all of it as one timeline, oldest first (the latest `timeline_limit` entries)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "c_42", "profile": PROFILE_EXAMPLE, "queued_events": 0, "consent": [], "enrollments": [],
        "messages": [], "tasks": [], "timeline_total": 1,
        "timeline": [{"at": "2026-03-01T10:00:00Z", "kind": "event", "summary": "Order Completed",
                      "ref": "evt_01", "journey_id": None}],
    }]})

    id: str
    profile: ProfileRead | None
    queued_events: int = Field(description="Events taken but not applied yet (a worker applies them)")
    consent: list[ConsentRead] = Field(description="The latest ledger line per channel and purpose")
    enrollments: list[EnrollmentRead]
    messages: list[MessageRead]
    tasks: list[TaskRead]
    timeline: list[TimelineEntryRead]
    timeline_total: int = Field(description="Entries in the whole timeline; `timeline` holds the latest")

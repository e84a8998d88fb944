"""Subscriptions as people make them: a URL checked with Pydantic, event types checked against the ones
onboardflow sends, a fresh id and signing secret; enabling and disabling with the reason and time."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

from onboardflow.core.outbound import EVENT_TYPES, EVERY_EVENT, Subscription, unknown_event_types
from onboardflow.ports import SubscriptionNotFound

SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 random bytes
URL_HINTS = {  # pydantic's url errors, said with what to write instead
    "url_parsing": "write the whole URL, e.g. https://hooks.example.com/onboardflow",
    "url_scheme": "it must start with https:// (or http://)",
    "url_too_long": "use a URL of at most 2,000 characters",
}


class SubscriptionInvalid(ValueError):
    """What is wrong with a subscription as given, one problem a line, each saying what to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _no_credentials(url: HttpUrl) -> HttpUrl:
    if url.username or url.password:
        raise ValueError("it holds a user name or password: leave them out, the signature tells the receiver "
                         "each request is onboardflow's")
    return url


class SubscriptionCreate(BaseModel):
    """A new subscription: where to, which events (`*` for all), and a note for people."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Annotated[HttpUrl, AfterValidator(_no_credentials)]
    events: tuple[str, ...] = Field(min_length=1)
    description: str = Field(default="", max_length=500)

    @field_validator("events", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return tuple(dict.fromkeys(str(name).strip() for name in value if str(name).strip()))
        return value

    @field_validator("events")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = unknown_event_types(value)
        if unknown:
            raise ValueError(f"unknown event type(s) {', '.join(map(repr, unknown))}: the types are "
                             f"{', '.join(EVENT_TYPES)}, or {EVERY_EVENT} for all")
        return (EVERY_EVENT,) if EVERY_EVENT in value else value


def checked(**fields: object) -> SubscriptionCreate:
    """The fields as a SubscriptionCreate, or SubscriptionInvalid saying what to fix in each."""
    try:
        return SubscriptionCreate.model_validate(fields)
    except ValidationError as error:
        raise SubscriptionInvalid([_said(problem, fields) for problem in error.errors()]) from None


def _said(problem, fields: dict) -> str:
    name = ".".join(str(part) for part in problem["loc"][:1]) or "subscription"
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "too_short" and name == "events":
        message = f"name at least one event type ({', '.join(EVENT_TYPES)}), or {EVERY_EVENT} for all"
    hint = URL_HINTS.get(problem["type"])
    if hint is None:
        return f"{name}: {message}"
    return f"{name}: {message} (got {fields.get(name)!r}): {hint}"  # not for a URL with a password in it


def new_subscription(create: SubscriptionCreate, *, now: datetime) -> Subscription:
    """The subscription with a fresh id and signing secret (whsec_ and base64 of 32 random bytes)."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
    return Subscription(id=f"sub_{secrets.token_hex(12)}", url=str(create.url), events=create.events,
                        secret=secret, created_at=now, description=create.description)


def create_subscription(*, store, now: datetime, **fields: object) -> Subscription:
    """Check the fields and store a new subscription; SubscriptionInvalid if they will not do."""
    return store.create_subscription(new_subscription(checked(**fields), now=now))


def existing(store, subscription_id: str) -> Subscription:
    found = store.subscription(subscription_id)
    if found is None:
        known = ", ".join(s.id for s in store.subscriptions()) or "none yet"
        raise SubscriptionNotFound(f"no subscription {subscription_id!r}; the subscriptions are: {known}")
    return found


def disable_subscription(*, store, subscription_id: str, reason: str, now: datetime) -> Subscription:
    """Stop deliveries to it, saying why; its pending deliveries fail with that reason."""
    current = existing(store, subscription_id)
    return store.update_subscription(replace(current, enabled=False, disabled_reason=reason, disabled_at=now))


def enable_subscription(*, store, subscription_id: str) -> Subscription:
    """Deliver to it again, from the next event on; enabling an enabled one changes nothing."""
    current = existing(store, subscription_id)
    if current.enabled:
        return current
    return store.update_subscription(replace(current, enabled=True, disabled_reason=None, disabled_at=None))

"""Subscriptions as people make them: a URL checked with Pydantic, event types checked against the ones
onboardflow sends, a fresh id and signing secret; enabling and disabling with the reason and time."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

from onboardflow.core.outbound import EVENT_TYPES, EVERY_EVENT, Subscription, unknown_event_types
from onboardflow.outbound.addresses import AddressRefused, ip_literal, targets
from onboardflow.ports import SubscriptionNotFound

SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 random bytes
URL_HINTS = {  # pydantic's url errors, said with what to write instead
    "url_parsing": "write the whole URL, e.g. https://hooks.example.com/onboardflow",
    "url_scheme": "it must start with https:// (or http://)",
    "url_too_long": "use a URL of at most 2,000 characters",
}


class SubscriptionInvalid(ValueError):
    """What is wrong with a subscription as given, one problem a line, each saying what to fix; `fields`
    names the field of each (url, events, description)."""

    def __init__(self, problems: list[str], fields: list[str] | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.fields = fields or ["subscription"] * len(problems)


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
        problems = error.errors()
        raise SubscriptionInvalid([_said(problem, fields) for problem in problems],
                                  [_field(problem) for problem in problems]) from None


def _field(problem) -> str:
    return ".".join(str(part) for part in problem["loc"][:1]) or "subscription"


def _said(problem, fields: dict) -> str:
    name = _field(problem)
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "too_short" and name == "events":
        message = f"name at least one event type ({', '.join(EVENT_TYPES)}), or {EVERY_EVENT} for all"
    hint = URL_HINTS.get(problem["type"])
    if hint is None:
        return f"{name}: {message}"
    return f"{name}: {message} (got {fields.get(name)!r}): {hint}"  # not for a URL with a password in it


def new_subscription(create: SubscriptionCreate, *, now: datetime) -> Subscription:
    """The subscription with a fresh id and signing secret (whsec_ and base64 of 32 random bytes)."""
    return Subscription(id=f"sub_{secrets.token_hex(12)}", url=str(create.url), events=create.events,
                        secret=new_secret(), created_at=now, description=create.description)


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


def change_subscription(*, store, subscription_id: str, now: datetime, url: str | None = None,
                        events: object = None, description: str | None = None, enabled: bool | None = None,
                        reason: str | None = None) -> Subscription:
    """Change what is given (None: keep it), checked as a new subscription is; disabling fails its pending
    deliveries with `reason`, enabling delivers again from the next event on."""
    current = existing(store, subscription_id)
    good = checked(url=current.url if url is None else url,
                   events=current.events if events is None else events,
                   description=current.description if description is None else description)
    changed = replace(current, url=str(good.url), events=good.events, description=good.description)
    if enabled is False and current.enabled:
        changed = replace(changed, enabled=False, disabled_reason=reason or "disabled by hand",
                          disabled_at=now)
    elif enabled is True and not current.enabled:
        changed = replace(changed, enabled=True, disabled_reason=None, disabled_at=None)
    return changed if changed == current else store.update_subscription(changed)


def rotate_secret(*, store, subscription_id: str, now: datetime, grace: timedelta) -> Subscription:
    """Give the subscription a fresh signing secret; the current one keeps signing too until `now + grace`
    (each delivery then carries both signatures), so receivers can move to the new one meanwhile."""
    if grace < timedelta(0):
        raise ValueError(f"the grace period is {grace}: give zero (the old secret stops at once) or more")
    current = existing(store, subscription_id)
    return store.update_subscription(current.rotated(new_secret(), now=now, grace=grace))


def new_secret() -> str:
    """whsec_ and base64 of 32 random bytes, as Standard Webhooks has them."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def address_warning(url: str, *, allow_private: bool) -> str | None:
    """What to say now if an IP address in the URL will be refused (a host name is looked up at each
    delivery, not here); None if nothing is known to be wrong."""
    if allow_private or ip_literal(httpx.URL(url).host) is None:
        return None
    try:
        targets(url, allow_private=False)
    except AddressRefused as refused:
        return f"deliveries will fail: {refused}"
    return None

"""Channel adapters: one module per channel, found by name through the `onboardflow.channels` entry points.

An adapter class has a `settings_model` (checked at start-up) and `from_settings(settings, context)`;
`onboardflow.channels.config.build_channels` makes the configured ones. Shared here: which content
each channel kind carries, and where a channel kind reaches a customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from onboardflow.core.model import Customer
from onboardflow.engine.clock import SystemClock
from onboardflow.messages.content import (
    Delivery,
    DeliveryError,
    EmailContent,
    PushContent,
    SmsContent,
    WhatsAppContent,
)
from onboardflow.ports import Clock, Store

ADDRESS_FIELD = {"email": "email", "sms": "phone", "whatsapp": "phone"}  # others reach the customer by id
CONTENT_OF = {
    "email": EmailContent,
    "sms": SmsContent,
    "whatsapp": WhatsAppContent,
    "push": PushContent,
    "in_app": PushContent,
}

ContentT = TypeVar("ContentT")


class AdapterSettings(BaseModel):
    """What every adapter's settings have: the channel name journeys use for it, and a switch.

    Unknown keys are refused, so a misspelt setting is an error at start-up, not a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = Field(min_length=1, description="The channel name journeys use, e.g. email")
    enabled: bool = Field(default=True, description="False keeps the settings but builds no channel")


def timeout_field(default: float = 10.0) -> Any:
    return Field(default=default, gt=0, le=300, description="Seconds to wait for the provider, per step")


@dataclass(frozen=True)
class ChannelContext:
    """What adapters may need besides their settings: the store (in-app inbox) and the clock."""

    store: Store | None = None
    clock: Clock = field(default_factory=SystemClock)


def channel_class(name: str) -> Any:
    """The adapter class registered under `name`; raises LookupError listing the known ones."""
    found = {point.name: point for point in entry_points(group="onboardflow.channels")}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise LookupError(f"no channel adapter named {name!r}; installed: {known}")
    return found[name].load()


def address_by_field(customer: Customer, field: str) -> str | None:
    """The customer's address in `field` (email, phone or id), or None when they have none."""
    return getattr(customer, field, None) or None


def address_for(channel: str, customer: Customer) -> str | None:
    """Where a channel of this kind reaches the customer: email, phone, or (in-app, push ...) their id."""
    return address_by_field(customer, ADDRESS_FIELD.get(channel, "id"))


def content_of(delivery: Delivery, kind: type[ContentT], adapter: str) -> ContentT:
    """The delivery's content if it is of `kind`; else a permanent DeliveryError (a retry cannot help)."""
    if isinstance(delivery.content, kind):
        return delivery.content
    raise DeliveryError(
        f"the {adapter} channel sends {kind.__name__}, but message {delivery.message_id} has "
        f"{type(delivery.content).__name__}: it was rendered for another channel",
        permanent=True,
    )


def check_content_for(channel: str, delivery: Delivery, adapter: str) -> None:
    """For stand-in channels (sandbox, recording): the content must suit the channel kind they play."""
    kind = CONTENT_OF.get(channel)
    if kind is not None:
        content_of(delivery, kind, adapter)

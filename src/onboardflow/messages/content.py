"""What a channel adapter is handed: one message, rendered for its channel, addressed, with its idempotency key.

Rendering (templates) produces a `Content`; the dispatcher addresses it as a `Delivery`; an adapter sends it
or raises `DeliveryError`, saying whether trying again can help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True, slots=True)
class SmsContent:
    text: str
    encoding: Literal["GSM-7", "UCS-2"] = "GSM-7"
    segments: int = 1


@dataclass(frozen=True, slots=True)
class WhatsAppContent:
    """An approved template with its parameters, or free text (only inside the customer's 24-hour window)."""

    template: str | None = None
    language: str | None = None
    parameters: tuple[str, ...] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class PushContent:
    """Push and in-app inbox messages."""

    title: str
    body: str
    deep_link: str | None = None


Content = EmailContent | SmsContent | WhatsAppContent | PushContent


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message, rendered for one channel and addressed: what a channel adapter sends."""

    message_id: str
    idempotency_key: str  # the same on every retry of this message, so a provider never sends it twice
    channel: str
    customer_id: str
    to: str  # an email address, an E.164 phone number, or the customer id (in-app, push)
    purpose: str  # transactional, education, engagement, promotion
    content: Content
    unsubscribe_url: str | None = None  # marketing mail: List-Unsubscribe (RFC 8058 one-click POST target)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_marketing(self) -> bool:
        return self.purpose != "transactional"


class DeliveryError(Exception):
    """A channel could not deliver. `permanent`: retrying cannot help (invalid number, bounced address).

    `retry_after` is the provider's own wait in seconds (HTTP Retry-After), when it gave one.
    """

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after

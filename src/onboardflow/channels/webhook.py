"""The webhook channel: each message POSTed as JSON to one URL, signed per the Standard Webhooks spec.

`webhook-id` is the message's idempotency key (the same on every retry, so the receiver can drop a
repeat), `webhook-timestamp` the clock's time, `webhook-signature` the HMAC of both and the body. Any
receiver with a Standard Webhooks library verifies it; the time-out is the settings'.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC
from typing import Any, Literal

import httpx
from pydantic import Field, HttpUrl, SecretStr, field_validator
from standardwebhooks import Webhook

from onboardflow.channels import AdapterSettings, ChannelContext, address_by_field, timeout_field
from onboardflow.channels.http import ProviderClient, json_body, shown_url
from onboardflow.core.model import Customer
from onboardflow.messages.content import (
    Delivery,
    DeliveryError,
    EmailContent,
    PushContent,
    SmsContent,
    WhatsAppContent,
)

CONTENT_KIND = {EmailContent: "email", SmsContent: "sms", WhatsAppContent: "whatsapp", PushContent: "push"}
REFUSED = {400, 422}  # the receiver refuses this message itself: sending it again cannot help


class WebhookSettings(AdapterSettings):
    channel: str = "webhook"
    url: HttpUrl = Field(description="Where each message is POSTed")
    secret: SecretStr = Field(description="Signing secret, whsec_ + base64 (Standard Webhooks)")
    address_field: Literal["id", "email", "phone"] = Field(
        default="id", description="Which customer field is the message's `to`; without it, no send"
    )
    event_type: str = Field(default="message.send", min_length=1, description="The payload's `type`")
    timeout: float = timeout_field()

    @field_validator("secret")
    @classmethod
    def _signing_key(cls, value: SecretStr) -> SecretStr:
        try:
            Webhook(value.get_secret_value())
        except Exception:  # the library raises several kinds for a key that is not base64
            raise ValueError("the secret must be whsec_ and base64 (of at least 24 random bytes)") from None
        return value


class WebhookChannel:
    """POSTs `{type, timestamp, data: the delivery}`; returns the receiver's `id`, else the webhook-id."""

    settings_model = WebhookSettings

    def __init__(self, settings: WebhookSettings, context: ChannelContext) -> None:
        self.name = settings.channel
        self.settings = settings
        self.url = str(settings.url)
        self._clock = context.clock
        self._signer = Webhook(settings.secret.get_secret_value())
        self._http = ProviderClient("the webhook receiver", timeout=settings.timeout, clock=context.clock)

    @classmethod
    def from_settings(cls, settings: WebhookSettings, context: ChannelContext) -> WebhookChannel:
        return cls(settings, context)

    def address(self, customer: Customer) -> str | None:
        return address_by_field(customer, self.settings.address_field)

    def send(self, delivery: Delivery) -> str:
        now = self._clock.now().astimezone(UTC)
        body = json.dumps(self.payload(delivery, now.isoformat()), ensure_ascii=False, separators=(",", ":"))
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.idempotency_key,
            "webhook-timestamp": str(math.floor(now.timestamp())),
            "webhook-signature": self._signer.sign(delivery.idempotency_key, now, body),
        }
        response = self._http.post(self.url, content=body.encode(), headers=headers)
        if response.is_success:
            receiver_id = json_body(response).get("id")
            return receiver_id if isinstance(receiver_id, str) and receiver_id else delivery.idempotency_key
        raise self._failure(response)

    def payload(self, delivery: Delivery, timestamp: str) -> dict[str, Any]:
        """The Standard Webhooks envelope around the delivery; the content says which kind it is."""
        content = {"kind": CONTENT_KIND.get(type(delivery.content), "other"), **_fields(delivery.content)}
        data = {name: getattr(delivery, name) for name in ("message_id", "idempotency_key", "channel",
                                                           "customer_id", "to", "purpose", "unsubscribe_url")}
        return {
            "type": self.settings.event_type,
            "timestamp": timestamp,
            "data": {**data, "headers": dict(delivery.headers), "content": content},
        }

    def _failure(self, response: httpx.Response) -> DeliveryError:
        said = f"the webhook receiver at {shown_url(self.url)} answered {response.status_code}"
        if response.status_code in REFUSED:
            return DeliveryError(f"{said}: it refuses this message", permanent=True)
        if response.is_redirect:
            return DeliveryError(
                f"{said} (redirects are not followed): set ONBOARDFLOW_WEBHOOK__URL to the final URL"
            )
        if response.status_code in (401, 403):
            return DeliveryError(f"{said}: it refuses the signature; check ONBOARDFLOW_WEBHOOK__SECRET")
        if response.status_code == 410:
            return DeliveryError(f"{said}: the endpoint is gone; set ONBOARDFLOW_WEBHOOK__URL to a live one")
        return DeliveryError(said, retry_after=self._http.retry_after(response))

    def close(self) -> None:
        self._http.close()


def _fields(content: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(content) and not isinstance(content, type):
        return {field.name: getattr(content, field.name) for field in dataclasses.fields(content)}
    return {}

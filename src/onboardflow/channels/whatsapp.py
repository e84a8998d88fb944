"""WhatsApp through the Cloud API format: an approved template with parameters, or text in the 24-hour window.

`POST {base_url}/{version}/{phone_number_id}/messages` with a bearer token. The Cloud API takes no
idempotency key; the message's key travels as `biz_opaque_callback_data` and comes back on status
webhooks, so a duplicate after a lost answer can at least be recognised.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import Field, HttpUrl, SecretStr, field_validator

from onboardflow.channels import AdapterSettings, ChannelContext, address_by_field, content_of, timeout_field
from onboardflow.channels.http import ProviderClient, json_body
from onboardflow.core.model import Customer
from onboardflow.messages.content import Delivery, DeliveryError, WhatsAppContent

# Cloud API error codes about this recipient: retrying the same message cannot help.
RECIPIENT_CODES = {
    131026: "cannot receive this message (not on WhatsApp, or an old app version)",
    131047: "last wrote more than 24 hours ago: outside that window only an approved template may be sent",
    131050: "has stopped marketing messages from this business",
    131021: "is the sender's own number",
}
RATE_LIMIT_CODES = {
    130429: "the number's throughput limit was reached",
    131056: "too many messages to this customer in a short time (pair rate limit)",
    131048: "the number is rate limited for quality (spam rate limit)",
    4: "the app's API call limit was reached",
    80007: "the WhatsApp Business account's rate limit was reached",
}
CREDENTIAL_CODES = {0, 10, 190, 200}  # unauthenticated, no permission, expired or invalid token
CREDENTIALS_HINT = "check ONBOARDFLOW_WHATSAPP__ACCESS_TOKEN and ONBOARDFLOW_WHATSAPP__PHONE_NUMBER_ID"


class WhatsAppSettings(AdapterSettings):
    channel: str = "whatsapp"
    phone_number_id: str = Field(min_length=1, description="The business phone number's Cloud API id")
    access_token: SecretStr = Field(description="A system user access token (secret)")
    base_url: HttpUrl = Field(default=HttpUrl("https://graph.facebook.com"), description="API root")
    api_version: str = Field(default="v21.0", description="Graph API version, e.g. v21.0")
    default_language: str = Field(default="en_US", description="Template language if the message has none")
    timeout: float = timeout_field()

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", value):
            raise ValueError("write the Graph API version as v<major>.<minor>, e.g. v21.0")
        return value

    @field_validator("access_token")
    @classmethod
    def _token_given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("the access token is empty")
        return value


class WhatsAppChannel:
    """WhatsApp via the Cloud API; returns the message's `wamid`."""

    settings_model = WhatsAppSettings

    def __init__(self, settings: WhatsAppSettings, context: ChannelContext) -> None:
        self.name = settings.channel
        self.settings = settings
        base = str(settings.base_url).rstrip("/")
        self.url = f"{base}/{settings.api_version}/{settings.phone_number_id}/messages"
        self._http = ProviderClient(
            "the WhatsApp Cloud API",
            timeout=settings.timeout,
            clock=context.clock,
            headers={"Authorization": f"Bearer {settings.access_token.get_secret_value()}"},
        )

    @classmethod
    def from_settings(cls, settings: WhatsAppSettings, context: ChannelContext) -> WhatsAppChannel:
        return cls(settings, context)

    def address(self, customer: Customer) -> str | None:
        return address_by_field(customer, "phone")

    def send(self, delivery: Delivery) -> str:
        body = self.request_body(delivery, content_of(delivery, WhatsAppContent, "whatsapp"))
        response = self._http.post(self.url, json=body)
        if response.is_success:
            messages = json_body(response).get("messages") or [{}]
            wamid = messages[0].get("id") if isinstance(messages[0], dict) else None
            if not isinstance(wamid, str) or not wamid:
                status = response.status_code
                raise DeliveryError(f"the WhatsApp Cloud API answered {status}, but with no message id")
            return wamid
        raise self._failure(response, delivery)

    def request_body(self, delivery: Delivery, content: WhatsAppContent) -> dict[str, Any]:
        """The Cloud API message: a template (works any time) if the content names one, else free text."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": re.sub(r"\D", "", delivery.to),
            "biz_opaque_callback_data": delivery.idempotency_key,
        }
        if content.template:
            template: dict[str, Any] = {
                "name": content.template,
                "language": {"code": content.language or self.settings.default_language},
            }
            if content.parameters:
                parameters = [{"type": "text", "text": value} for value in content.parameters]
                template["components"] = [{"type": "body", "parameters": parameters}]
            return {**body, "type": "template", "template": template}
        if content.text:
            return {**body, "type": "text", "text": {"body": content.text, "preview_url": False}}
        raise DeliveryError(
            f"message {delivery.message_id} has neither a WhatsApp template nor text", permanent=True
        )

    def _failure(self, response: httpx.Response, delivery: Delivery) -> DeliveryError:
        error = json_body(response).get("error")
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        said = f"the WhatsApp Cloud API answered {response.status_code}"
        if code is not None:
            said += f" (error {code}: {str(error.get('message', ''))[:200]})"
        retry_after = self._http.retry_after(response, rate_limited=code in RATE_LIMIT_CODES)
        if code in RECIPIENT_CODES:
            return DeliveryError(f"{delivery.to} {RECIPIENT_CODES[code]} ({said})", permanent=True)
        if code in RATE_LIMIT_CODES or response.status_code == 429:
            reason = RATE_LIMIT_CODES.get(code, "too many requests")
            return DeliveryError(f"{reason} ({said})", retry_after=retry_after)
        if code in CREDENTIAL_CODES or response.status_code in (401, 403):
            return DeliveryError(f"{said}: {CREDENTIALS_HINT}")
        return DeliveryError(said, retry_after=retry_after)

    def close(self) -> None:
        self._http.close()

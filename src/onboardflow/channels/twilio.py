"""SMS through a Twilio-compatible REST API: one form-encoded POST per message, with an idempotency token.

The token is the message's idempotency key, so a retry after a time-out never sends the SMS twice.
Twilio's error codes say whether the number itself is the problem (permanent) or not (retry).
"""

from __future__ import annotations

import re

import httpx
from pydantic import Field, HttpUrl, SecretStr, field_validator, model_validator

from onboardflow.channels import AdapterSettings, ChannelContext, address_by_field, content_of, timeout_field
from onboardflow.channels.http import ProviderClient, json_body
from onboardflow.core.model import Customer
from onboardflow.messages.content import Delivery, DeliveryError, SmsContent

E164 = re.compile(r"\+[1-9]\d{6,14}")

# Codes about the recipient's number: retrying cannot help, the number is undeliverable.
RECIPIENT_CODES = {
    21211: "is not a valid phone number",
    21614: "is not a mobile number and cannot receive SMS",
    21610: "has replied STOP: the customer unsubscribed from this sender",
    21612: "cannot be reached by SMS from this sender",
}
CREDENTIALS_HINT = "check ONBOARDFLOW_TWILIO__ACCOUNT_SID and ONBOARDFLOW_TWILIO__AUTH_TOKEN"


class TwilioSettings(AdapterSettings):
    channel: str = "sms"
    account_sid: str = Field(min_length=1, description="The account SID, AC…")
    auth_token: SecretStr = Field(description="The account's auth token (secret)")
    from_number: str | None = Field(default=None, description="Sender number in E.164, e.g. +15550001111")
    messaging_service_sid: str | None = Field(default=None, description="Or a messaging service SID, MG…")
    base_url: HttpUrl = Field(default=HttpUrl("https://api.twilio.com"), description="API root")
    timeout: float = timeout_field()

    @field_validator("from_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not E164.fullmatch(value):
            raise ValueError("write the sender number in E.164: + country code and number, e.g. +15550001111")
        return value

    @field_validator("auth_token")
    @classmethod
    def _token_given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("the auth token is empty")
        return value

    @model_validator(mode="after")
    def _one_sender(self) -> TwilioSettings:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("set exactly one of from_number and messaging_service_sid (who the SMS is from)")
        return self


class TwilioChannel:
    """SMS via `POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`; returns the message SID."""

    settings_model = TwilioSettings

    def __init__(self, settings: TwilioSettings, context: ChannelContext) -> None:
        self.name = settings.channel
        self.settings = settings
        base = str(settings.base_url).rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
        self._http = ProviderClient(
            "Twilio",
            timeout=settings.timeout,
            clock=context.clock,
            auth=(settings.account_sid, settings.auth_token.get_secret_value()),
        )

    @classmethod
    def from_settings(cls, settings: TwilioSettings, context: ChannelContext) -> TwilioChannel:
        return cls(settings, context)

    def address(self, customer: Customer) -> str | None:
        return address_by_field(customer, "phone")

    def send(self, delivery: Delivery) -> str:
        content = content_of(delivery, SmsContent, "twilio")
        response = self._http.post(
            self.url,
            data=self._form(delivery, content),
            headers={"I-Twilio-Idempotency-Token": delivery.idempotency_key},
        )
        if response.is_success:
            sid = json_body(response).get("sid")
            if not isinstance(sid, str) or not sid:
                raise DeliveryError(f"Twilio answered {response.status_code} with no message sid")
            return sid
        raise self._failure(response, delivery)

    def _form(self, delivery: Delivery, content: SmsContent) -> dict[str, str]:
        sender = (
            {"From": self.settings.from_number}
            if self.settings.from_number
            else {"MessagingServiceSid": self.settings.messaging_service_sid or ""}
        )
        return {"To": delivery.to, **sender, "Body": content.text}

    def _failure(self, response: httpx.Response, delivery: Delivery) -> DeliveryError:
        body = json_body(response)
        code = body.get("code")
        retry_after = self._http.retry_after(response)
        said = f"Twilio answered {response.status_code}"
        if code:
            said += f" (error {code}: {str(body.get('message', ''))[:200]})"
        if code in RECIPIENT_CODES:
            return DeliveryError(f"{delivery.to} {RECIPIENT_CODES[code]} ({said})", permanent=True)
        if response.status_code in (401, 403):
            return DeliveryError(f"{said}: {CREDENTIALS_HINT}")
        if response.status_code == 429:
            return DeliveryError(f"{said}: too many requests", retry_after=retry_after)
        return DeliveryError(said, retry_after=retry_after)

    def close(self) -> None:
        self._http.close()

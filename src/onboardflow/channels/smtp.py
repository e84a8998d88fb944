"""Email over SMTP: STARTTLS (or implicit TLS) and AUTH, a text part with an optional HTML alternative.

The Message-ID is derived from the message's idempotency key, so a retried message carries the same id.
Marketing mail gets `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
A 5xx on RCPT means the address bounced (permanent); 4xx, refused connections and time-outs are transient.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator

from onboardflow.channels import AdapterSettings, ChannelContext, address_by_field, content_of, timeout_field
from onboardflow.core.model import Customer
from onboardflow.messages.content import Delivery, DeliveryError, EmailContent

SAFE_ID = re.compile(r"[A-Za-z0-9_+=-]+(\.[A-Za-z0-9_+=-]+)*")
OWN_HEADERS = {"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post",
               "content-type", "content-transfer-encoding", "mime-version"}
LOGIN_HINT = "check ONBOARDFLOW_SMTP__USERNAME and ONBOARDFLOW_SMTP__PASSWORD"


class SmtpSettings(AdapterSettings):
    channel: str = "email"
    host: str = Field(min_length=1, description="The mail server (relay) to hand messages to")
    port: int = Field(default=587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS")
    security: Literal["starttls", "tls", "none"] = Field(default="starttls", description="How to encrypt")
    username: str | None = Field(default=None, description="AUTH user name; none: no AUTH")
    password: SecretStr | None = Field(default=None, description="AUTH password (secret)")
    from_address: str = Field(description="The From header, e.g. Shop <hello@shop.example>")
    reply_to: str | None = Field(default=None, description="A Reply-To header, if replies go elsewhere")
    ca_file: FilePath | None = Field(default=None, description="PEM file of the CA to trust (private CAs)")
    message_id_domain: str | None = Field(default=None, description="Message-ID domain; default: From's")
    timeout: float = timeout_field()

    @field_validator("from_address", "reply_to")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in parseaddr(value)[1]:
            raise ValueError("write an email address, e.g. hello@shop.example or Shop <hello@shop.example>")
        return value

    @field_validator("ca_file")
    @classmethod
    def _certificates(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                ssl.create_default_context(cafile=str(value))
            except (ssl.SSLError, ValueError):
                raise ValueError(f"{value} holds no PEM CA certificate") from None
        return value

    @model_validator(mode="after")
    def _auth_is_safe(self) -> SmtpSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("set both username and password for AUTH, or neither")
        if self.username is not None and self.security == "none":
            raise ValueError("unencrypted AUTH sends the password in clear: set security to starttls or tls")
        return self

    @property
    def id_domain(self) -> str:
        return self.message_id_domain or parseaddr(self.from_address)[1].rpartition("@")[2]


class SmtpChannel:
    """Sends each message on its own connection: connect, encrypt, log in, send, quit."""

    settings_model = SmtpSettings

    def __init__(self, settings: SmtpSettings, context: ChannelContext) -> None:
        self.name = settings.channel
        self.settings = settings
        self._clock = context.clock
        self._tls = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
        self.server = f"{settings.host}:{settings.port}"

    @classmethod
    def from_settings(cls, settings: SmtpSettings, context: ChannelContext) -> SmtpChannel:
        return cls(settings, context)

    def address(self, customer: Customer) -> str | None:
        return address_by_field(customer, "email")

    def send(self, delivery: Delivery) -> str:
        message = self.compose(delivery, content_of(delivery, EmailContent, "smtp"))
        try:
            self._hand_over(message, delivery.to)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = error.recipients.get(delivery.to, next(iter(error.recipients.values())))
            raise _refused(delivery.to, code, reply) from None
        except (smtplib.SMTPException, OSError) as error:
            raise self._failure(error) from None
        return message["Message-ID"]

    def compose(self, delivery: Delivery, content: EmailContent) -> EmailMessage:
        """The email as it goes out; a header value with a line break is refused (header injection)."""
        try:
            return self._compose(delivery, content)
        except ValueError as error:
            raise DeliveryError(f"message {delivery.message_id} cannot be written as email: {error}",
                                permanent=True) from None

    def _compose(self, delivery: Delivery, content: EmailContent) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.from_address
        message["To"] = delivery.to
        message["Subject"] = content.subject
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = message_id(delivery.idempotency_key, self.settings.id_domain)
        if self.settings.reply_to:
            message["Reply-To"] = self.settings.reply_to
        if delivery.is_marketing and delivery.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{delivery.unsubscribe_url}>"
            if delivery.unsubscribe_url.startswith("https://"):  # RFC 8058: one-click needs an HTTPS URI
                message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        for name, value in delivery.headers.items():
            if name.lower() not in OWN_HEADERS:
                message[name] = value
        message.set_content(content.text)
        if content.html:
            message.add_alternative(content.html, subtype="html")
        return message

    def _hand_over(self, message: EmailMessage, to: str) -> None:
        settings = self.settings
        if settings.security == "tls":
            connection = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=self._tls
            )
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with connection:
            if settings.security == "starttls":
                connection.starttls(context=self._tls)
            if settings.username is not None and settings.password is not None:
                connection.login(settings.username, settings.password.get_secret_value())
            connection.send_message(message, to_addrs=[to])

    def _failure(self, error: smtplib.SMTPException | OSError) -> DeliveryError:
        server = f"the mail server at {self.server}"
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return DeliveryError(f"{server} refused the login of {self.settings.username!r} "
                                 f"({error.smtp_code} {_text(error.smtp_error)}): {LOGIN_HINT}")
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return DeliveryError(f"{server} does not offer what the settings ask ({error}): "
                                 "check ONBOARDFLOW_SMTP__SECURITY and the port")
        if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
            return DeliveryError(f"{server} did not answer within {self.settings.timeout:g} s")
        if isinstance(error, smtplib.SMTPResponseException):
            return DeliveryError(f"{server} answered {error.smtp_code} {_text(error.smtp_error)}")
        if isinstance(error, ssl.SSLError):
            return DeliveryError(f"TLS with {server} failed ({error.reason or error}): if it uses a private "
                                 "CA, set ONBOARDFLOW_SMTP__CA_FILE")
        return DeliveryError(f"could not deliver to {server}: {error.strerror or error}")

    def close(self) -> None:
        return None


def message_id(idempotency_key: str, domain: str) -> str:
    """`<key@domain>`, the same for every retry of a message; a key unfit for a Message-ID is hashed."""
    local = idempotency_key if SAFE_ID.fullmatch(idempotency_key) else hashlib.sha256(
        idempotency_key.encode()).hexdigest()[:32]
    return f"<{local}@{domain}>"


def _refused(to: str, code: int, reply: bytes | str) -> DeliveryError:
    said = f"{code} {_text(reply)}"
    if code >= 500:
        return DeliveryError(f"the mail server refused {to}: {said} (the address bounced)", permanent=True)
    return DeliveryError(f"the mail server deferred {to}: {said}")


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]

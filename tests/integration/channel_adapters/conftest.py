"""Fixtures for the channel adapter tests: a CA made at test time, the servers, settings that reach them."""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from onboardflow.channels import ChannelContext
from onboardflow.channels.smtp import SmtpChannel, SmtpSettings
from onboardflow.channels.twilio import TwilioChannel, TwilioSettings
from onboardflow.channels.webhook import WebhookChannel, WebhookSettings
from onboardflow.channels.whatsapp import WhatsAppChannel, WhatsAppSettings
from onboardflow.engine.clock import VirtualClock
from onboardflow.messages.content import Content, Delivery

from .servers import FakeTwilio, FakeWhatsApp, MailServer, ProviderServer, Reply, Request, WebhookReceiver

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

SMTP_USER = "shop-mailer"
SMTP_PASSWORD = "smtp-pw-Q7xVb2secret"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-token-s3cr3t-9d4f"
WHATSAPP_NUMBER_ID = "106540352242922"
WHATSAPP_TOKEN = "EAAGwa-token-s3cr3t-77"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webhook-signing-key-32-bytes-ok!").decode()
SECRETS = (SMTP_PASSWORD, TWILIO_TOKEN, WHATSAPP_TOKEN, WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_"))


@pytest.fixture(autouse=True)
def channel_settings_from_the_test_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ONBOARDFLOW_ channel variable, onboardflow.toml or .env of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("ONBOARDFLOW_") and ("__" in name or name == "ONBOARDFLOW_CONFIG"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@dataclass(frozen=True)
class Tls:
    server_context: ssl.SSLContext
    ca_file: Path


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A CA and a server certificate for 127.0.0.1 / localhost, made for this test run."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return Tls(server_context, ca_file)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def mail_server(tls: Tls) -> Iterator[MailServer]:
    """aiosmtpd requiring STARTTLS, then AUTH (PLAIN or LOGIN) as SMTP_USER."""
    server = MailServer(tls=tls.server_context, users={SMTP_USER: SMTP_PASSWORD}).start()
    yield server
    server.stop()


def smtp_settings(port: int, ca_file: Path | None, **changes) -> SmtpSettings:
    fields = dict(
        host="127.0.0.1", port=port, username=SMTP_USER, password=SMTP_PASSWORD,
        from_address="Acme Shop <hello@shop.example>", ca_file=ca_file, timeout=3,
    )
    return SmtpSettings(**{**fields, **changes})


@pytest.fixture
def smtp(mail_server: MailServer, tls: Tls, clock: VirtualClock) -> SmtpChannel:
    return SmtpChannel(smtp_settings(mail_server.port, tls.ca_file), ChannelContext(clock=clock))


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Request], Reply]], ProviderServer]]:
    """Start an HTTP server answering with a fake provider; every one started is stopped after the test."""
    started: list[ProviderServer] = []

    def start(answer: Callable[[Request], Reply]) -> ProviderServer:
        started.append(ProviderServer(answer).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fake_twilio() -> FakeTwilio:
    return FakeTwilio(TWILIO_SID, TWILIO_TOKEN)


@pytest.fixture
def twilio_server(serve, fake_twilio: FakeTwilio) -> ProviderServer:
    return serve(fake_twilio)


def twilio_settings(base_url: str, **changes) -> TwilioSettings:
    fields = dict(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, from_number="+15550001111",
                  base_url=base_url, timeout=0.5)
    return TwilioSettings(**{**fields, **changes})


@pytest.fixture
def twilio(twilio_server: ProviderServer, clock: VirtualClock) -> Iterator[TwilioChannel]:
    channel = TwilioChannel(twilio_settings(twilio_server.url), ChannelContext(clock=clock))
    yield channel
    channel.close()


@pytest.fixture
def fake_whatsapp() -> FakeWhatsApp:
    return FakeWhatsApp(WHATSAPP_NUMBER_ID, WHATSAPP_TOKEN)


@pytest.fixture
def whatsapp_server(serve, fake_whatsapp: FakeWhatsApp) -> ProviderServer:
    return serve(fake_whatsapp)


def whatsapp_settings(base_url: str, **changes) -> WhatsAppSettings:
    fields = dict(phone_number_id=WHATSAPP_NUMBER_ID, access_token=WHATSAPP_TOKEN, base_url=base_url,
                  timeout=0.5)
    return WhatsAppSettings(**{**fields, **changes})


@pytest.fixture
def whatsapp(whatsapp_server: ProviderServer, clock: VirtualClock) -> Iterator[WhatsAppChannel]:
    channel = WhatsAppChannel(whatsapp_settings(whatsapp_server.url), ChannelContext(clock=clock))
    yield channel
    channel.close()


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(WEBHOOK_SECRET)


@pytest.fixture
def webhook_server(serve, receiver: WebhookReceiver) -> ProviderServer:
    return serve(receiver)


def webhook_settings(url: str, **changes) -> WebhookSettings:
    return WebhookSettings(**{**dict(url=url, secret=WEBHOOK_SECRET, timeout=0.5), **changes})


@pytest.fixture
def webhook(webhook_server: ProviderServer) -> Iterator[WebhookChannel]:
    """The webhook channel on the system clock: the receiver's verifier checks timestamps against now."""
    channel = WebhookChannel(webhook_settings(f"{webhook_server.url}/hooks/onboardflow"), ChannelContext())
    yield channel
    channel.close()


def delivery(channel: str, content: Content, *, to: str, purpose: str = "transactional", **changes
             ) -> Delivery:
    fields = dict(
        message_id="msg_en1.3", idempotency_key="msg_en1.3", channel=channel, customer_id="c_42", to=to,
        purpose=purpose, content=content,
    )
    return Delivery(**{**fields, **changes})

"""The DeliveryChannel contract: every adapter behaves the same where the protocol says so.

Each runs against its real counterpart (aiosmtpd, the local provider servers, a SQLite store); the
sandbox and recording channels, which stand in for all of them, are held to the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onboardflow.channels import ChannelContext
from onboardflow.channels.inbox import InboxChannel
from onboardflow.channels.recording import RecordingChannel
from onboardflow.channels.sandbox import SandboxChannel
from onboardflow.channels.smtp import SmtpChannel
from onboardflow.channels.twilio import TwilioChannel
from onboardflow.channels.webhook import WebhookChannel
from onboardflow.channels.whatsapp import WhatsAppChannel
from onboardflow.core.model import Customer
from onboardflow.messages.content import (
    Content,
    Delivery,
    DeliveryError,
    EmailContent,
    PushContent,
    SmsContent,
    WhatsAppContent,
)
from onboardflow.ports import DeliveryChannel

from .conftest import SECRETS, delivery, smtp_settings, twilio_settings, webhook_settings, whatsapp_settings

ANA = Customer(id="c_42", email="ana@example.com", phone="+15551234567")
NOBODY = Customer(id="c_0")
EMAIL = EmailContent(subject="Welcome", text="Hello Ana")
SMS = SmsContent(text="Hello Ana")
WHATSAPP = WhatsAppContent(template="welcome", parameters=("Ana",))
PUSH = PushContent(title="Welcome", body="Hello Ana")


@dataclass
class Harness:
    """One adapter wired to its counterpart, and how to see what reached it, or to take it away."""

    channel: DeliveryChannel
    name: str
    content: Content
    wrong_content: Content | None  # None: the adapter carries every kind (webhook)
    address: str  # where it reaches ANA
    reaches_nobody: bool  # whether a customer with no email or phone is reachable (by id)
    received: Callable[[], list[str]]  # what the counterpart got, each showing the idempotency key
    break_it: Callable[[], None] | None  # take the counterpart away; None: it cannot fail (sandbox)
    keyed_by: str = "idempotency_key"  # the inbox keeps messages by message id

    def delivery(self, content: Content | None = None, **changes) -> Delivery:
        return delivery(self.name, content or self.content, to=self.address, customer_id=ANA.id, **changes)


def _smtp(request, clock) -> Harness:
    server, tls = request.getfixturevalue("mail_server"), request.getfixturevalue("tls")
    channel = SmtpChannel(smtp_settings(server.port, tls.ca_file), ChannelContext(clock=clock))
    return Harness(channel, "email", EMAIL, SMS, "ana@example.com", False,
                   lambda: [mail.message["Message-ID"] for mail in server.received], server.stop)


def _twilio(request, clock) -> Harness:
    server = request.getfixturevalue("twilio_server")
    channel = TwilioChannel(twilio_settings(server.url), ChannelContext(clock=clock))
    request.addfinalizer(channel.close)
    sent = request.getfixturevalue("fake_twilio").sent
    tokens = lambda: [r.headers["i-twilio-idempotency-token"] for r in server.requests][: len(sent)]  # noqa: E731
    return Harness(channel, "sms", SMS, EMAIL, "+15551234567", False, tokens, server.stop)


def _whatsapp(request, clock) -> Harness:
    server, fake = request.getfixturevalue("whatsapp_server"), request.getfixturevalue("fake_whatsapp")
    channel = WhatsAppChannel(whatsapp_settings(server.url), ChannelContext(clock=clock))
    request.addfinalizer(channel.close)
    return Harness(channel, "whatsapp", WHATSAPP, SMS, "+15551234567", False,
                   lambda: [body["biz_opaque_callback_data"] for body in fake.sent], server.stop)


def _webhook(request, clock) -> Harness:
    server, receiver = request.getfixturevalue("webhook_server"), request.getfixturevalue("receiver")
    channel = WebhookChannel(webhook_settings(server.url), ChannelContext())  # the verifier checks real time
    request.addfinalizer(channel.close)
    return Harness(channel, "webhook", PUSH, None, "c_42", True, lambda: list(receiver.accepted), server.stop)


def _inbox(request, clock) -> Harness:
    store = request.getfixturevalue("sqlite_store")
    channel = InboxChannel(store, clock)

    def lose_the_database() -> None:
        store.close()
        Path(store.url.database).unlink()

    return Harness(channel, "in_app", PUSH, EMAIL, "c_42", True,
                   lambda: [m.message_id for m in store.inbox(ANA.id)], lose_the_database,
                   keyed_by="message_id")


def _sandbox(request, clock) -> Harness:
    channel = SandboxChannel("sms")
    return Harness(channel, "sms", SMS, EMAIL, "+15551234567", False,
                   lambda: [d.idempotency_key for d in channel.sent], None)


def _recording(request, clock) -> Harness:
    channel = RecordingChannel("email")
    return Harness(channel, "email", EMAIL, PUSH, "ana@example.com", False,
                   lambda: [d.idempotency_key for d in channel.sent], channel.fail_always)


ADAPTERS = {"smtp": _smtp, "twilio": _twilio, "whatsapp": _whatsapp, "webhook": _webhook, "inbox": _inbox,
            "sandbox": _sandbox, "recording": _recording}


@pytest.fixture(params=sorted(ADAPTERS))
def harness(request, clock) -> Iterator[Harness]:
    yield ADAPTERS[request.param](request, clock)


def test_the_channel_carries_the_name_journeys_use(harness):
    assert harness.channel.name == harness.name


def test_address_is_where_the_channel_reaches_the_customer_or_none(harness):
    assert harness.channel.address(ANA) == harness.address
    assert harness.channel.address(NOBODY) == ("c_0" if harness.reaches_nobody else None)


def test_send_returns_the_providers_id_and_the_message_arrives_once_with_its_key(harness):
    sent = harness.delivery(message_id="msg_en7.2", idempotency_key="key_en7.2")

    provider_id = harness.channel.send(sent)

    assert isinstance(provider_id, str) and provider_id
    [received] = harness.received()
    assert getattr(sent, harness.keyed_by) in received


def test_content_for_another_channel_is_permanent_and_nothing_arrives(harness):
    if harness.wrong_content is None:
        pytest.skip("this adapter carries every kind of content")

    with pytest.raises(DeliveryError) as raised:
        harness.channel.send(harness.delivery(harness.wrong_content))

    assert raised.value.permanent and "rendered for another channel" in raised.value.reason
    assert harness.received() == []


def test_an_unavailable_provider_is_a_transient_delivery_error_that_shows_no_secret(harness):
    if harness.break_it is None:
        pytest.skip("the sandbox cannot fail")
    harness.break_it()

    with pytest.raises(DeliveryError) as raised:
        harness.channel.send(harness.delivery())

    assert not raised.value.permanent
    assert raised.value.reason == str(raised.value) and len(raised.value.reason) > 20
    assert not [secret for secret in SECRETS if secret in raised.value.reason]
    assert raised.value.__cause__ is None  # the library's exception is translated, not chained for show
    assert raised.value.__suppress_context__ or raised.value.__context__ is None

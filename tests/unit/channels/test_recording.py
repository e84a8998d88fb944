"""The recording and sandbox channels: stand-ins that keep what they are handed, for tests and demos."""

from __future__ import annotations

import pytest

from onboardflow.channels.recording import RecordingChannel
from onboardflow.channels.sandbox import SandboxChannel
from onboardflow.core.model import Customer
from onboardflow.messages.content import Delivery, DeliveryError, EmailContent, PushContent, SmsContent

ANA = Customer(id="c1", email="ana@example.com", phone="+15551234567")


def email(message_id: str = "m1", customer_id: str = "c1") -> Delivery:
    return Delivery(message_id, message_id, "email", customer_id, "ana@example.com", "transactional",
                    EmailContent(subject="Hi", text="Hello"))


def test_recording_keeps_each_delivery_and_numbers_its_ids():
    channel = RecordingChannel("email")

    ids = [channel.send(email("m1")), channel.send(email("m2", "c2"))]

    assert ids == ["recorded-1", "recorded-2"]
    assert [d.message_id for d in channel.sent] == ["m1", "m2"]
    assert [d.message_id for d in channel.sent_to("c2")] == ["m2"]


def test_recording_fails_the_next_sends_as_told_then_recovers():
    channel = RecordingChannel("email")
    channel.fail_next(2, reason="503 from provider", retry_after=30)

    errors = []
    for _ in range(2):
        with pytest.raises(DeliveryError) as raised:
            channel.send(email())
        errors.append((raised.value.reason, raised.value.permanent, raised.value.retry_after))
    channel.send(email())

    assert errors == [("503 from provider", False, 30)] * 2
    assert len(channel.attempts) == 3 and len(channel.sent) == 1


def test_recording_bounces_for_good_when_told():
    channel = RecordingChannel("email")
    channel.fail_next(reason="550 mailbox unavailable", permanent=True)

    with pytest.raises(DeliveryError) as raised:
        channel.send(email())

    assert raised.value.permanent and channel.sent == []


def test_recording_fails_always_until_it_recovers():
    channel = RecordingChannel("email")
    channel.fail_always()

    for _ in range(3):
        with pytest.raises(DeliveryError):
            channel.send(email())
    channel.recover()

    assert channel.send(email()) == "recorded-1"


def test_recording_refuses_a_count_below_one():
    with pytest.raises(ValueError, match="times must be 1 or more, got 0"):
        RecordingChannel().fail_next(0)


def test_recording_refuses_content_for_another_channel_for_good():
    channel = RecordingChannel("sms")

    with pytest.raises(DeliveryError) as raised:
        channel.send(email())

    assert raised.value.permanent and "sends SmsContent" in raised.value.reason and channel.sent == []


def test_a_channel_of_no_known_kind_takes_any_content():
    channel = RecordingChannel("webhook")

    channel.send(email())

    assert len(channel.sent) == 1


@pytest.mark.parametrize(
    ("name", "address", "without"),
    [("email", "ana@example.com", None), ("sms", "+15551234567", None), ("whatsapp", "+15551234567", None),
     ("in_app", "c1", "c1"), ("push", "c1", "c1")],
)
def test_stand_ins_reach_customers_where_the_real_channel_would(name, address, without):
    for channel in (RecordingChannel(name), SandboxChannel(name)):
        assert channel.address(ANA) == address
        assert channel.address(Customer(id="c1")) == without


def test_the_sandbox_sends_prints_and_keeps_the_delivery():
    shown: list[str] = []
    channel = SandboxChannel("in_app", printer=shown.append)
    tip = PushContent(title="Tip", body="Try reorder")
    note = Delivery("m9", "m9", "in_app", "c1", "c1", "education", tip)

    provider_id = channel.send(note)

    assert provider_id == "sandbox-m9" and channel.sent == [note]
    assert shown == ["in_app   → c1: Tip (education)"]  # what the customer sees first: the title


def test_the_sandbox_refuses_content_for_another_channel():
    with pytest.raises(DeliveryError) as raised:
        SandboxChannel("email").send(
            Delivery("m1", "m1", "email", "c1", "a@example.com", "transactional", SmsContent(text="hi"))
        )

    assert raised.value.permanent

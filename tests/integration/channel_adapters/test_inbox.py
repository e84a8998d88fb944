"""The in-app inbox channel on every store: a message sent is there for the API to read, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onboardflow.channels import ChannelContext
from onboardflow.channels.config import ChannelSettings, build_channels
from onboardflow.channels.inbox import InboxChannel
from onboardflow.core.model import Customer
from onboardflow.messages.content import DeliveryError, EmailContent, PushContent
from onboardflow.ports import InboxMessage

from .conftest import T0, delivery

NOTE = PushContent(title="Set up your account", body="Two minutes, and reorders are one tap.", deep_link="shop://setup")


def note(**changes):
    return delivery("in_app", changes.pop("content", NOTE), to="c_42", **changes)


@pytest.fixture
def inbox_channel(store, clock) -> InboxChannel:
    return InboxChannel(store, clock)


def test_a_sent_message_is_in_the_customers_inbox_unread(inbox_channel, store):
    provider_id = inbox_channel.send(note(purpose="education"))

    assert provider_id == "msg_en1.3"
    assert store.inbox("c_42") == [
        InboxMessage(message_id="msg_en1.3", customer_id="c_42", title=NOTE.title, body=NOTE.body,
                     purpose="education", created_at=T0, deep_link="shop://setup", read_at=None)
    ]


def test_a_retried_delivery_is_one_inbox_message_with_its_first_time(inbox_channel, store, clock):
    inbox_channel.send(note())
    clock.advance(timedelta(minutes=5))
    inbox_channel.send(note())

    assert [(m.message_id, m.created_at) for m in store.inbox("c_42")] == [("msg_en1.3", T0)]


def test_messages_read_through_the_store_drop_out_of_unread(inbox_channel, store, clock):
    inbox_channel.send(note(message_id="m1", idempotency_key="m1"))
    inbox_channel.send(note(message_id="m2", idempotency_key="m2"))

    store.mark_read("c_42", ["m1"], at=clock.now())

    assert [m.message_id for m in store.inbox("c_42", unread_only=True)] == ["m2"]


def test_email_content_is_refused_for_good_and_nothing_is_stored(inbox_channel, store):
    with pytest.raises(DeliveryError) as raised:
        inbox_channel.send(note(content=EmailContent(subject="s", text="t")))

    assert raised.value.permanent and store.inbox("c_42") == []


def test_every_customer_is_reached_by_id(inbox_channel):
    assert inbox_channel.address(Customer(id="c_7")) == "c_7"


def test_the_configured_inbox_writes_to_the_store_it_is_built_with(store, clock):
    channels = build_channels(ChannelSettings(), store=store, clock=clock)

    channels["in_app"].send(note())

    assert [m.message_id for m in store.inbox("c_42")] == ["msg_en1.3"]


def test_building_the_inbox_without_a_store_says_so(clock):
    with pytest.raises(ValueError, match="keeps messages in the store: build it with a store"):
        InboxChannel.from_settings(InboxChannel.settings_model(), ChannelContext(clock=clock))

"""The dispatcher: each due message delivered once, through the first channel that can reach the customer."""

from __future__ import annotations

from datetime import timedelta

from onboardflow.channels.sandbox import SandboxChannel, sandbox_channels
from onboardflow.core.model import Customer
from onboardflow.engine.dispatcher import ChannelFailure, choose_channel, dispatch_due

from .shop import EMAIL_ONLY, RETAIL, T0


def delivered_by(channels) -> dict[str, list[str]]:
    return {name: [message.step_id for message, _ in channel.delivered] for name, channel in channels.items()}


class FailingChannel(SandboxChannel):
    def deliver(self, message, customer):
        raise ChannelFailure("provider said 503")


def test_each_due_message_is_delivered_once_and_recorded(examples):
    examples.ingest(examples.order("c1"), examples.order("c2"))
    channels = sandbox_channels()

    result = dispatch_due(examples.store, channels, now=examples.clock.now())

    assert (result.delivered, result.undeliverable, result.failed, result.total) == (2, 0, 0, 2)
    assert len(channels["email"].delivered) == 2
    for row in examples.store.messages():
        assert (row.status, row.channel, row.attempts) == ("delivered", "email", 1)
        assert row.delivered_at == T0
        assert row.error is None
    assert examples.store.counts()["delivered"] == 2


def test_a_second_dispatch_delivers_nothing_again(examples):
    examples.ingest(examples.order())
    channels = sandbox_channels()
    dispatch_due(examples.store, channels, now=examples.clock.now())

    again = dispatch_due(examples.store, channels, now=examples.clock.now() + timedelta(hours=1))

    assert again.total == 0
    assert len(channels["email"].delivered) == 1


def test_only_new_messages_go_out_on_the_next_round(examples):
    examples.ingest(examples.order())
    channels = sandbox_channels()
    dispatch_due(examples.store, channels, now=examples.clock.now())
    examples.after(days=1)
    examples.ingest(examples.delivered())

    dispatch_due(examples.store, channels, now=examples.clock.now())

    assert delivered_by(channels)["email"] == ["welcome"]
    assert delivered_by(channels)["whatsapp"] == ["usage-tips"]


def test_a_claimed_message_is_not_delivered_again_while_its_lease_runs(examples):
    examples.ingest(examples.order())
    now = examples.clock.now()
    [claimed] = examples.store.claim_messages(now, 10, lease_seconds=60)  # another dispatcher holds it
    channels = sandbox_channels()

    assert dispatch_due(examples.store, channels, now=now).total == 0
    assert dispatch_due(examples.store, channels, now=now + timedelta(seconds=59)).total == 0
    assert claimed.status == "pending"

    later = dispatch_due(examples.store, channels, now=now + timedelta(seconds=61))
    assert later.delivered == 1  # the lease ran out without a result: the message is delivered after all


def test_a_message_is_not_claimed_before_its_time(examples):
    examples.ingest(examples.order())

    result = dispatch_due(examples.store, sandbox_channels(), now=T0 - timedelta(minutes=1))

    assert result.total == 0


def test_the_preference_order_picks_the_first_channel_that_reaches_the_customer(examples):
    examples.ingest(examples.order("c1", profile=RETAIL), examples.delivered("c1"))
    channels = sandbox_channels()

    dispatch_due(examples.store, channels, now=examples.clock.now())

    [tips] = [row for row in examples.store.messages("c1") if row.message.step_id == "usage-tips"]
    assert tips.message.channels == ("whatsapp", "sms", "email")
    assert (tips.status, tips.channel) == ("delivered", "whatsapp")


def test_a_missing_channel_falls_through_to_the_next(examples):
    examples.ingest(examples.order("c1", profile=RETAIL), examples.delivered("c1"))
    channels = sandbox_channels(("sms", "email"))

    dispatch_due(examples.store, channels, now=examples.clock.now())

    [tips] = [row for row in examples.store.messages("c1") if row.message.step_id == "usage-tips"]
    assert tips.channel == "sms"


def test_a_customer_without_a_phone_falls_through_to_email(examples):
    examples.ingest(examples.order("c1", profile=EMAIL_ONLY), examples.delivered("c1"))
    channels = sandbox_channels()

    dispatch_due(examples.store, channels, now=examples.clock.now())

    [tips] = [row for row in examples.store.messages("c1") if row.message.step_id == "usage-tips"]
    assert (tips.status, tips.channel) == ("delivered", "email")
    assert channels["whatsapp"].delivered == [] and channels["sms"].delivered == []


def test_a_message_no_channel_can_deliver_is_undeliverable(examples):
    examples.ingest(examples.order("c1", profile={"country": "US"}))  # no email, no phone

    result = dispatch_due(examples.store, sandbox_channels(), now=examples.clock.now())

    assert (result.delivered, result.undeliverable) == (0, 1)
    [row] = examples.store.messages("c1")
    assert (row.status, row.channel, row.delivered_at) == ("undeliverable", None, None)
    assert "no channel of email can reach customer c1" in row.error
    assert dispatch_due(examples.store, sandbox_channels(), now=examples.clock.now()).total == 0


def test_a_channel_failure_leaves_the_message_for_a_retry(examples):
    examples.ingest(examples.order())
    now = examples.clock.now()

    failed = dispatch_due(examples.store, {"email": FailingChannel("email")}, now=now)

    assert failed.failed == 1
    [row] = examples.store.messages("c1")
    assert (row.status, row.attempts, row.error) == ("pending", 1, "provider said 503")
    retried = dispatch_due(examples.store, sandbox_channels(), now=now + timedelta(minutes=1))
    assert retried.delivered == 1
    [row] = examples.store.messages("c1")
    assert (row.status, row.attempts, row.error) == ("delivered", 2, None)


def test_dispatch_takes_at_most_the_limit(examples):
    examples.ingest(*(examples.order(f"c{n}") for n in range(5)))
    channels = sandbox_channels()

    first = dispatch_due(examples.store, channels, now=examples.clock.now(), limit=3)
    rest = dispatch_due(examples.store, channels, now=examples.clock.now(), limit=3)

    assert (first.delivered, rest.delivered) == (3, 2)


def test_choose_channel_follows_the_preference():
    channels = sandbox_channels()
    with_phone = Customer("c1", email="a@example.com", phone="+1555")
    without = Customer("c2", email="b@example.com")
    nobody = Customer("c3")

    assert choose_channel(channels, ("whatsapp", "sms", "email"), with_phone).name == "whatsapp"
    assert choose_channel(channels, ("sms", "email"), without).name == "email"
    assert choose_channel(channels, ("fax", "email"), without).name == "email"
    assert choose_channel(channels, ("sms", "email"), nobody) is None
    assert choose_channel(channels, ("push",), nobody).name == "push"  # push needs no address here

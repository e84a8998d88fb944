"""The dispatcher: takes due messages from the outbox and delivers each through the first channel that can.

Real channels, consent, quiet hours and frequency caps join here in the channels issue; the order of
work stays: claim, choose a channel, deliver, record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from onboardflow.core.model import Customer
from onboardflow.ports import Channel, OutboxMessage


@dataclass
class DispatchResult:
    delivered: int = 0
    undeliverable: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.undeliverable + self.failed


class ChannelFailure(Exception):
    """A channel adapter could not deliver; the message stays for a retry."""


def dispatch_due(store, channels: Mapping[str, Channel], *, now, limit: int = 500) -> DispatchResult:
    """Deliver every due outbox message (up to `limit`) and record what happened to each."""
    result = DispatchResult()
    for row in store.claim_messages(now, limit):
        customer = store.customer(row.message.customer_id) or Customer(id=row.message.customer_id)
        _deliver_one(store, channels, row, customer, now, result)
    return result


def _deliver_one(store, channels, row: OutboxMessage, customer: Customer, now, result: DispatchResult) -> None:
    message = row.message
    channel = choose_channel(channels, message.channels, customer)
    if channel is None:
        reason = f"no channel of {', '.join(message.channels)} can reach customer {customer.id}"
        store.record_delivery(message.message_id, status="undeliverable", channel=None, at=now, error=reason)
        result.undeliverable += 1
        return
    try:
        channel.deliver(message, customer)
    except ChannelFailure as error:
        store.record_delivery(message.message_id, status="pending", channel=channel.name, at=now, error=str(error))
        result.failed += 1
        return
    store.record_delivery(message.message_id, status="delivered", channel=channel.name, at=now)
    result.delivered += 1


def choose_channel(channels: Mapping[str, Channel], preference: tuple[str, ...], customer: Customer):
    """The first channel, in the journey's order of preference, that exists and can reach the customer."""
    for name in preference:
        channel = channels.get(name)
        if channel is not None and channel.can_reach(customer):
            return channel
    return None

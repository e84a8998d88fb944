"""The dispatcher: takes due messages from the outbox, applies the sending policies, renders and delivers.

For each message: consent and address pick the channel, value-before-selling may hold it, quiet hours
and frequency caps may defer or skip it (`core.policies.decide_send`); then the template is rendered
for that channel and the customer's locale and an adapter delivers it. A transient failure is retried
with back-off (`next_attempt`) and parked when retries run out; a permanent one marks the address
undeliverable. What became of a message, and why, is recorded on it; what a journey may react to is
emitted as events (`Message Undeliverable`, `Email Bounced`, `SMS Failed`, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from onboardflow.core.consent import policy_consent
from onboardflow.core.effects import SendMessage, stable_id
from onboardflow.core.journey import Send
from onboardflow.core.model import MESSAGE_UNDELIVERABLE, ORDER_COMPLETED, Customer, Enrollment, Event
from onboardflow.core.outbound import FAILED_STATUSES, message_failed, message_sent
from onboardflow.core.policies import (
    OutgoingMessage,
    PolicyRules,
    Recipient,
    SendDecision,
    SentMessage,
    decide_send,
    next_attempt,
)
from onboardflow.messages.content import Delivery, DeliveryError
from onboardflow.messages.templates import MessageError, MessageScope, TemplateSet, reads, render_message
from onboardflow.ports import Clock, DeliveryChannel, OutboxMessage

CLAIMED_TOGETHER = 25  # messages claimed at once: few enough that a slow round does not outlive its lease
LEASE_SECONDS = 60  # a claimed message is no one else's this long; renewed before it is decided and sent
# a lease with less than this left is renewed before the message is sent: more than any channel's time-out
RENEW_WITHIN = timedelta(seconds=30)
HOLD_RECHECK = timedelta(hours=1)  # how often a held promotion looks again for the event it waits for
FAILURE_EVENTS = {"email": "Email Bounced", "sms": "SMS Failed", "whatsapp": "WhatsApp Failed"}
WHATSAPP_INBOUND = "WhatsApp Message Received"  # the customer's own message: opens WhatsApp's 24-hour window
STATUSES = ("pending", "delivered", "skipped", "undeliverable", "parked")


@dataclass
class DispatchResult:
    delivered: int = 0
    deferred: int = 0
    held: int = 0
    skipped: int = 0
    undeliverable: int = 0
    retrying: int = 0
    parked: int = 0
    lost: int = 0  # claimed, but the lease ran out and another worker took the message: not sent here

    @property
    def failed(self) -> int:
        return self.retrying + self.parked

    @property
    def total(self) -> int:
        return self.delivered + self.deferred + self.held + self.skipped + self.undeliverable + self.failed

    def add(self, other: DispatchResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


UnsubscribeLinks = Any  # (customer_id, channel, purpose) -> URL, or None when links are not configured
# (message, status, channel, at, details: note, error, next_attempt_at ...), as recorded on the message
Recorded = Callable[[SendMessage, str, str | None, datetime, dict[str, Any]], None]


@dataclass
class Dispatcher:
    """Everything delivery needs: the store, the engine's catalog, channels, templates and the rules."""

    store: Any
    catalog: Any
    channels: Mapping[str, DeliveryChannel]
    templates: TemplateSet = field(default_factory=TemplateSet)
    rules: PolicyRules = field(default_factory=PolicyRules)
    unsubscribe_link: UnsubscribeLinks = None
    recommender: Any = None  # gives `recommendations` to templates (intelligence.recommendations.Recommender)
    recommendations: int = 4
    on_record: Recorded | None = None  # told what became of each message (the simulator's timelines)
    clock: Clock | None = None  # the time a lease is renewed from (without one: the round's `now`)

    def dispatch_due(self, *, now: datetime, limit: int = 500, at_due_time: bool = False) -> DispatchResult:
        """Decide on and deliver every due outbox message (up to `limit`); record what became of each.

        `at_due_time` decides each message at its own due time, oldest first (a replay on a virtual
        clock catching up): quiet hours and caps judge the moment the message was meant to go.
        """
        result, claimed = DispatchResult(), 0
        while claimed < limit:
            rows = self.store.claim_messages(now, min(CLAIMED_TOGETHER, limit - claimed),
                                             lease_seconds=LEASE_SECONDS)
            if not rows:
                break
            held_until = now + timedelta(seconds=LEASE_SECONDS)
            result.add(self.dispatch(rows, now=now, at_due_time=at_due_time, held_until=held_until))
            claimed += len(rows)
        return result

    def dispatch(self, rows: list[OutboxMessage], *, now: datetime, at_due_time: bool = False,
                 held_until: datetime | None = None) -> DispatchResult:
        """Decide on and deliver these claimed outbox messages (the simulator picks them per customer).

        With `held_until`, the lease their claim set: each message's lease is renewed from it just before
        the message is decided and sent, and a message whose lease ran out and was claimed by another
        worker meanwhile is left to that worker (`lost`): no message goes out twice.
        """
        result = DispatchResult()
        for row in rows:
            if held_until is not None and not self._renew(row, held_until, now):
                result.lost += 1
                continue
            self._one(row, (row.next_attempt_at or row.message.at) if at_due_time else now, result)
        return result

    def _renew(self, row: OutboxMessage, held_until: datetime, now: datetime) -> bool:
        """Whether the message is still ours to send: its claim's lease holds long enough for the send
        (known only with a clock), or it was renewed now; False when another worker has it."""
        if self.clock is not None and self.clock.now() + RENEW_WITHIN < held_until:
            return True  # no one else can claim it before the lease ends, and the send ends before that
        at = max(self.clock.now(), now) if self.clock is not None else now
        return self.store.renew_message_lease(row.message.message_id, held_until=held_until,
                                              until=at + timedelta(seconds=LEASE_SECONDS))

    def _one(self, row: OutboxMessage, now: datetime, result: DispatchResult) -> None:
        message = row.message
        customer = self.store.customer(message.customer_id) or Customer(id=message.customer_id)
        enrollment = _enrollment(self.store, message)
        decision = self._decide(message, customer, enrollment, now)
        if decision.action == "send":
            self._deliver(row, customer, enrollment, decision.channel, now, result)
        elif decision.action in ("defer", "hold"):
            until = decision.until if decision.action == "defer" else now + HOLD_RECHECK
            self._record(row, "pending", decision.channel, now, note=decision.reason, next_attempt_at=until,
                         count=False)
            result.deferred += decision.action == "defer"
            result.held += decision.action == "hold"
        elif decision.action == "skip":
            self._record(row, "skipped", decision.channel, now, note=decision.reason, count=False)
            result.skipped += 1
        else:
            self._undeliverable(row, None, decision.reason, now, result)

    def _decide(self, message: SendMessage, customer: Customer, enrollment: Enrollment | None, now) -> SendDecision:
        version = self.catalog.get(message.journey_id, message.version)
        step = version.steps.get(message.step_id)
        on_cap = step.send.when_capped if isinstance(step, Send) else "defer"
        policies = version.journey.policies
        started = enrollment.started_at if enrollment else message.at
        outgoing = OutgoingMessage.from_effect(message, enrollment_started_at=started, on_cap=on_cap)
        waits_for = [policies.no_promotion_before] if policies.no_promotion_before else []
        recipient = Recipient.from_customer(
            customer,
            reachable=frozenset(name for name in message.channels if self._address(name, customer)),
            consent=self._consent(customer),
            last_event_at=self.store.last_event_times(customer.id, waits_for) if waits_for else {},
        )
        return decide_send(outgoing, recipient, journey_policies=policies, history=self._history(customer.id),
                           rules=self.rules, now=now)

    def _deliver(self, row, customer: Customer, enrollment, channel_name: str, now, result) -> None:
        message = row.message
        channel = self.channels[channel_name]
        link = self.unsubscribe_link(customer.id, channel_name, message.purpose) if (
            self.unsubscribe_link and message.purpose != "transactional") else None
        scope = MessageScope.of(customer, trigger=enrollment.trigger if enrollment else {},
                                journey_id=message.journey_id, step_id=message.step_id,
                                message_id=message.message_id, unsubscribe_url=link,
                                recommendations=self._recommendations(message.template, customer.id))
        inbound = None
        if channel_name == "whatsapp":
            inbound = self.store.last_event_times(customer.id, [WHATSAPP_INBOUND]).get(WHATSAPP_INBOUND)
        try:
            content = render_message(self.templates, message.template, channel_name, scope, now=now,
                                     last_inbound_at=inbound)
        except MessageError as error:
            self._record(row, "parked", channel_name, now, error=f"cannot render: {error}")
            result.parked += 1
            return
        delivery = Delivery(message.message_id, message.message_id, channel_name, customer.id,
                            self._address(channel_name, customer), message.purpose, content, link)
        try:
            provider_id = channel.send(delivery)
        except DeliveryError as error:
            self._failed(row, customer, channel_name, error, now, result)
            return
        self._record(row, "delivered", channel_name, now, provider_id=provider_id)
        result.delivered += 1

    def _recommendations(self, template_name: str, customer_id: str) -> tuple[dict[str, Any], ...]:
        """Products for the customer, from what they bought; only for a template that shows them."""
        template = self.templates.get(template_name)
        if self.recommender is None or template is None or not reads(template, "recommendations"):
            return ()
        orders = self.store.customer_history(customer_id, names=[ORDER_COMPLETED])
        lines = [line for order in orders for line in order.properties.get("products") or []]
        bought = [str(line["product_id"]) for line in lines
                  if isinstance(line, Mapping) and line.get("product_id")]
        return tuple(item.card() for item in self.recommender.recommend(bought, top=self.recommendations))

    def _failed(self, row: OutboxMessage, customer, channel: str, error: DeliveryError, now, result) -> None:
        message = row.message
        if error.permanent:
            self._undeliverable(row, channel, error.reason, now, result, bounced=self._address(channel, customer))
            return
        attempt = row.attempts + 1
        wait = next_attempt(attempt, message.message_id, error.retry_after, policy=self.rules.retry)
        if wait is None:
            self._record(row, "parked", channel, now, error=f"gave up after {attempt} attempt(s): {error.reason}")
            result.parked += 1
            return
        self._record(row, "pending", channel, now, error=error.reason, next_attempt_at=now + wait)
        result.retrying += 1

    def _undeliverable(self, row: OutboxMessage, channel, reason: str, now, result, *, bounced=None) -> None:
        message = row.message
        self._record(row, "undeliverable", channel, now, error=reason)
        result.undeliverable += 1
        events = [_event(message, MESSAGE_UNDELIVERABLE, now, channel=channel, reason=reason)]
        if bounced and channel in FAILURE_EVENTS:
            # the address goes on the profile as undeliverable: a new address makes the customer reachable again
            marked = {"traits": {"undeliverable": {channel: bounced}}}
            events.append(_event(message, FAILURE_EVENTS[channel], now, channel=channel, reason=reason,
                                 customer=marked))
        self.store.enqueue(events, now=now)

    def _record(self, row: OutboxMessage, status: str, channel, now, *, count=True, **details) -> None:
        """Record what became of the message, with the outbound event it makes (sent, failed for good)."""
        message = row.message
        outbound = []
        if status == "delivered":
            sent = message_sent(message, channel=channel, provider_id=details.get("provider_id"), at=now)
            outbound.append(sent)
        elif status in FAILED_STATUSES:
            failed = message_failed(message, status=status, channel=channel, error=details.get("error"),
                                    attempts=row.attempts + count, at=now)
            outbound.append(failed)
        self.store.record_delivery(message.message_id, status=status, channel=channel, at=now, counted=count,
                                   outbound=outbound, **details)
        if self.on_record is not None:
            self.on_record(message, status, channel, now, details)

    def _address(self, channel_name: str, customer: Customer) -> str | None:
        channel = self.channels.get(channel_name)
        address = channel.address(customer) if channel is not None else None
        bounced = (customer.traits.get("undeliverable") or {}).get(channel_name)
        return None if address is None or address == bounced else address

    def _consent(self, customer: Customer) -> dict[tuple[str, str], str] | None:
        ledger = self.store.consent_state(customer.id)
        if not ledger:
            return None  # the profile's consent block, as the policies read it
        return policy_consent(ledger)

    def _history(self, customer_id: str) -> list[SentMessage]:
        return [
            SentMessage(at=row.delivered_at, channel=row.channel, purpose=row.message.purpose,
                        journey_id=row.message.journey_id)
            for row in self.store.messages(customer_id) if row.status == "delivered" and row.delivered_at
        ]


def _enrollment(store, message: SendMessage) -> Enrollment | None:
    return next((e for e in store.enrollments_of(message.customer_id) if e.id == message.enrollment_id), None)


def _event(message: SendMessage, name: str, now: datetime, *, customer=None, **details) -> Event:
    properties = {"message_id": message.message_id, "enrollment_id": message.enrollment_id,
                  "journey_id": message.journey_id, "step_id": message.step_id, **details}
    return Event(stable_id("evt", message.message_id, name), name, message.customer_id, now, properties, customer)

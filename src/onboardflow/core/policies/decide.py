"""One decision for one message about to go out, applying the policies in the dispatcher's order.

1. consent and address, channel by channel in the step's order of preference: the first channel the
   customer can receive this purpose on is used (none: `skip`, or `undeliverable` if no address at all);
2. `no_promotion_before`: a promotion waits (`hold`) until the customer had the journey's event;
3. quiet hours in the recipient's zone: `defer` to the first allowed minute;
4. frequency caps, judged at the instant the message would go: `defer` to when the cap frees up (and
   out of quiet hours again), or `skip`, as the step chose.

Everything arrives as arguments; the dispatcher gathers them (see docs/policies.md) and records the
decision's `reason`, which is written for a person reading the message's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from onboardflow.core.effects import SendMessage
from onboardflow.core.journey import Policies
from onboardflow.core.model import Customer
from onboardflow.core.policies.caps import CapRule, OnCap, SentMessage, check_frequency_caps
from onboardflow.core.policies.consent import (
    ConsentDecision,
    ConsentRules,
    consent_decision,
    consent_from_profile,
)
from onboardflow.core.policies.quiet_hours import (
    QuietWindow,
    SmsQuietHours,
    next_allowed_under,
    quiet_windows,
)
from onboardflow.core.policies.retries import RetryPolicy
from onboardflow.core.policies.zones import Place, locate, store_zone

PROMOTION = "promotion"
SendAction = Literal["send", "defer", "skip", "hold", "undeliverable"]


@dataclass(frozen=True, slots=True)
class PolicyRules:
    """The store-wide policies, as settings give them (`PolicySettings.rules()`)."""

    store_zone: str = "UTC"
    sms_quiet_hours: SmsQuietHours = field(default_factory=SmsQuietHours)
    caps: tuple[CapRule, ...] = ()
    consent: ConsentRules = field(default_factory=ConsentRules)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """The message about to go out: its channels in order of preference and what it is for."""

    message_id: str
    journey_id: str
    channels: tuple[str, ...]
    purpose: str
    enrollment_started_at: datetime
    on_cap: OnCap = "defer"  # what the step does when a frequency cap holds the message back

    @classmethod
    def from_effect(
        cls, effect: SendMessage, *, enrollment_started_at: datetime, on_cap: OnCap = "defer"
    ) -> OutgoingMessage:
        """The profile's fields; `consent` from the ledger, else read from the profile's consent block."""
        return cls(
            message_id=effect.message_id,
            journey_id=effect.journey_id,
            channels=effect.channels,
            purpose=effect.purpose,
            enrollment_started_at=enrollment_started_at,
            on_cap=on_cap,
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the policies need to know about the customer, gathered by the dispatcher."""

    customer_id: str
    reachable: frozenset[str]  # channels the customer has an address on (the adapters' can_reach)
    consent: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (channel, purpose) -> status
    timezone: str | None = None
    phone: str | None = None
    country: str | None = None
    traits: Mapping[str, Any] = field(default_factory=dict)
    is_existing_customer: bool = False  # at least one order: the opt-out countries' soft opt-in
    last_event_at: Mapping[str, datetime] = field(default_factory=dict)  # event name -> latest time had

    @classmethod
    def from_customer(
        cls,
        customer: Customer,
        *,
        reachable: frozenset[str],
        consent: Mapping[tuple[str, str], str] | None = None,
        last_event_at: Mapping[str, datetime] | None = None,
    ) -> Recipient:
        return cls(
            customer_id=customer.id,
            reachable=frozenset(reachable),
            consent=dict(consent) if consent is not None else consent_from_profile(customer.consent),
            timezone=customer.timezone,
            phone=customer.phone,
            country=customer.country,
            traits=dict(customer.traits),
            is_existing_customer=customer.orders_count > 0,
            last_event_at=dict(last_event_at or {}),
        )


@dataclass(frozen=True, slots=True)
class SendDecision:
    """What the dispatcher does with the message now, and why.

    - `send`: deliver on `channel` now;
    - `defer`: deliver on `channel` at `until` (UTC), after deciding again then;
    - `hold`: wait until the customer had `until_event`, then decide again;
    - `skip`: never send (no consent, or capped and the step says skip);
    - `undeliverable`: no address on any of the message's channels.

    `policy` names the rule that decided: consent, no_promotion_before, quiet_hours, frequency_cap,
    or "" for a plain send.
    """

    action: SendAction
    reason: str
    policy: str = ""
    channel: str | None = None
    until: datetime | None = None
    until_event: str | None = None


def decide_send(
    message: OutgoingMessage,
    recipient: Recipient,
    *,
    journey_policies: Policies | None,
    history: Sequence[SentMessage],
    rules: PolicyRules,
    now: datetime,
) -> SendDecision:
    """Send now, defer until T, hold, skip or undeliverable, for `message` to `recipient` at `now`."""
    place = locate(
        timezone=recipient.timezone, phone=recipient.phone, country=recipient.country,
        traits=recipient.traits, default_zone=store_zone(rules.store_zone),
    )
    chosen = choose_channel(message, recipient, place, rules.consent)
    if isinstance(chosen, SendDecision):
        return chosen
    policies = journey_policies or Policies()
    hold = promotion_hold(message, recipient, policies)
    if hold is not None:
        event = policies.no_promotion_before
        return SendDecision("hold", hold, "no_promotion_before", chosen, until_event=event)
    return _timing(message, chosen, place, policies, history, rules, now)


def choose_channel(
    message: OutgoingMessage, recipient: Recipient, place: Place, rules: ConsentRules
) -> str | SendDecision:
    """The first channel that consent and an address allow, or the decision not to send at all."""
    refusals: list[tuple[str, ConsentDecision]] = []
    for channel in message.channels:
        verdict = consent_decision(
            channel=channel, purpose=message.purpose, has_address=channel in recipient.reachable,
            consent=recipient.consent, country=place.country,
            is_existing_customer=recipient.is_existing_customer, rules=rules,
        )
        if verdict.allows:
            return channel
        refusals.append((channel, verdict))
    reason = "; ".join(verdict.reason for _, verdict in refusals) or "the message names no channel"
    if all(verdict.action == "undeliverable" for _, verdict in refusals):
        return SendDecision("undeliverable", reason, "consent")
    return SendDecision("skip", reason, "consent")


def promotion_hold(message: OutgoingMessage, recipient: Recipient, policies: Policies) -> str | None:
    """Why a promotion must wait for the journey's `no_promotion_before` event, or None if it need not."""
    event = policies.no_promotion_before
    if message.purpose != PROMOTION or not event:
        return None
    had_at = recipient.last_event_at.get(event)
    if had_at is not None and had_at >= message.enrollment_started_at:
        return None
    return f"value before selling: no promotion before {event!r}, which the customer has not had yet"


def _timing(
    message: OutgoingMessage, channel: str, place: Place, policies: Policies,
    history: Sequence[SentMessage], rules: PolicyRules, now: datetime,
) -> SendDecision:
    """Quiet hours, then the frequency caps at the instant the message would go."""
    windows = _windows(channel, policies, place, rules)
    at = next_allowed_under(now, windows, place.zone)
    caps = _caps(message, policies, rules)
    capped = check_frequency_caps(
        channel=channel, purpose=message.purpose, history=history, rules=caps, now=at, on_cap=message.on_cap
    )
    if capped.action == "skip":
        return SendDecision("skip", capped.reason, "frequency_cap", channel)
    if capped.action == "defer" and capped.frees_at is not None:
        until = next_allowed_under(capped.frees_at, windows, place.zone)
        note = _quiet_note(until, capped.frees_at, windows, place)
        reason = capped.reason + (f"; then {note}" if note else "")
        return SendDecision("defer", reason, "frequency_cap", channel, until=until)
    if at > now:
        return SendDecision("defer", _quiet_note(at, now, windows, place), "quiet_hours", channel, until=at)
    return SendDecision("send", f"allowed on {channel}", "", channel)


def _windows(channel: str, policies: Policies, place: Place, rules: PolicyRules) -> tuple[QuietWindow, ...]:
    hours = policies.quiet_hours
    journey_window = _quiet_window(hours.start, hours.end) if hours is not None else None
    return quiet_windows(
        channel, journey_window=journey_window, sms=rules.sms_quiet_hours, country=place.country,
        state=place.state,
    )


@lru_cache(maxsize=256)  # a journey's window, parsed again for every message otherwise
def _quiet_window(start: str, end: str) -> QuietWindow:
    return QuietWindow.parse(start, end)


def _caps(message: OutgoingMessage, policies: Policies, rules: PolicyRules) -> tuple[CapRule, ...]:
    cap = policies.frequency_cap
    if cap is None:
        return rules.caps
    return (*rules.caps, CapRule(cap.max, cap.per, source=f"journey {message.journey_id}"))


def _quiet_note(until: datetime, wanted: datetime, windows: Sequence[QuietWindow], place: Place) -> str:
    """How quiet hours moved a send from `wanted` to `until`, in the recipient's clock and in UTC."""
    if until <= wanted:
        return ""
    names = ", ".join(str(window) for window in windows)
    return f"quiet hours {names} in {place.describe_zone()}: deferred to {local_time(until, place.zone)}"


def local_time(instant: datetime, zone: ZoneInfo) -> str:
    """`2026-03-08 08:00 EDT (12:00 UTC)`: what a person reading a decision wants to see."""
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M %Z} ({instant.astimezone(UTC):%H:%M} UTC)"

"""Frequency caps: how many marketing messages a customer gets in a span of time, across all journeys.

Every purpose other than `transactional` is marketing. Transactional messages are never capped and do
not count towards a cap: an order confirmation must not crowd out, or be crowded out by, a tip.

A cap `{max: 3, per: 7d}` counts the customer's marketing messages sent after `now - 7d` (a message
sent exactly 7 days ago no longer counts). A rule with a channel counts only that channel's messages;
one without counts every channel. A capped message frees up when enough of the counted messages
have aged out of the span; the step then either defers the message to that instant or skips it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from onboardflow.core.durations import format_duration
from onboardflow.core.policies.errors import PolicyError

TRANSACTIONAL = "transactional"
OnCap = Literal["defer", "skip"]


def is_marketing(purpose: str) -> bool:
    """Every purpose but transactional (education, engagement, promotion) is marketing."""
    return purpose != TRANSACTIONAL


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message the customer was sent, from any journey: what caps count."""

    at: datetime
    channel: str
    purpose: str
    journey_id: str


@dataclass(frozen=True, slots=True)
class CapRule:
    """At most `max` marketing messages per `per`, on `channel` or (None) on all channels together."""

    max: int
    per: timedelta
    channel: str | None = None
    source: str = "store"  # who set it, for the reason: "store" or "journey first-purchase-welcome"

    def __post_init__(self) -> None:
        if self.max < 1:
            raise PolicyError(f"a frequency cap's max is {self.max}: allow at least 1 message")
        if self.per <= timedelta(0):
            raise PolicyError(f"a frequency cap's span is {self.per}: make it longer than nothing, e.g. 7d")

    def describe(self) -> str:
        where = f" on {self.channel}" if self.channel else ""
        return f"{self.source} cap of {self.max} marketing message(s){where} per {format_duration(self.per)}"

    def counts(self, message: SentMessage, now: datetime) -> bool:
        in_span = message.at > now - self.per
        return in_span and is_marketing(message.purpose) and self.channel in (None, message.channel)


@dataclass(frozen=True, slots=True)
class CapDecision:
    """Send, or capped: then `frees_at` says when the cap frees up and `action` what the step chose."""

    action: Literal["send", "defer", "skip"]
    reason: str
    rule: CapRule | None = None
    frees_at: datetime | None = None

    @property
    def is_capped(self) -> bool:
        return self.action != "send"


def cap_frees_at(
    rule: CapRule, channel: str, history: Iterable[SentMessage], now: datetime
) -> datetime | None:
    """When `rule` stops holding back a message on `channel` at `now`; None if it does not hold it back."""
    if rule.channel not in (None, channel):
        return None
    times = sorted(message.at for message in history if rule.counts(message, now))
    if len(times) < rule.max:
        return None
    # Once the oldest len - max + 1 have aged out, fewer than max remain in the span.
    return times[len(times) - rule.max] + rule.per


def check_frequency_caps(
    *,
    channel: str,
    purpose: str,
    history: Sequence[SentMessage],
    rules: Sequence[CapRule],
    now: datetime,
    on_cap: OnCap = "defer",
) -> CapDecision:
    """Whether a message on `channel` for `purpose` may go at `now` under every cap in `rules`.

    When several caps hold it back, the one that frees up last decides: only then may it go.
    """
    if on_cap not in ("defer", "skip"):
        raise PolicyError(f"on_cap is {on_cap!r}: choose defer or skip")
    if not is_marketing(purpose):
        return CapDecision("send", "transactional messages are never capped")
    binding: tuple[datetime, CapRule] | None = None
    for rule in rules:
        frees_at = cap_frees_at(rule, channel, history, now)
        if frees_at is not None and (binding is None or frees_at > binding[0]):
            binding = (frees_at, rule)
    if binding is None:
        return CapDecision("send", "under every frequency cap")
    frees_at, rule = binding
    reason = f"capped by the {rule.describe()}; it frees up at {frees_at.isoformat()}"
    verdict = "deferred until then" if on_cap == "defer" else "skipped"
    return CapDecision(on_cap, f"{reason}; the step says {on_cap}: {verdict}", rule, frees_at)

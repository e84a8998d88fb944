"""Recording consent: from the API, from one-click unsubscribes, and from the preference page.

Each is a ledger line; nothing is overwritten. Unsubscribing twice records one line, so a mail client that
retries the one-click POST, or a person who clicks twice, leaves the ledger as one withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboardflow.compliance.tokens import UnsubscribeToken
from onboardflow.core.consent import (
    CHANNELS,
    GRANTED,
    MARKETING,
    MARKETING_TOPICS,
    WITHDRAWN,
    ConsentRecord,
    ConsentState,
    consent_record,
    marketing_decision,
    may_receive,
)
from onboardflow.ports import Store

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"


def record_consent(
    *,
    store: Store,
    customer_id: str,
    channel: str,
    purpose: str,
    status: str,
    source: str,
    at: datetime,
    text_version: str | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> ConsentRecord:
    """Add a line to the customer's ledger; raises ValueError saying which field to fix."""
    record = consent_record(
        customer_id=customer_id, channel=channel, purpose=purpose, status=status, source=source, at=at,
        text_version=text_version, evidence=evidence,
    )
    store.record_consent(record)
    return record


def consent_records(
    *, customer_id: str, lines: Sequence[Mapping[str, Any]], at: datetime, source: str = "api"
) -> list[ConsentRecord]:
    """Ledger records for several statements at once (`channel`, `purpose`, `status`, and optionally
    `source`, `text_version`, `evidence`, `at`; `at` and `source` default to the arguments). Every line is
    checked: ValueError names each bad one (`consent[1]: ...`), and nothing is made."""
    records, problems = [], []
    for index, line in enumerate(lines):
        fields = {"purpose": MARKETING, "source": source, **line}
        fields["at"] = fields.get("at") or at
        try:
            records.append(consent_record(customer_id=customer_id, **fields))
        except (ValueError, TypeError) as error:
            problems.append(f"consent[{index}]: {error}")
    if problems:
        raise ValueError("; ".join(problems))
    return records


def record_consents(
    *, store: Store, customer_id: str, lines: Sequence[Mapping[str, Any]], at: datetime, source: str = "api"
) -> list[ConsentRecord]:
    """Add several lines to the customer's ledger, all checked before any is written (`consent_records`)."""
    records = consent_records(customer_id=customer_id, lines=lines, at=at, source=source)
    for record in records:
        store.record_consent(record)
    return records


def unsubscribe(
    *, store: Store, token: UnsubscribeToken, now: datetime, evidence: Mapping[str, Any]
) -> tuple[ConsentRecord, bool]:
    """Withdraw marketing (or only the token's topic) on the token's channel.

    Returns the line that now decides, and whether it is new: False when already unsubscribed.
    """
    already = _withdrawal_in_force(store.consent_state(token.customer_id), token)
    if already is not None:
        return already, False
    record = record_consent(
        store=store, customer_id=token.customer_id, channel=token.channel, purpose=token.topic or MARKETING,
        status=WITHDRAWN, source=UNSUBSCRIBE, at=now, evidence=evidence,
    )
    return record, True


def _withdrawal_in_force(state: ConsentState, token: UnsubscribeToken) -> ConsentRecord | None:
    """The withdrawal the token asks for, if the ledger holds it already: of the token's topic; or (no topic)
    of all marketing, with no topic granted since."""
    if token.topic is not None:
        decided = marketing_decision(state, token.channel, token.topic)
    else:
        decided = state.get((token.channel, MARKETING))
        topics = [marketing_decision(state, token.channel, topic) for topic in MARKETING_TOPICS]
        if any(record is not None and record.is_granted for record in topics):
            return None
    return decided if decided is not None and not decided.is_granted else None


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the preference page shows: the channels it offers, and the (channel, topic) pairs subscribed."""

    customer_id: str
    channels: tuple[str, ...]
    subscribed: frozenset[tuple[str, str]]
    topics: tuple[str, ...] = MARKETING_TOPICS


def preferences(
    *, store: Store, customer_id: str, channel: str, opt_in_required: bool = True
) -> Preferences:
    """The link's channel first, then every other channel the customer's ledger names.

    Channels the customer never gave consent on are not offered: a link in an email is no place to opt
    someone in to text messages.
    """
    state = store.consent_state(customer_id)
    named = {key[0] for key in state}
    channels = (channel, *sorted(named - {channel}, key=_channel_order))
    subscribed = frozenset(
        (each, topic)
        for each in channels
        for topic in MARKETING_TOPICS
        if may_receive(state, each, topic, opt_in_required=opt_in_required)
    )
    return Preferences(customer_id, channels, subscribed)


def set_preferences(
    *,
    store: Store,
    current: Preferences,
    wanted: Iterable[tuple[str, str]],
    now: datetime,
    evidence: Mapping[str, Any],
    text_version: str | None = None,
) -> list[ConsentRecord]:
    """A line for each (channel, topic) of the page whose choice changed; pairs not offered are ignored."""
    wanted = set(wanted)
    written = []
    for channel in current.channels:
        for topic in current.topics:
            wants = (channel, topic) in wanted
            if wants == ((channel, topic) in current.subscribed):
                continue
            written.append(record_consent(
                store=store, customer_id=current.customer_id, channel=channel, purpose=topic,
                status=GRANTED if wants else WITHDRAWN, source=PREFERENCES, at=now, text_version=text_version,
                evidence=evidence,
            ))
    return written


def update_preferences(
    *,
    store: Store,
    customer_id: str,
    channel: str,
    wanted: Iterable[tuple[str, str]],
    now: datetime,
    evidence: Mapping[str, Any],
    text_version: str | None = None,
) -> tuple[Preferences, list[ConsentRecord]]:
    """What the preference page's form asks: the lines it wrote, and the preferences after them."""
    current = preferences(store=store, customer_id=customer_id, channel=channel)
    written = set_preferences(
        store=store, current=current, wanted=wanted, now=now, evidence=evidence, text_version=text_version
    )
    return preferences(store=store, customer_id=customer_id, channel=channel), written


def _channel_order(channel: str) -> tuple[int, str]:
    return (CHANNELS.index(channel) if channel in CHANNELS else len(CHANNELS), channel)

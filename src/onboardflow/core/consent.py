"""Consent: the ledger records, the events that carry them, and the rule that says who may be sent what.

The ledger is append-only: a customer's consent on a channel for a purpose is its latest record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from onboardflow.core.effects import stable_id
from onboardflow.core.model import Event

GRANTED = "granted"
WITHDRAWN = "withdrawn"
STATUSES = (GRANTED, WITHDRAWN)

TRANSACTIONAL = "transactional"
MARKETING = "marketing"  # every purpose but transactional; a record for it covers all marketing topics
MARKETING_TOPICS = ("education", "engagement", "promotion")  # the non-transactional purposes of a send step
PURPOSES = (TRANSACTIONAL, MARKETING, *MARKETING_TOPICS)

CHANNELS = ("email", "sms", "whatsapp", "push")  # the ones a preference page offers by default

CONSENT_GRANTED = "Consent Granted"
CONSENT_WITHDRAWN = "Consent Withdrawn"
UNSUBSCRIBED = "Unsubscribed"  # message engagement, as an email provider reports it: withdraws marketing
CONSENT_EVENTS = {CONSENT_GRANTED: GRANTED, CONSENT_WITHDRAWN: WITHDRAWN, UNSUBSCRIBED: WITHDRAWN}


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One ledger line: what a customer said about a channel and purpose, when, where, with what proof."""

    id: str
    customer_id: str
    channel: str
    purpose: str
    status: str
    source: str  # event, api, shopify, import, unsubscribe, preferences ...
    at: datetime
    text_version: str | None = None  # the version of the consent text the customer saw
    evidence: dict[str, Any] = field(default_factory=dict)  # ip, user_agent, double_opt_in ...

    @property
    def is_granted(self) -> bool:
        return self.status == GRANTED


ConsentState = dict[tuple[str, str], ConsentRecord]  # (channel, purpose) -> the latest record


def consent_record(
    *,
    customer_id: str,
    channel: str,
    purpose: str,
    status: str,
    source: str,
    at: datetime,
    text_version: str | None = None,
    evidence: Mapping[str, Any] | None = None,
    key: object = None,
) -> ConsentRecord:
    """A checked ledger record; its id is derived from its content (and `key`), so writing it twice is once.

    Raises ValueError saying which field to fix.
    """
    problems = record_problems(channel=channel, purpose=purpose, status=status, source=source)
    if at.tzinfo is None:
        problems.append(f"the time {at.isoformat()} has no time zone: give an aware time (UTC)")
    if problems:
        raise ValueError("; ".join(problems))
    parts = (customer_id, channel, purpose, status, source, at.isoformat(), text_version, key)
    return ConsentRecord(
        stable_id("cns", *parts), customer_id, channel, purpose, status, source, at, text_version,
        dict(evidence or {}),
    )


def record_problems(*, channel: Any, purpose: Any, status: Any, source: Any) -> list[str]:
    """What is wrong with these fields of a consent record, each said as what to write instead."""
    problems = []
    if not isinstance(channel, str) or not channel.strip():
        problems.append(f"channel must name a channel, e.g. email or sms; got {channel!r}")
    if purpose not in PURPOSES:
        problems.append(f"purpose must be one of {', '.join(PURPOSES)}; got {purpose!r}")
    if status not in STATUSES:
        problems.append(f"status must be {GRANTED} or {WITHDRAWN}; got {status!r}")
    if not isinstance(source, str) or not source.strip():
        problems.append(f"source must say where the consent came from, e.g. api or shopify; got {source!r}")
    return problems


def consent_event_problems(name: str, properties: Mapping[str, Any]) -> list[str]:
    """What is wrong with a consent event's properties (nothing for other events), for ingest to report."""
    if name not in CONSENT_EVENTS:
        return []
    channels = _event_channels(name, properties)
    problems = []
    if not channels or not all(isinstance(c, str) and c.strip() for c in channels):
        problems.append(f"{name!r} needs properties.channel, e.g. \"email\" (or a list of channels)")
    purpose = properties.get("purpose", MARKETING)
    if purpose not in PURPOSES:
        problems.append(f"{name!r}: properties.purpose must be one of {', '.join(PURPOSES)}; got {purpose!r}")
    if not isinstance(properties.get("evidence", {}), dict):
        problems.append(f"{name!r}: properties.evidence must be an object, e.g. {{\"ip\": \"203.0.113.7\"}}")
    version = properties.get("text_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, str | int)):
        problems.append(f"{name!r}: properties.text_version must be a string, got {type(version).__name__}")
    return problems


def consents_from_event(event: Event) -> list[ConsentRecord]:
    """The ledger records a consent event carries, one per channel; none for other or malformed events.

    Ingest rejects malformed consent events with a message; the engine never fails a batch over one.
    """
    status = CONSENT_EVENTS.get(event.name)
    if status is None or consent_event_problems(event.name, event.properties):
        return []
    properties = event.properties
    version = properties.get("text_version")
    return [
        ConsentRecord(
            id=stable_id("cns", event.id, channel),
            customer_id=event.customer_id,
            channel=channel,
            purpose=properties.get("purpose", MARKETING),
            status=status,
            source=str(properties.get("source") or "event"),
            at=event.at,
            text_version=None if version is None else str(version),
            evidence={**properties.get("evidence", {}), "event_id": event.id},
        )
        for channel in _event_channels(event.name, properties)
    ]


def consents_carried_by(event: Event) -> list[ConsentRecord]:
    """Every ledger line an event carries: a consent event's, and its customer block's statements."""
    return consents_from_event(event) + consents_from_customer_block(event)


def carries_consent(event: Event) -> bool:
    """Cheap enough for every event of a batch: whether `consents_carried_by` can find anything."""
    return event.name in CONSENT_EVENTS or (event.customer is not None and "consent" in event.customer)


def consents_from_customer_block(event: Event) -> list[ConsentRecord]:
    """The statements of an event's `customer.consent` block, one ledger line per channel.

    A statement is `{"email": {"status": "granted", "source": "shopify", "at": "…", ...}}`: `status`
    required; `purpose` (default marketing), `source` (default event), `at` (ISO-8601; default the
    event's time), `text_version` and `evidence` optional; other keys (`opt_in_level`…) join the
    evidence. Entries of another shape (`{"email": "yes"}`) stay in the profile only.
    """
    block = (event.customer or {}).get("consent")
    if not isinstance(block, Mapping):
        return []
    lines = []
    for channel, said in block.items():
        if not isinstance(said, Mapping) or said.get("status") not in STATUSES:
            continue
        purpose, source = said.get("purpose", MARKETING), str(said.get("source") or "event")
        if record_problems(channel=channel, purpose=purpose, status=said["status"], source=source):
            continue
        extra = {k: v for k, v in said.items() if k not in _STATEMENT_FIELDS and v is not None}
        evidence = said.get("evidence") if isinstance(said.get("evidence"), Mapping) else {}
        version = said.get("text_version")
        lines.append(ConsentRecord(
            stable_id("cns", event.id, "customer", channel), event.customer_id, channel, purpose,
            said["status"], source, _statement_time(said.get("at"), event.at),
            None if version is None else str(version), {**extra, **evidence, "event_id": event.id},
        ))
    return lines


_STATEMENT_FIELDS = {"status", "purpose", "source", "at", "text_version", "evidence"}


def _statement_time(value: Any, default: datetime) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return default
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    return default


def _event_channels(name: str, properties: Mapping[str, Any]) -> list[Any]:
    channel = properties.get("channel", "email" if name == UNSUBSCRIBED else None)
    if channel is None:
        return []
    return list(channel) if isinstance(channel, list) else [channel]


def current_state(records: Iterable[ConsentRecord]) -> ConsentState:
    """The latest record per channel and purpose; `records` in ledger order, so a later one wins a tie."""
    state: ConsentState = {}
    for record in records:
        key = (record.channel, record.purpose)
        if key not in state or record.at >= state[key].at:
            state[key] = record
    return state


def marketing_decision(state: ConsentState, channel: str, topic: str) -> ConsentRecord | None:
    """The record deciding marketing of `topic` on `channel`: the later of all-marketing's and the topic's."""
    general, specific = state.get((channel, MARKETING)), state.get((channel, topic))
    if general is None or specific is None:
        return specific if general is None else general
    return specific if specific.at > general.at else general  # a tie goes to all-marketing's


def policy_consent(state: ConsentState) -> dict[tuple[str, str], str]:
    """The ledger's state as the sending policies take it (`Recipient.consent`): (channel, topic) ->
    granted / withdrawn, each topic already resolved by `marketing_decision`.

    The policies let a withdrawal on (channel, marketing) beat any grant; the ledger lets the later
    statement win, so a topic ticked again after an unsubscribe goes out. Resolving here, and passing no
    (channel, marketing) entry, keeps the ledger's meaning under the policies' rule.
    """
    resolved = {}
    for channel in sorted({channel for channel, _ in state}):
        for topic in MARKETING_TOPICS:
            decision = marketing_decision(state, channel, topic)
            if decision is not None:
                resolved[(channel, topic)] = decision.status
        if (channel, TRANSACTIONAL) in state:
            resolved[(channel, TRANSACTIONAL)] = state[(channel, TRANSACTIONAL)].status
    return resolved


def may_receive(state: ConsentState, channel: str, purpose: str, *, opt_in_required: bool = True) -> bool:
    """Whether consent allows a message of `purpose` on `channel`.

    Transactional messages need no consent (only an address). Marketing needs a grant where opt-in is
    required (the default), and no withdrawal where it is not.
    """
    if purpose == TRANSACTIONAL:
        return True
    decision = marketing_decision(state, channel, purpose)
    if decision is None:
        return not opt_in_required
    return decision.is_granted

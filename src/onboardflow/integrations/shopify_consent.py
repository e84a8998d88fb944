"""Consent from Shopify webhooks: the marketing flags of customer, order and checkout bodies, as ledger lines.

Customer bodies carry `email_marketing_consent` and `sms_marketing_consent` (`state`, `opt_in_level`,
`consent_updated_at`, and for SMS `consent_collected_from`); older ones the boolean `accepts_marketing` with
`accepts_marketing_updated_at`. Orders and checkouts carry `buyer_accepts_marketing` and
`buyer_accepts_sms_marketing`: the boxes ticked at checkout. A pure function: the webhook route verifies the
signature, calls it, and records the lines; a body delivered twice gives the same lines (the same ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from onboardflow.core.consent import GRANTED, MARKETING, WITHDRAWN, ConsentRecord, consent_record

SOURCE = "shopify"
# not_subscribed (never asked), pending (double opt-in not confirmed yet) and invalid (the address bounced)
# say nothing about consent: they give no line, so they cannot undo a grant recorded elsewhere
STATES = {"subscribed": GRANTED, "unsubscribed": WITHDRAWN, "redacted": WITHDRAWN}
NO_STATEMENT = {"not_subscribed", "pending", "invalid"}
CONSENT_FIELDS = {"email_marketing_consent": "email", "sms_marketing_consent": "sms"}
BUYER_FLAGS = {"buyer_accepts_marketing": "email", "buyer_accepts_sms_marketing": "sms"}

Body = Mapping[str, Any]


def consents_from_shopify(
    payload: Body, *, customer_id: str, received_at: datetime
) -> list[ConsentRecord]:
    """The ledger lines a Shopify customer, order or checkout body carries for `customer_id`.

    Raises ValueError naming the field when the body is not what Shopify sends.
    """
    if not isinstance(payload, Mapping):
        raise ValueError(f"a Shopify webhook body is a JSON object; got {type(payload).__name__}")
    if any(flag in payload for flag in BUYER_FLAGS):
        lines = _from_checkout(payload, customer_id, received_at)
        customer = payload.get("customer")
        if isinstance(customer, Mapping):
            lines += _from_customer(customer, customer_id, received_at)
        return lines
    return _from_customer(payload, customer_id, received_at)


def consent_block(payload: Body) -> dict[str, dict[str, Any]]:
    """The same statements as a canonical event's `customer.consent` block, the latest per channel:
    `{"email": {"status": "granted", "source": "shopify", "at": "…", "opt_in_level": …}}`. The engine
    writes a ledger line for each (`core.consent.consents_carried_by`); without a time from Shopify, the
    line takes the event's. A consent object in a state that is no statement shows as `unknown` (the
    profile's word for it), which writes no line."""
    lines = sorted(consents_from_shopify(payload, customer_id="", received_at=_UNDATED), key=lambda r: r.at)
    block: dict[str, dict[str, Any]] = {channel: {"status": "unknown", "source": SOURCE}
                                        for channel in _unknown_channels(payload)}
    for line in lines:
        dated = {} if line.at == _UNDATED else {"at": line.at.isoformat().replace("+00:00", "Z")}
        block[line.channel] = {"status": line.status, "source": SOURCE, **dated, **line.evidence}
    return block


def _unknown_channels(payload: Body) -> list[str]:
    bodies = [payload, payload.get("customer")] if isinstance(payload.get("customer"), Mapping) else [payload]
    return [
        channel
        for body in bodies
        for field, channel in CONSENT_FIELDS.items()
        if isinstance(body.get(field), Mapping) and str(body[field].get("state", "")).lower() in NO_STATEMENT
    ]


_UNDATED = datetime.min.replace(tzinfo=UTC)  # stands for "Shopify gave no time" inside consent_block


def _from_checkout(payload: Body, customer_id: str, received_at: datetime) -> list[ConsentRecord]:
    """A ticked box is a grant; an unticked one says nothing (Shopify does not unsubscribe on it either)."""
    at = _time(payload, "created_at") or received_at
    shopify_id = _text(payload.get("id"))
    return [
        _line(customer_id, channel, GRANTED, at, {"shopify_field": flag, "shopify_id": shopify_id})
        for flag, channel in BUYER_FLAGS.items()
        if payload.get(flag) is True
    ]


def _from_customer(payload: Body, customer_id: str, received_at: datetime) -> list[ConsentRecord]:
    lines = []
    for field, channel in CONSENT_FIELDS.items():
        consent = payload.get(field)
        if consent is None:
            continue
        if not isinstance(consent, Mapping):
            raise ValueError(f"{field} must be an object with state, opt_in_level and consent_updated_at")
        status = STATES.get(str(consent.get("state", "")).lower())
        if status is not None:
            at = _time(consent, "consent_updated_at", field) or received_at
            lines.append(_line(customer_id, channel, status, at, _evidence(consent, field)))
    if "email_marketing_consent" not in payload:
        lines += _from_accepts_marketing(payload, customer_id, received_at)
    return lines


def _from_accepts_marketing(
    payload: Body, customer_id: str, received_at: datetime
) -> list[ConsentRecord]:
    """The older boolean: true is a grant; false is a withdrawal only when Shopify says when it changed."""
    accepts = payload.get("accepts_marketing")
    changed_at = _time(payload, "accepts_marketing_updated_at")
    evidence = {"shopify_field": "accepts_marketing"}
    if payload.get("marketing_opt_in_level"):
        evidence["opt_in_level"] = payload["marketing_opt_in_level"]
        evidence["double_opt_in"] = payload["marketing_opt_in_level"] == "confirmed_opt_in"
    if accepts is True:
        return [_line(customer_id, "email", GRANTED, changed_at or received_at, evidence)]
    if accepts is False and changed_at is not None:
        return [_line(customer_id, "email", WITHDRAWN, changed_at, evidence)]
    return []


def _evidence(consent: Body, field: str) -> dict[str, Any]:
    level = consent.get("opt_in_level")
    evidence = {"shopify_field": field, "shopify_state": consent.get("state"), "opt_in_level": level,
                "double_opt_in": level == "confirmed_opt_in"}
    if consent.get("consent_collected_from"):
        evidence["collected_from"] = consent["consent_collected_from"]
    return evidence


def _line(customer_id: str, channel: str, status: str, at: datetime, evidence: dict) -> ConsentRecord:
    return consent_record(
        customer_id=customer_id, channel=channel, purpose=MARKETING, status=status, source=SOURCE, at=at,
        evidence=evidence,
    )


def _time(payload: Body, name: str, within: str | None = None) -> datetime | None:
    value = payload.get(name)
    if value in (None, ""):
        return None
    where = f"{within}.{name}" if within else name
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where} is not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{where} has no time zone: {value!r}")
    return moment.astimezone(UTC)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)  # Shopify ids pass 2**53: never through a float

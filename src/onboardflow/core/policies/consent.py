"""Consent: may this message go to this customer on this channel at all?

- A transactional message needs only an address on the channel.
- A marketing message (any other purpose) needs an address and consent for that channel and purpose.
  The consent state is looked up for (channel, purpose), and for (channel, "marketing") which stands
  for every marketing purpose at once; a `withdrawn` on either always wins, then a `granted` on either.
- `unknown` consent is a no (opt-in), except in the store's opt-out countries, on the opt-out channels
  (email by default), for existing customers (at least one order): the soft opt-in that lets a shop
  mail its own customers until they say stop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from onboardflow.core.policies.caps import is_marketing
from onboardflow.core.policies.errors import PolicyError

ConsentStatus = Literal["granted", "withdrawn", "unknown"]
CONSENT_STATUSES = ("granted", "withdrawn", "unknown")
MARKETING = "marketing"  # the purpose that stands for every marketing purpose in a consent ledger


@dataclass(frozen=True, slots=True)
class ConsentRules:
    """Where unknown consent counts as yes for existing customers: opt-out countries, on these channels."""

    opt_out_countries: frozenset[str] = frozenset()
    opt_out_channels: frozenset[str] = frozenset({"email"})


OPT_IN_EVERYWHERE = ConsentRules()


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """`send`, `skip` (no consent: a person said no, or never said yes) or `undeliverable` (no address)."""

    action: Literal["send", "skip", "undeliverable"]
    reason: str

    @property
    def allows(self) -> bool:
        return self.action == "send"


def consent_status(
    consent: Mapping[tuple[str, str], str], channel: str, purpose: str
) -> ConsentStatus:
    """The customer's consent for `purpose` on `channel`: withdrawn wins, then granted, else unknown."""
    found = {consent.get((channel, purpose), "unknown"), consent.get((channel, MARKETING), "unknown")}
    for status in found:
        if status not in CONSENT_STATUSES:
            raise PolicyError(
                f"consent for {channel}/{purpose} is {status!r}: use granted, withdrawn or unknown"
            )
    if "withdrawn" in found:
        return "withdrawn"
    return "granted" if "granted" in found else "unknown"


def consent_from_profile(profile_consent: Mapping[str, Any]) -> dict[tuple[str, str], ConsentStatus]:
    """A profile's `consent` block (channel -> state) as marketing consent per channel.

    Understands the shapes events and store webhooks write: `{"email": {"status": "granted"}}`,
    `{"email": {"granted": true}}` and `{"email": true}`. Anything else reads as unknown: a consent
    ledger with per-purpose entries is passed to the policies directly instead.
    """
    found: dict[tuple[str, str], ConsentStatus] = {}
    for channel, state in profile_consent.items():
        status = _profile_status(state)
        if status is not None:
            found[(channel, MARKETING)] = status
    return found


def _profile_status(state: Any) -> ConsentStatus | None:
    if isinstance(state, dict):
        if state.get("status") in CONSENT_STATUSES:
            return state["status"]
        state = state.get("granted")
    if isinstance(state, bool):
        return "granted" if state else "withdrawn"
    return None


def consent_decision(
    *,
    channel: str,
    purpose: str,
    has_address: bool,
    consent: Mapping[tuple[str, str], str],
    country: str | None,
    is_existing_customer: bool,
    rules: ConsentRules = OPT_IN_EVERYWHERE,
) -> ConsentDecision:
    """Whether a message for `purpose` may go on `channel`, and why, in words for the message's record."""
    if not has_address:
        return ConsentDecision("undeliverable", f"the customer has no address on {channel}")
    if not is_marketing(purpose):
        return ConsentDecision("send", f"transactional: an address on {channel} is enough")
    status = consent_status(consent, channel, purpose)
    if status == "withdrawn":
        return ConsentDecision("skip", f"the customer withdrew consent to {purpose} messages on {channel}")
    if status == "granted":
        return ConsentDecision("send", f"the customer consented to {purpose} messages on {channel}")
    if _soft_opt_in(channel, country, is_existing_customer, rules):
        return ConsentDecision(
            "send", f"{country} is an opt-out country for {channel}: an existing customer who has not said no"
        )
    return ConsentDecision("skip", f"no consent to {purpose} messages on {channel} (opt-in)")


def _soft_opt_in(channel: str, country: str | None, is_existing_customer: bool, rules: ConsentRules) -> bool:
    return (
        is_existing_customer
        and country is not None
        and country in rules.opt_out_countries
        and channel in rules.opt_out_channels
    )

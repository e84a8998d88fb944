"""Consent: transactional needs an address; marketing needs consent too; a withdrawal always wins."""

from __future__ import annotations

import pytest

from onboardflow.core.policies import (
    ConsentRules,
    PolicyError,
    consent_decision,
    consent_from_profile,
    consent_status,
)

OPT_IN = ConsentRules()
OPT_OUT_US = ConsentRules(opt_out_countries=frozenset({"US"}))


def decide(purpose="promotion", *, channel="email", has_address=True, consent=None, country="US",
           existing=True, rules=OPT_IN):
    return consent_decision(
        channel=channel, purpose=purpose, has_address=has_address, consent=consent or {}, country=country,
        is_existing_customer=existing, rules=rules,
    )


def test_transactional_needs_only_an_address():
    withdrawn_everything = {("email", "marketing"): "withdrawn", ("email", "transactional"): "withdrawn"}
    assert decide("transactional", consent=withdrawn_everything).action == "send"
    no_address = decide("transactional", has_address=False)
    assert no_address.action == "undeliverable" and "no address on email" in no_address.reason


@pytest.mark.parametrize("purpose", ["education", "engagement", "promotion"])
def test_marketing_needs_consent_by_default(purpose):
    refused = decide(purpose)
    assert refused.action == "skip"
    assert refused.reason == f"no consent to {purpose} messages on email (opt-in)"
    assert decide(purpose, consent={("email", purpose): "granted"}).allows


def test_consent_to_marketing_covers_every_marketing_purpose_on_that_channel_only():
    consent = {("email", "marketing"): "granted"}
    assert decide("education", consent=consent).allows and decide("promotion", consent=consent).allows
    assert not decide("promotion", channel="sms", consent=consent).allows


@pytest.mark.parametrize(
    "consent",
    [
        {("email", "promotion"): "withdrawn", ("email", "marketing"): "granted"},
        {("email", "promotion"): "granted", ("email", "marketing"): "withdrawn"},
    ],
)
def test_a_withdrawn_consent_always_wins(consent):
    assert consent_status(consent, "email", "promotion") == "withdrawn"
    decision = decide(consent=consent, rules=OPT_OUT_US)
    assert decision.action == "skip" and "withdrew consent" in decision.reason


def test_an_opt_out_country_mails_existing_customers_who_never_said_no():
    decision = decide(rules=OPT_OUT_US)
    assert decision.allows and "US is an opt-out country for email" in decision.reason


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"existing": False}, "a prospect, not a customer"),
        ({"country": "DE"}, "an opt-in country"),
        ({"country": None}, "no country known"),
        ({"channel": "sms"}, "opt-out covers email only by default"),
        ({"consent": {("email", "marketing"): "withdrawn"}}, "the customer said no"),
    ],
)
def test_the_opt_out_rule_stops_at_its_edges(changes, why):
    assert decide(rules=OPT_OUT_US, **changes).action == "skip", why


def test_opt_out_channels_are_configurable():
    rules = ConsentRules(opt_out_countries=frozenset({"US"}), opt_out_channels=frozenset({"email", "push"}))
    assert decide(channel="push", rules=rules).allows


def test_no_address_is_undeliverable_before_consent_is_looked_at():
    decision = decide(has_address=False, consent={("email", "promotion"): "granted"})
    assert decision.action == "undeliverable"


def test_a_consent_state_that_is_not_one_of_the_three_says_which_to_use():
    with pytest.raises(PolicyError, match="use granted, withdrawn or unknown"):
        decide(consent={("email", "promotion"): "yes"})


def test_a_profile_consent_block_reads_as_marketing_consent_per_channel():
    profile = {
        "email": {"status": "granted", "source": "shopify"},  # as the Shopify webhooks write it
        "sms": {"granted": False, "at": "2026-03-01T10:00:00Z"},
        "whatsapp": True,
        "push": {"note": "asked at checkout"},
    }
    assert consent_from_profile(profile) == {
        ("email", "marketing"): "granted",
        ("sms", "marketing"): "withdrawn",
        ("whatsapp", "marketing"): "granted",
    }

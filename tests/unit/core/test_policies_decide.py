"""One send decision, in the dispatcher's order: consent, value before selling, quiet hours, caps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from onboardflow.core.effects import SendMessage
from onboardflow.core.journey import FrequencyCap, Policies, QuietHours
from onboardflow.core.model import Customer
from onboardflow.core.policies import (
    CapRule,
    ConsentRules,
    OutgoingMessage,
    PolicyRules,
    QuietWindow,
    Recipient,
    SendDecision,
    SentMessage,
    SmsQuietHours,
    decide_send,
)

NEW_YORK = ZoneInfo("America/New_York")
STARTED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NOON_NY = datetime(2026, 6, 10, 12, 0, tzinfo=NEW_YORK)
NIGHT_NY = datetime(2026, 6, 10, 22, 30, tzinfo=NEW_YORK)
RULES = PolicyRules(
    store_zone="Europe/London",
    sms_quiet_hours=SmsQuietHours(by_state={"US-FL": QuietWindow.parse("20:00", "08:00")}),
    caps=(CapRule(3, timedelta(days=7)),),
)
ALL_CONSENT = {(channel, "marketing"): "granted" for channel in ("email", "sms", "whatsapp")}
ANA = Recipient(
    customer_id="c1", reachable=frozenset({"email", "sms"}), consent=ALL_CONSENT, phone="+12125551234",
    is_existing_customer=True,
)


def message(*channels: str, purpose: str = "promotion", on_cap: str = "defer") -> OutgoingMessage:
    return OutgoingMessage("m1", "welcome", channels or ("email",), purpose, STARTED, on_cap)


def decide(msg=None, recipient=ANA, *, policies=None, history=(), rules=RULES, now=NOON_NY) -> SendDecision:
    return decide_send(
        msg or message(), recipient, journey_policies=policies, history=list(history), rules=rules, now=now
    )


def sent(at: datetime, channel="email", purpose="promotion") -> SentMessage:
    return SentMessage(at, channel, purpose, "other-journey")


def test_a_message_that_nothing_holds_back_goes_now_on_its_first_channel():
    assert decide() == SendDecision("send", "allowed on email", "", "email")


def test_the_first_channel_with_an_address_and_consent_is_used():
    recipient = replace(ANA, consent={("sms", "marketing"): "withdrawn", ("email", "promotion"): "granted"})
    decision = decide(message("whatsapp", "sms", "email"), recipient)
    assert (decision.action, decision.channel) == ("send", "email")


def test_no_address_on_any_channel_is_undeliverable():
    decision = decide(message("whatsapp", "push"))
    assert decision.action == "undeliverable" and decision.policy == "consent"
    assert decision.reason == "the customer has no address on whatsapp; the customer has no address on push"


def test_no_consent_is_a_skip_whatever_else_applies():
    recipient = replace(ANA, consent={("email", "marketing"): "withdrawn"})
    busy = [sent(NIGHT_NY - timedelta(days=d)) for d in (1, 2, 3)]
    night = QuietHours(start="21:00", end="08:00")
    policies = Policies(no_promotion_before="Order Delivered", quiet_hours=night)
    decision = decide(recipient=recipient, policies=policies, history=busy, now=NIGHT_NY)
    assert decision.action == "skip" and decision.policy == "consent"
    assert "withdrew consent to promotion messages on email" in decision.reason


def test_a_promotion_is_held_until_the_customer_had_the_event_since_the_enrollment_started():
    policies = Policies(no_promotion_before="Order Delivered")
    held = decide(policies=policies)
    assert (held.action, held.until_event, held.policy) == ("hold", "Order Delivered", "no_promotion_before")
    before_start = replace(ANA, last_event_at={"Order Delivered": STARTED - timedelta(days=30)})
    assert decide(recipient=before_start, policies=policies).action == "hold"
    since_start = replace(ANA, last_event_at={"Order Delivered": STARTED + timedelta(days=3)})
    assert decide(recipient=since_start, policies=policies).action == "send"


def test_only_promotions_wait_for_value():
    policies = Policies(no_promotion_before="Order Delivered")
    assert decide(message(purpose="education"), policies=policies).action == "send"
    assert decide(message(purpose="transactional"), policies=policies).action == "send"


def test_sms_in_quiet_hours_is_deferred_to_8_in_the_phone_number_s_zone():
    decision = decide(message("sms"), now=NIGHT_NY)
    assert decision.action == "defer" and decision.policy == "quiet_hours" and decision.channel == "sms"
    assert decision.until == datetime(2026, 6, 11, 12, 0, tzinfo=UTC)
    assert decision.reason == (
        "quiet hours 21:00–08:00 in America/New_York (from the phone number): "
        "deferred to 2026-06-11 08:00 EDT (12:00 UTC)"
    )


def test_email_has_no_quiet_hours_unless_the_journey_sets_them():
    assert decide(now=NIGHT_NY).action == "send"
    policies = Policies(quiet_hours=QuietHours(start="22:00", end="07:00"))
    decision = decide(policies=policies, now=NIGHT_NY)
    assert decision.action == "defer" and decision.until == datetime(2026, 6, 11, 7, 0, tzinfo=NEW_YORK)


def test_a_state_override_applies_to_that_state_s_numbers():
    evening = datetime(2026, 6, 10, 20, 30, tzinfo=NEW_YORK)
    miami = replace(ANA, phone="+13055551234")
    assert decide(message("sms"), miami, now=evening).action == "defer"
    assert decide(message("sms"), ANA, now=evening).action == "send"  # New York: the default 21:00
    in_florida_by_profile = replace(ANA, traits={"state": "FL"}, country="US")
    assert decide(message("sms"), in_florida_by_profile, now=evening).action == "defer"


def test_the_profile_zone_wins_over_the_phone_s_and_the_store_zone_is_the_last_resort():
    early_in_new_york = datetime(2026, 6, 10, 7, 30, tzinfo=NEW_YORK)  # 12:30 in London
    assert decide(message("sms"), ANA, now=early_in_new_york).action == "defer"
    in_london = replace(ANA, timezone="Europe/London")
    assert decide(message("sms"), in_london, now=early_in_new_york).action == "send"
    no_phone = replace(ANA, phone=None)
    decision = decide(message("sms"), no_phone, now=datetime(2026, 6, 10, 21, 30, tzinfo=UTC))
    assert "Europe/London (the store's zone)" in decision.reason


def test_capped_and_the_step_defers_sends_the_instant_the_cap_frees_up():
    history = [sent(NOON_NY - timedelta(days=d)) for d in (5, 3, 1)]
    decision = decide(history=history)
    assert decision.action == "defer" and decision.policy == "frequency_cap"
    assert decision.until == NOON_NY + timedelta(days=2)
    assert "store cap of 3 marketing message(s) per 1w" in decision.reason


def test_capped_and_the_step_skips():
    history = [sent(NOON_NY - timedelta(days=d)) for d in (5, 3, 1)]
    decision = decide(message(on_cap="skip"), history=history)
    assert (decision.action, decision.policy, decision.until) == ("skip", "frequency_cap", None)


def test_a_cap_that_frees_up_in_quiet_hours_defers_to_their_end():
    history = [sent(NIGHT_NY - timedelta(days=7) + timedelta(minutes=30), "sms"), sent(NOON_NY, "sms")]
    rules = replace(RULES, caps=(CapRule(2, timedelta(days=7), channel="sms"),))
    decision = decide(message("sms"), history=history, rules=rules, now=NOON_NY + timedelta(hours=1))
    assert decision.policy == "frequency_cap"
    assert decision.until == datetime(2026, 6, 11, 8, 0, tzinfo=NEW_YORK)  # freed at 23:00, quiet until 08:00
    assert "; then quiet hours 21:00–08:00" in decision.reason


def test_caps_are_judged_when_quiet_hours_end_not_when_the_message_is_due():
    cap = CapRule(1, timedelta(days=1), channel="sms")
    rules = replace(RULES, caps=(cap,))
    frees_before_morning = [sent(NIGHT_NY - timedelta(hours=20), "sms")]  # frees at 02:30 NY
    decision = decide(message("sms"), history=frees_before_morning, rules=rules, now=NIGHT_NY)
    assert (decision.policy, decision.until) == ("quiet_hours", datetime(2026, 6, 11, 8, 0, tzinfo=NEW_YORK))
    frees_mid_morning = [sent(NIGHT_NY - timedelta(hours=11), "sms")]  # sent 11:30, frees 11:30 next day
    decision = decide(message("sms"), history=frees_mid_morning, rules=rules, now=NIGHT_NY)
    assert decision.policy == "frequency_cap"
    assert decision.until == datetime(2026, 6, 11, 11, 30, tzinfo=NEW_YORK)


def test_the_journey_cap_joins_the_store_s():
    history = [sent(NOON_NY - timedelta(days=1))]
    policies = Policies(frequency_cap=FrequencyCap(max=1, per=timedelta(days=2)))
    decision = decide(history=history, policies=policies)
    assert decision.action == "defer" and "journey welcome cap of 1" in decision.reason
    assert decision.until == NOON_NY + timedelta(days=1)


def test_transactional_messages_skip_caps_but_not_sms_quiet_hours():
    flood = [sent(NOON_NY - timedelta(hours=h), "sms") for h in range(1, 10)]
    assert decide(message("sms", purpose="transactional"), history=flood).action == "send"
    assert decide(message("sms", purpose="transactional"), history=flood, now=NIGHT_NY).action == "defer"


def test_an_opt_out_country_lets_existing_customers_get_email_marketing():
    rules = replace(RULES, consent=ConsentRules(opt_out_countries=frozenset({"US"})))
    no_consent = replace(ANA, consent={})
    assert decide(recipient=no_consent, rules=rules).action == "send"  # the country from +1 212
    assert decide(recipient=no_consent).action == "skip"


def test_records_are_built_from_the_engine_s_own():
    customer = Customer(id="c9", phone="+442071234567", timezone="Nowhere/Else", traits={"state": "x"},
                        orders_count=2)
    recipient = Recipient.from_customer(customer, reachable=frozenset({"sms"}),
                                        consent={("sms", "marketing"): "granted"})
    assert recipient.is_existing_customer and recipient.phone == "+442071234567"
    from_profile = Recipient.from_customer(replace(customer, consent={"sms": {"status": "withdrawn"}}),
                                           reachable=frozenset({"sms"}))
    assert from_profile.consent == {("sms", "marketing"): "withdrawn"}
    effect = SendMessage("m9", "e9", "welcome", 1, "c9", "tips", ("sms",), "tips", "education", STARTED)
    outgoing = OutgoingMessage.from_effect(effect, enrollment_started_at=STARTED, on_cap="skip")
    assert (outgoing.channels, outgoing.purpose, outgoing.on_cap) == (("sms",), "education", "skip")
    late = datetime(2026, 6, 10, 22, 0, tzinfo=UTC)  # 23:00 in London, where the number is
    decision = decide(outgoing, recipient, now=late)
    assert decision.until == datetime(2026, 6, 11, 8, 0, tzinfo=ZoneInfo("Europe/London"))

"""Frequency caps across all journeys, per channel and overall; transactional messages are never capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.policies import CapRule, PolicyError, SentMessage, cap_frees_at, check_frequency_caps

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
MARKETING_3_PER_WEEK = CapRule(3, WEEK)


def sent(days_ago: float, channel="email", purpose="promotion", journey="j1") -> SentMessage:
    return SentMessage(NOW - timedelta(days=days_ago), channel, purpose, journey)


def check(history, rules=(MARKETING_3_PER_WEEK,), *, channel="email", purpose="promotion", on_cap="defer"):
    return check_frequency_caps(
        channel=channel, purpose=purpose, history=history, rules=rules, now=NOW, on_cap=on_cap
    )


def test_under_the_cap_a_message_goes():
    decision = check([sent(1), sent(2)])
    assert (decision.action, decision.is_capped, decision.frees_at) == ("send", False, None)


def test_at_the_cap_it_is_deferred_to_the_exact_instant_the_oldest_counted_message_ages_out():
    history = [sent(6, journey="welcome"), sent(2, journey="tips"), sent(1, "sms", "education", "reviews")]
    decision = check(history)
    assert decision.action == "defer"
    assert decision.frees_at == NOW - timedelta(days=6) + WEEK == datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    assert decision.rule == MARKETING_3_PER_WEEK
    assert "frees up at 2026-03-11T12:00:00+00:00" in decision.reason and "step says defer" in decision.reason


def test_over_the_cap_it_waits_for_enough_messages_to_age_out():
    history = [sent(d) for d in (6.5, 5, 4, 3, 1)]  # five in the week, cap three: the third oldest frees it
    assert check(history).frees_at == NOW - timedelta(days=4) + WEEK


def test_at_the_instant_it_frees_up_the_message_goes():
    history = [sent(6), sent(2), sent(1)]
    frees_at = check(history).frees_at
    later = check_frequency_caps(
        channel="email", purpose="promotion", history=history, rules=[MARKETING_3_PER_WEEK], now=frees_at
    )
    assert later.action == "send"
    just_before = check_frequency_caps(
        channel="email", purpose="promotion", history=history, rules=[MARKETING_3_PER_WEEK],
        now=frees_at - timedelta(microseconds=1),
    )
    assert just_before.action == "defer"


def test_a_message_sent_exactly_one_span_ago_no_longer_counts():
    assert check([sent(7), sent(2), sent(1)]).action == "send"


def test_skip_when_the_step_says_skip():
    decision = check([sent(6), sent(2), sent(1)], on_cap="skip")
    assert decision.action == "skip" and decision.frees_at is not None
    assert "step says skip: skipped" in decision.reason


@pytest.mark.parametrize("purpose", ["transactional"])
def test_transactional_messages_are_never_capped(purpose):
    flood = [sent(0.1 * i) for i in range(1, 30)]
    decision = check(flood, [CapRule(1, WEEK), CapRule(1, WEEK, channel="email")], purpose=purpose)
    assert decision.action == "send" and decision.reason == "transactional messages are never capped"


def test_transactional_messages_do_not_count_towards_a_cap():
    history = [sent(1, purpose="transactional") for _ in range(5)] + [sent(2)]
    assert check(history).action == "send"


def test_every_marketing_purpose_counts_and_every_journey():
    history = [sent(1, purpose="education", journey="a"), sent(2, purpose="engagement", journey="b"),
               sent(3, purpose="promotion", journey="c")]
    assert check(history, purpose="education").action == "defer"


def test_a_channel_cap_counts_only_its_channel():
    sms_cap = CapRule(1, timedelta(days=1), channel="sms")
    history = [sent(0.5, channel="email"), sent(0.5, channel="email")]
    assert check(history, [sms_cap], channel="sms").action == "send"
    history.append(sent(0.25, channel="sms"))
    capped = check(history, [sms_cap], channel="sms")
    assert capped.frees_at == NOW - timedelta(days=0.25) + timedelta(days=1)
    assert check(history, [sms_cap], channel="email").action == "send"  # the sms cap does not hold email


def test_the_cap_that_frees_up_last_decides():
    overall, sms = CapRule(3, WEEK), CapRule(1, timedelta(days=1), channel="sms")
    history = [sent(6), sent(5), sent(0.5, channel="sms")]
    decision = check(history, [sms, overall], channel="sms")
    assert decision.rule == overall and decision.frees_at == NOW + timedelta(days=1)
    assert cap_frees_at(sms, "sms", history, NOW) == NOW + timedelta(days=0.5)


def test_a_journey_cap_is_named_in_the_reason():
    journey_cap = CapRule(2, timedelta(days=3), source="journey first-purchase-welcome")
    decision = check([sent(1), sent(2)], [journey_cap])
    assert "journey first-purchase-welcome cap of 2 marketing message(s) per 3d" in decision.reason


@pytest.mark.parametrize(("most", "per"), [(0, WEEK), (3, timedelta(0)), (3, -WEEK)])
def test_a_cap_that_allows_nothing_is_refused(most, per):
    with pytest.raises(PolicyError, match="frequency cap"):
        CapRule(most, per)


def test_an_unknown_on_cap_choice_is_refused():
    with pytest.raises(PolicyError, match="choose defer or skip"):
        check([], on_cap="drop")

"""Policy settings: the defaults a store expects, ONBOARDFLOW_ variables, errors that say what to fix."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from pydantic import ValidationError

from onboardflow.core.policies import CapRule, QuietWindow
from onboardflow.policy_settings import PolicySettings


def load(monkeypatch, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(f"ONBOARDFLOW_{name.upper()}", value)
    return PolicySettings(_env_file=None).rules()


def test_the_defaults(monkeypatch):
    rules = load(monkeypatch)
    assert rules.store_zone == "UTC"
    assert rules.sms_quiet_hours.default == QuietWindow(time(21), time(8))  # 08:00-21:00 allowed
    assert rules.sms_quiet_hours.by_state == {"US-FL": QuietWindow(time(20), time(8))}
    assert rules.caps == (CapRule(3, timedelta(days=7)), CapRule(2, timedelta(days=7), channel="sms"))
    assert rules.consent.opt_out_countries == frozenset() and rules.consent.opt_out_channels == {"email"}
    assert (rules.retry.base, rules.retry.max_delay, rules.retry.max_attempts) == (
        timedelta(seconds=30), timedelta(hours=6), 8
    )


def test_every_policy_from_the_environment(monkeypatch):
    rules = load(
        monkeypatch,
        store_timezone="Europe/London",
        sms_quiet_hours="22:00-07:30",
        sms_quiet_hours_by_country='{"fr": "20:00-10:00"}',
        sms_quiet_hours_by_state='{"US-OK": {"from": "21:00", "to": "08:00"}}',
        marketing_cap="4/10d",
        channel_caps='{"sms": "1/1d", "whatsapp": {"max": 2, "per": "3d"}}',
        opt_out_countries="us, ca",
        opt_out_channels='["Email", "push"]',
        retry_base_delay="10s",
        retry_max_delay="1h",
        retry_max_attempts="5",
    )
    assert rules.store_zone == "Europe/London"
    assert rules.sms_quiet_hours.default == QuietWindow(time(22), time(7, 30))
    assert rules.sms_quiet_hours.by_country == {"FR": QuietWindow(time(20), time(10))}
    assert rules.sms_quiet_hours.by_state == {"US-OK": QuietWindow(time(21), time(8))}
    assert rules.caps == (
        CapRule(4, timedelta(days=10)),
        CapRule(1, timedelta(days=1), channel="sms"),
        CapRule(2, timedelta(days=3), channel="whatsapp"),
    )
    assert rules.consent.opt_out_countries == {"US", "CA"}
    assert rules.consent.opt_out_channels == {"email", "push"}
    assert (rules.retry.base, rules.retry.max_delay, rules.retry.max_attempts) == (
        timedelta(seconds=10), timedelta(hours=1), 5
    )


def test_off_turns_the_sms_window_and_the_marketing_cap_off(monkeypatch):
    rules = load(monkeypatch, sms_quiet_hours="off", marketing_cap="off", channel_caps="{}")
    assert rules.sms_quiet_hours.default is None and rules.caps == ()


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("store_timezone", "Mars/Olympus", "is not an IANA time zone"),
        ("opt_out_countries", "USA", "is not a country code like US or FR"),
        ("sms_quiet_hours_by_state", '{"Florida": "20:00-08:00"}', "is not a state code like US-FL"),
        ("sms_quiet_hours", "25:00-08:00", "sms_quiet_hours.from"),
        ("marketing_cap", "0/7d", "greater than or equal to 1"),
        ("retry_base_delay", "7h", "retry delays must grow"),
        ("retry_max_attempts", "0", "greater than or equal to 1"),
    ],
)
def test_a_bad_setting_says_what_to_fix(monkeypatch, name, value, says):
    with pytest.raises(ValidationError, match=says):
        load(monkeypatch, **{name: value})

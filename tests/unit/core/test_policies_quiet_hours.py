"""Quiet hours in the recipient's zone: deferred to the next allowed minute, across midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onboardflow.core.policies import (
    PolicyError,
    QuietWindow,
    SmsQuietHours,
    is_quiet_hours,
    next_allowed_time,
    next_allowed_under,
    quiet_windows,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
NIGHT = QuietWindow.parse("21:00", "08:00")
LUNCH = QuietWindow.parse("12:00", "14:00")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ((2026, 6, 10, 20, 59), (2026, 6, 10, 20, 59)),  # a minute before: goes now
        ((2026, 6, 10, 21, 0), (2026, 6, 11, 8, 0)),  # the start itself is quiet
        ((2026, 6, 10, 23, 30), (2026, 6, 11, 8, 0)),  # before midnight: the next morning
        ((2026, 6, 11, 3, 0), (2026, 6, 11, 8, 0)),  # after midnight: the same morning
        ((2026, 6, 11, 7, 59), (2026, 6, 11, 8, 0)),
        ((2026, 6, 11, 8, 0), (2026, 6, 11, 8, 0)),  # the end itself is allowed
        ((2026, 6, 11, 12, 0), (2026, 6, 11, 12, 0)),
    ],
)
def test_a_window_crossing_midnight(wall, expected):
    now = local(NEW_YORK, *wall)
    assert next_allowed_time(now, NIGHT, NEW_YORK) == local(NEW_YORK, *expected)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [((11, 59), (11, 59)), ((12, 0), (14, 0)), ((13, 15), (14, 0)), ((14, 0), (14, 0)), ((23, 0), (23, 0))],
)
def test_a_window_within_one_day(wall, expected):
    now = local(LONDON, 2026, 6, 10, *wall)
    assert next_allowed_time(now, LUNCH, LONDON) == local(LONDON, 2026, 6, 10, *expected)


def test_the_answer_is_utc_and_a_whole_minute_when_deferred():
    now = utc(2026, 6, 11, 5, 17, 42, 123)  # 01:17:42 in New York
    answer = next_allowed_time(now, NIGHT, NEW_YORK)
    assert answer == utc(2026, 6, 11, 12, 0) and answer.tzinfo is UTC
    assert next_allowed_time(utc(2026, 6, 11, 15, 0, 5), NIGHT, NEW_YORK) == utc(2026, 6, 11, 15, 0, 5)


def test_the_same_utc_instant_is_quiet_in_one_zone_and_not_in_another():
    now = utc(2026, 6, 11, 7, 30)  # 08:30 in London, 03:30 in New York
    assert not is_quiet_hours(now, NIGHT, LONDON)
    assert is_quiet_hours(now, NIGHT, NEW_YORK)


class TestNewYorkDaylightSaving:
    """2026: clocks go 02:00 EST -> 03:00 EDT on 8 March, 02:00 EDT -> 01:00 EST on 1 November."""

    def test_spring_forward_night_ends_at_8_local_which_is_an_hour_earlier_in_utc(self):
        now = local(NEW_YORK, 2026, 3, 7, 23, 0)  # EST, UTC-5
        assert next_allowed_time(now, NIGHT, NEW_YORK) == utc(2026, 3, 8, 12, 0)  # 08:00 EDT, not 13:00 UTC

    def test_fall_back_night_ends_at_8_local_which_is_an_hour_later_in_utc(self):
        now = local(NEW_YORK, 2026, 10, 31, 22, 0)  # EDT, UTC-4
        assert next_allowed_time(now, NIGHT, NEW_YORK) == utc(2026, 11, 1, 13, 0)  # 08:00 EST

    def test_an_end_inside_the_skipped_hour_ends_when_the_clock_jumps(self):
        window = QuietWindow.parse("22:00", "02:30")  # 02:30 does not exist on 8 March
        now = local(NEW_YORK, 2026, 3, 8, 1, 0)
        answer = next_allowed_time(now, window, NEW_YORK)
        assert answer == local(NEW_YORK, 2026, 3, 8, 3, 0) == utc(2026, 3, 8, 7, 0)

    def test_a_start_inside_the_skipped_hour_starts_when_the_clock_jumps(self):
        window = QuietWindow.parse("02:30", "06:00")
        assert not is_quiet_hours(local(NEW_YORK, 2026, 3, 8, 1, 59), window, NEW_YORK)
        assert is_quiet_hours(local(NEW_YORK, 2026, 3, 8, 3, 0), window, NEW_YORK)

    def test_an_end_that_happens_twice_ends_the_first_time(self):
        window = QuietWindow.parse("22:00", "01:30")
        first_0030 = local(NEW_YORK, 2026, 11, 1, 0, 30)
        # 01:30 EDT; compared in UTC, as Python never calls an ambiguous local time equal across zones
        assert next_allowed_time(first_0030, window, NEW_YORK) == utc(2026, 11, 1, 5, 30)
        second_0110 = local(NEW_YORK, 2026, 11, 1, 1, 10, fold=1)  # the clock shows 01:10 again, in EST
        assert not is_quiet_hours(second_0110, window, NEW_YORK)

    def test_a_night_in_which_the_clock_goes_back_is_an_hour_longer(self):
        start, end = utc(2026, 11, 1, 1, 0), next_allowed_time(utc(2026, 11, 1, 1, 0), NIGHT, NEW_YORK)
        assert end - start == timedelta(hours=12)  # 21:00 EDT to 08:00 EST
        spring = utc(2026, 3, 8, 2, 0)  # 21:00 EST on 7 March
        assert next_allowed_time(spring, NIGHT, NEW_YORK) - spring == timedelta(hours=10)


class TestLondonSummerTime:
    """2026: 01:00 GMT -> 02:00 BST on 29 March; 02:00 BST -> 01:00 GMT on 25 October."""

    def test_spring_forward(self):
        assert next_allowed_time(local(LONDON, 2026, 3, 28, 22, 0), NIGHT, LONDON) == utc(2026, 3, 29, 7, 0)

    def test_fall_back(self):
        assert next_allowed_time(local(LONDON, 2026, 10, 24, 23, 0), NIGHT, LONDON) == utc(2026, 10, 25, 8, 0)

    def test_an_end_inside_the_skipped_hour(self):
        window = QuietWindow.parse("22:00", "01:30")
        assert next_allowed_time(utc(2026, 3, 29, 0, 30), window, LONDON) == local(LONDON, 2026, 3, 29, 2, 0)

    def test_the_repeated_hour_after_the_window_ended(self):
        window = QuietWindow.parse("23:00", "01:15")
        assert next_allowed_time(utc(2026, 10, 24, 23, 45), window, LONDON) == utc(2026, 10, 25, 0, 15)
        assert not is_quiet_hours(utc(2026, 10, 25, 1, 5), window, LONDON)  # 01:05 GMT, the second time


def test_a_window_from_and_to_the_same_minute_is_empty():
    window = QuietWindow.parse("21:00", "21:00")
    assert not is_quiet_hours(local(LONDON, 2026, 6, 10, 21, 0), window, LONDON)


def test_several_windows_defer_past_all_of_them():
    early = QuietWindow.parse("08:00", "09:30")  # abuts the night window's end
    now = local(LONDON, 2026, 6, 10, 22, 0)
    assert next_allowed_under(now, [early, NIGHT], LONDON) == local(LONDON, 2026, 6, 11, 9, 30)
    assert next_allowed_under(now, [NIGHT, early], LONDON) == local(LONDON, 2026, 6, 11, 9, 30)
    assert next_allowed_under(now, [], LONDON) == now


def test_windows_covering_the_whole_day_are_an_error_that_says_so():
    day = QuietWindow.parse("07:00", "22:00")
    with pytest.raises(PolicyError, match="cover the whole day"):
        next_allowed_under(local(LONDON, 2026, 6, 10, 12, 0), [NIGHT, day], LONDON)


@pytest.mark.parametrize(("start", "end"), [("25:00", "08:00"), ("9pm", "08:00"), ("21:00", "")])
def test_a_bad_clock_time_names_the_field(start, end):
    with pytest.raises(PolicyError, match="24-hour time like 21:00"):
        QuietWindow.parse(start, end)


def test_a_naive_now_is_refused():
    with pytest.raises(PolicyError, match="aware datetime"):
        next_allowed_time(datetime(2026, 6, 10, 22, 0), NIGHT, LONDON)


def test_sms_windows_by_state_then_country_then_default():
    florida, france = QuietWindow.parse("20:00", "08:00"), QuietWindow.parse("20:00", "10:00")
    sms = SmsQuietHours(by_country={"FR": france}, by_state={"US-FL": florida})
    assert sms.window_for("US", "US-FL") == florida
    assert sms.window_for("US", "US-NY") == NIGHT  # the default: 08:00-21:00 allowed
    assert sms.window_for("FR", None) == france
    assert sms.window_for(None, None) == NIGHT


def test_the_journey_window_applies_to_every_channel_and_sms_adds_its_own():
    sms = SmsQuietHours()
    assert quiet_windows("email", journey_window=LUNCH, sms=sms, country="US", state=None) == (LUNCH,)
    assert quiet_windows("sms", journey_window=LUNCH, sms=sms, country="US", state=None) == (LUNCH, NIGHT)
    no_sms_hours = SmsQuietHours(default=None)
    assert quiet_windows("sms", journey_window=None, sms=no_sms_hours, country=None, state=None) == ()
    assert quiet_windows("email", journey_window=None, sms=sms, country=None, state=None) == ()


ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata", "UTC"]
CLOCK = st.tuples(st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.integers(0, 3 * 366 * 24 * 60),
    zone=st.sampled_from(ZONES),
    start=CLOCK,
    end=CLOCK,
)
def test_the_answer_is_allowed_and_the_minute_before_it_was_not(minutes, zone, start, end):
    tz, now = ZoneInfo(zone), utc(2025, 1, 1) + timedelta(minutes=minutes)
    window = QuietWindow.parse(f"{start[0]:02d}:{start[1]:02d}", f"{end[0]:02d}:{end[1]:02d}")
    answer = next_allowed_time(now, window, tz)
    assert answer >= now and not is_quiet_hours(answer, window, tz)
    if answer > now:
        assert is_quiet_hours(answer - timedelta(seconds=1), window, tz)
        assert answer - now <= timedelta(hours=25)

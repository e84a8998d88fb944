"""Durations as journey authors write them: `90m`, `36h`, `10d`, `2w`, `1d12h`."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onboardflow.core.durations import MAX_DURATION, DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("10d", timedelta(days=10)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("0d1h", timedelta(hours=1)),
        ("  10d ", timedelta(days=10)),
    ],
)
def test_reads_a_number_and_a_unit(text, expected):
    assert parse_duration(text) == expected


def test_a_timedelta_passes_through():
    assert parse_duration(timedelta(hours=3)) == timedelta(hours=3)


@pytest.mark.parametrize(
    "text", ["", "10", "d", "10 d", "5 days", "1.5h", "10D", "-1d", "10y", "h10", "10d ago"]
)
def test_rejects_text_that_is_not_a_duration_and_says_how_to_write_one(text):
    with pytest.raises(DurationError, match="is not a duration: write a number and a unit"):
        parse_duration(text)


@pytest.mark.parametrize("value", [10, 1.5, None, True, ["10d"]])
def test_rejects_values_that_are_not_text(value):
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("text", ["0s", "0d", "0w0d"])
def test_rejects_a_zero_duration(text):
    with pytest.raises(DurationError, match="is zero"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["36526d", "999999999d", "99999999999d", "99999999999999999999w"])
def test_rejects_a_duration_longer_than_a_century_instead_of_overflowing(text):
    with pytest.raises(DurationError, match="longer than 100 years"):
        parse_duration(text)


def test_accepts_exactly_a_century():
    assert parse_duration("36525d") == MAX_DURATION


def test_duration_error_is_a_value_error_so_pydantic_reports_it():
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=36), "1d12h"),
        (timedelta(days=10), "1w3d"),
        (timedelta(weeks=2), "2w"),
        (timedelta(seconds=45), "45s"),
        (timedelta(0), "0s"),
    ],
)
def test_formats_in_the_shortest_form(delta, text):
    assert format_duration(delta) == text


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=int(MAX_DURATION.total_seconds())))
def test_format_then_parse_gives_the_same_duration(seconds):
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta

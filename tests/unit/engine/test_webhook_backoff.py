"""When a webhook call is tried again: exponential back-off with jitter that is the same on every run,
and the receiver's Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboardflow.engine.webhooks import BACKOFF_MAX, backoff, retry_after

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_same_call_and_attempt_always_wait_the_same():
    assert backoff("call_abc.3", 2) == backoff("call_abc.3", 2)
    assert backoff("call_abc.3", 2) != backoff("call_abc.4", 2)


def test_each_retry_waits_up_to_twice_as_long_starting_from_30_seconds():
    for attempt, ceiling in ((1, 30), (2, 60), (3, 120), (4, 240), (7, 1920)):
        for number in range(200):
            wait = backoff(f"call_{number}", attempt)
            assert timedelta(seconds=ceiling / 2) <= wait <= timedelta(seconds=ceiling), (attempt, wait)


def test_no_wait_is_longer_than_an_hour_however_many_attempts():
    waits = [backoff(f"call_{n}", attempt) for n in range(50) for attempt in (8, 10, 60, 1000)]
    assert max(waits) <= BACKOFF_MAX
    assert backoff("call_1", 1000) >= BACKOFF_MAX / 2


def test_calls_that_failed_together_spread_over_the_whole_jitter_range():
    waits = sorted(backoff(f"call_{n}", 3).total_seconds() for n in range(1000))

    assert waits[0] < 66 and waits[-1] > 114  # 60 .. 120 seconds, both ends reached
    assert len(set(waits)) > 990
    assert 80 < waits[500] < 100  # and spread evenly: the median is near the middle


def test_retry_after_in_seconds():
    assert retry_after("120", now=NOW) == timedelta(seconds=120)
    assert retry_after(" 0 ", now=NOW) == timedelta(0)


def test_retry_after_as_an_http_date_counts_from_now():
    assert retry_after("Mon, 02 Mar 2026 09:05:00 GMT", now=NOW) == timedelta(minutes=5)
    assert retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now=NOW) == timedelta(0)  # already past


def test_a_missing_or_unreadable_retry_after_is_none():
    assert retry_after(None, now=NOW) is None
    assert retry_after("", now=NOW) is None
    assert retry_after("soon", now=NOW) is None


def test_a_negative_retry_after_means_now():
    assert retry_after("-5", now=NOW) == timedelta(0)


def test_a_huge_retry_after_is_capped_instead_of_overflowing():
    assert retry_after("9" * 40, now=NOW) == BACKOFF_MAX

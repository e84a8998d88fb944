"""Delivery retries: exponential back-off, deterministic full jitter, Retry-After honoured, park after N."""

from __future__ import annotations

from datetime import timedelta
from statistics import mean

import pytest

from onboardflow.core.policies import PolicyError, RetryPolicy, backoff_ceiling, jitter_share, next_attempt

POLICY = RetryPolicy(base=timedelta(seconds=30), max_delay=timedelta(hours=1), max_attempts=6)
IDS = [f"msg_{n}" for n in range(400)]


def test_the_ceiling_doubles_from_the_base_up_to_the_maximum():
    ceilings = [backoff_ceiling(attempt, POLICY) for attempt in range(1, 10)]
    assert ceilings[:5] == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]
    assert ceilings[-1] == timedelta(hours=1) and max(ceilings) == timedelta(hours=1)
    assert backoff_ceiling(10_000, POLICY) == timedelta(hours=1)  # no overflow on a long outage


def test_every_wait_lies_between_the_minimum_and_its_ceiling():
    for attempt in range(1, POLICY.max_attempts):
        for message_id in IDS:
            wait = next_attempt(attempt, message_id, policy=POLICY)
            assert POLICY.min_delay <= wait <= backoff_ceiling(attempt, POLICY)


def test_waits_grow_with_each_attempt_and_spread_out_across_messages():
    averages = [mean(next_attempt(a, m, policy=POLICY).total_seconds() for m in IDS) for a in range(1, 6)]
    for earlier, later in zip(averages, averages[1:], strict=False):
        assert 1.6 < later / earlier < 2.4  # full jitter: the average is about half the doubling ceiling
    first_waits = {next_attempt(1, m, policy=POLICY) for m in IDS}
    assert len(first_waits) > 350  # not a thundering herd


def test_the_jitter_is_the_same_for_the_same_message_and_attempt():
    assert next_attempt(3, "msg_a", policy=POLICY) == next_attempt(3, "msg_a", policy=POLICY)
    assert jitter_share("msg_a", 3) == jitter_share("msg_a", 3)
    assert jitter_share("msg_a", 3) != jitter_share("msg_a", 4) != jitter_share("msg_b", 4)
    assert jitter_share("msg_a", 1) == pytest.approx(0.98067, abs=1e-5)  # pinned: every machine, every run


def test_a_retry_after_replaces_the_back_off_longer_or_shorter():
    assert next_attempt(1, "msg_a", retry_after=120, policy=POLICY) == timedelta(seconds=120)
    own = next_attempt(5, "msg_a", policy=POLICY)
    assert own > timedelta(seconds=2)
    assert next_attempt(5, "msg_a", retry_after=2, policy=POLICY) == timedelta(seconds=2)


def test_a_retry_after_is_kept_between_the_least_and_the_longest_wait():
    assert next_attempt(1, "msg_a", retry_after=timedelta(hours=2), policy=POLICY) == timedelta(hours=1)
    assert next_attempt(5, "msg_a", retry_after=0, policy=POLICY) == POLICY.min_delay


def test_the_message_is_parked_after_the_last_attempt():
    assert next_attempt(POLICY.max_attempts - 1, "msg_a", policy=POLICY) is not None
    assert next_attempt(POLICY.max_attempts, "msg_a", policy=POLICY) is None
    assert next_attempt(POLICY.max_attempts, "msg_a", retry_after=5, policy=POLICY) is None
    assert next_attempt(1, "msg_a", policy=RetryPolicy(max_attempts=1)) is None


@pytest.mark.parametrize("attempt", [0, -1, 1.5, True, "2"])
def test_attempts_count_from_one(attempt):
    with pytest.raises(PolicyError, match="count failed attempts from 1"):
        next_attempt(attempt, "msg_a")


@pytest.mark.parametrize("retry_after", [-1, float("nan"), 1e20, "soon"])
def test_a_retry_after_that_is_not_a_wait_is_refused(retry_after):
    with pytest.raises(PolicyError, match="Retry-After"):
        next_attempt(1, "msg_a", retry_after=retry_after)


def test_delays_that_shrink_are_refused():
    with pytest.raises(PolicyError, match="retry delays must grow"):
        RetryPolicy(base=timedelta(hours=2), max_delay=timedelta(hours=1))
    with pytest.raises(PolicyError, match="at least 1 attempt"):
        RetryPolicy(max_attempts=0)

"""Uplift over the holdout: same entry weeks only, Newcombe's interval, too small to tell below a minimum."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onboardflow.analytics.stats import newcombe, percentile, wilson
from onboardflow.analytics.uplift import MIN_GROUP, uplift

from .fixture import days, enrollment

WINDOW = timedelta(days=30)


def group(first: int, count: int, converted: int, start: float, holdout: bool = False):
    return [
        enrollment(
            first + n,
            start,
            goal=1 if n < converted else None,
            ended=1 if n < converted else None,
            reason="goal_reached" if n < converted else None,
            group="holdout" if holdout else "journey",
        )
        for n in range(count)
    ]


def test_newcombe_matches_the_worked_example_of_newcombe_1998():
    interval = newcombe(56, 70, 48, 80)  # Statistics in Medicine 17:873, example (a), method 10
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.0524, 0.3339)
    single = wilson(81, 263)  # Newcombe's single-proportion example: 0.2553 to 0.3662
    assert (round(single.low, 4), round(single.high, 4)) == (0.2553, 0.3662)


def test_nearest_rank_percentiles():
    assert percentile([3, 1, 2, 4], 0.5) == 2 and percentile([3, 1, 2, 4], 0.9) == 4
    assert percentile([], 0.5) is None


def test_uplift_compares_the_groups_of_the_weeks_both_entered_in():
    enrollments = [
        *group(100, 40, 20, 0),
        *group(200, 40, 10, 1, holdout=True),
        *group(300, 10, 10, 14),
    ]  # week 12: treated only, left out
    found = uplift(enrollments, days(90), window=lambda e: WINDOW)
    assert found.weeks == ("2026-W10",)
    assert (found.treated, found.treated_converted, found.holdout, found.holdout_converted) == (
        40,
        20,
        40,
        10,
    )
    assert found.difference == pytest.approx(0.25)
    interval = newcombe(20, 40, 10, 40)
    assert (found.low, found.high) == (interval.low, interval.high) and found.low > 0
    assert found.verdict == "up"


def test_uplift_is_too_small_to_tell_below_the_minimum_group():
    enrollments = [*group(100, 40, 30, 0), *group(200, MIN_GROUP - 1, 1, 0, holdout=True)]
    found = uplift(enrollments, days(90), window=lambda e: WINDOW)
    assert found.verdict == "too small to tell" and found.difference is None
    assert (found.treated, found.holdout) == (40, MIN_GROUP - 1)


def test_enrollments_whose_goal_window_is_still_open_do_not_count():
    enrollments = [*group(100, 40, 20, 0), *group(200, 40, 10, 1, holdout=True)]
    found = uplift(enrollments, days(30.5), window=lambda e: WINDOW)  # the holdout's window closes at 31d
    assert (found.treated, found.holdout, found.weeks) == (0, 0, ())  # no week with both groups
    assert found.verdict == "too small to tell"


def test_no_clear_difference_when_the_interval_spans_zero():
    enrollments = [*group(100, 40, 20, 0), *group(200, 40, 19, 0, holdout=True)]
    assert uplift(enrollments, days(90), window=lambda e: WINDOW).verdict == "no clear difference"

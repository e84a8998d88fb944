"""Each KPI against the hand-computed shop of fixture.py: four customers in `welcome`, one held out.

e1 completed (milestone at 3d, value 48 h, repeat order at 20d, converted), e2 left by an exit rule
(milestone too late at 9d, value 72 h, a late delivery, one task resolved in 48 h), e3 still active (an
exception step, an open task, a repeat order at 50d), e4 reached the goal (milestone at 1d, value 24 h,
repeat order at 3d, its email bounced), e5 held out and converted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from onboardflow.analytics.kpis import MIN_COHORT, compute, consistency
from onboardflow.analytics.records import JourneyFacts

from .fixture import ENROLLMENTS, JOURNEY, days, enrollment, shop

KPIS = compute(shop(), JOURNEY, ENROLLMENTS)


def test_counts_entries_the_active_completions_and_exits_by_reason():
    assert (KPIS.entered, KPIS.holdout, KPIS.active, KPIS.completed) == (5, 1, 1, 3)
    assert KPIS.exited == {"completed": 1, "exit_rule": 1, "goal_reached": 2}


def test_goal_conversion_is_over_the_treated_group():
    assert (KPIS.goal.part, KPIS.goal.whole, KPIS.goal.rate) == (2, 4, 0.5)


def test_time_to_first_value_is_the_nearest_rank_median_and_p90_of_the_value_events():
    assert (KPIS.time_to_value.count, KPIS.time_to_value.median_hours, KPIS.time_to_value.p90_hours) == (
        3,
        48,
        72,
    )
    assert (KPIS.value_reached.part, KPIS.value_reached.whole) == (3, 4)


def test_early_completion_counts_the_milestone_step_reached_within_its_window():
    assert (KPIS.early_completion.part, KPIS.early_completion.whole) == (2, 4)


def test_early_completion_without_a_milestone_is_completing_the_journey_within_the_window():
    facts = JourneyFacts("welcome", "Welcome", "cs@shop.example", milestone_within=timedelta(days=14))
    kpis = compute(shop(), facts, ENROLLMENTS)
    assert (kpis.early_completion.part, kpis.early_completion.whole) == (1, 4)  # e4 at 3d; e1 ended at 25d


def test_repeat_purchase_within_30_60_and_90_days_leaves_the_trigger_order_out():
    found = {days_: (share.part, share.whole) for days_, share in KPIS.repeat_purchase.items()}
    assert found == {30: (2, 4), 60: (3, 4), 90: (3, 4)}


def test_repeat_purchase_counts_only_enrollments_whose_window_has_closed():
    kpis = compute(shop(as_of=days(35)), JOURNEY, ENROLLMENTS)  # e1, e2, e3 are 30 days old, e4 is not
    assert (kpis.repeat_purchase[30].part, kpis.repeat_purchase[30].whole) == (1, 3)
    assert kpis.repeat_purchase[60].whole == 0 and kpis.repeat_purchase[60].rate is None


def test_escalations_per_100_customers_by_reason_and_time_to_resolution():
    escalations = KPIS.escalations
    assert (escalations.customers, escalations.tasks, escalations.per_100) == (4, 2, 50.0)
    assert escalations.by_reason == {"delivery late": 50.0}
    assert (escalations.resolution.count, escalations.resolution.median_hours) == (1, 48)


def test_a_task_resolved_after_as_of_is_still_open_then():
    kpis = compute(shop(as_of=days(6)), JOURNEY, ENROLLMENTS)
    assert kpis.escalations.tasks == 1 and kpis.escalations.resolution.count == 0


def test_exception_state_completion_covers_exception_steps_and_late_deliveries():
    assert (KPIS.exception_completion.part, KPIS.exception_completion.whole) == (0, 2)  # e2 and e3


def test_the_state_as_of_an_earlier_time_ignores_what_came_after():
    kpis = compute(shop(as_of=days(11)), JOURNEY, ENROLLMENTS)
    assert (kpis.entered, kpis.active) == (5, 4)  # only e4 had ended (at 11d); e2 ends at 13d, e5 at 15d
    assert kpis.exited == {"goal_reached": 1} and kpis.goal.part == 1


def test_adoption_consistency_is_the_spread_of_weekly_cohorts_completion_rates():
    week10 = [enrollment(10 + n, 0, ended=2, reason="completed") for n in range(4)]
    week10.append(enrollment(20, 1))  # still active: 4 of 5 completed
    week11 = [enrollment(30 + n, 7, ended=2, reason="completed" if n < 2 else "exit_rule") for n in range(5)]
    small = [enrollment(40, 14, ended=1, reason="completed")]  # a cohort of one is left out
    found = consistency([*week10, *week11, *small], days(60))
    assert found.cohorts == {"2026-W10": 0.8, "2026-W11": 0.4}
    assert found.range == pytest.approx(0.4) and found.stdev == pytest.approx(0.2)
    assert MIN_COHORT == 5


def test_the_funnel_counts_each_stage_once_per_message_and_the_policies_that_deferred_or_skipped():
    rows = {(row.step_id, row.channel): row for row in KPIS.funnel}
    email = rows[("welcome", "email")]
    assert email.counts == {
        "sent": 3,
        "delivered": 2,
        "opened": 1,
        "clicked": 1,
        "bounced": 1,
        "unsubscribed": 0,
        "complained": 0,
    }
    assert dict(email.deferred) == {"quiet_hours": 1} and not email.skipped
    assert dict(rows[("welcome", "-")].skipped) == {"consent": 1}

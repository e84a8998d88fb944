"""KPIs cut by segment, attribution and cohort; decision closure from the review trail."""

from __future__ import annotations

import pytest

from onboardflow.analytics.cuts import cut
from onboardflow.analytics.decisions import decision_closure
from onboardflow.analytics.records import Blocker, Decision
from onboardflow.core.model import Event

from .fixture import EVENTS, days, shop


def cut_of(by, **changes):
    return cut(shop(**changes), "welcome", by)


def test_cut_by_customer_type_and_country():
    found = {c.key: c.kpis.entered for c in cut_of("segment")}
    assert found == {"retail": 3, "wholesale": 1, "(none)": 1}  # c5 has no profile
    assert {c.key: c.kpis.entered for c in cut_of("country")} == {"US": 3, "CA": 1, "(none)": 1}


def test_cut_by_weekly_entry_cohort_and_order_value_band():
    assert {c.key: c.kpis.entered for c in cut_of("cohort")} == {"2026-W10": 4, "2026-W11": 1}
    assert [c.key for c in cut_of("order_value")] == ["50-100"]


def test_first_time_and_returning_buyers_by_their_orders_before_the_trigger():
    events = {
        **EVENTS,
        "c2": [*EVENTS["c2"], Event("old", "Order Completed", "c2", days(-40), {"order_id": "o0"})],
    }
    found = {c.key: c.kpis.entered for c in cut_of("buyer", events=events)}
    assert found == {"first-time": 4, "returning": 1}


def test_signup_attribution_is_first_touch_through_to_conversion():
    signup = Event("s1", "Signed Up", "c1", days(-3), {"utm_source": "instagram", "utm_campaign": "spring"})
    later = Event("s2", "Signed Up", "c1", days(-1), {"utm_source": "newsletter"})
    events = {**EVENTS, "c1": [signup, later, *EVENTS["c1"]]}
    found = {c.key: (c.kpis.entered, c.kpis.goal.part) for c in cut_of("source", events=events)}
    assert found == {"instagram": (1, 1), "(none)": (4, 1)}


def test_an_unknown_cut_says_which_exist():
    with pytest.raises(ValueError, match="cannot cut by 'colour': choose one of journey, version, path"):
        cut_of("colour")


def test_decision_closure_rate_and_open_blockers_soonest_due_first():
    decisions = [
        Decision("d1", "welcome", "Launch?", days(0), days(3), "approved"),
        Decision("d2", "welcome", "Copy", days(1)),
        Decision("d3", "welcome", "Holdout share", days(2), days(20)),
        Decision("d4", "other", "Elsewhere", days(0), days(1)),
    ]
    blockers = [
        Blocker("r1", "welcome", "No SMS consent text", "ana@shop", None, "email only", days(0)),
        Blocker("r2", "welcome", "Late-delivery copy", "bo@shop", days(9), "generic apology", days(1)),
        Blocker("r3", "welcome", "Cleared", "cy@shop", days(4), None, days(0), days(5)),
    ]
    found = decision_closure(decisions, blockers, days(10), since=days(2), journey_id="welcome")
    assert (found.decisions, found.closed, found.rate) == (3, 1, pytest.approx(1 / 3))
    assert [d.id for d in found.closed_recently] == ["d1"]
    assert [b.id for b in found.open_blockers] == ["r2", "r1"]

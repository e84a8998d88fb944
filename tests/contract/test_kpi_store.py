"""What the KPIs read, as every store gives it: enrollments by journey, profiles in bulk, report runs
claimed once; and the read side (`analytics.reading`) gathering one journey's records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.analytics.kpis import compute
from onboardflow.analytics.reading import UnknownJourney, read_outcomes
from onboardflow.core.effects import SendMessage
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.core.validation import load_json_journey
from onboardflow.ports import Changes, ReportRun

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
JOURNEY = {
    "id": "welcome",
    "name": "Welcome",
    "owner": "cs@shop.example",
    "trigger": {"event": "Order Completed"},
    "goal": {"event": "Order Completed", "within": "30d"},
    "outcomes": {"value": "Order Delivered"},
    "steps": [{"id": "hello", "send": {"channel": "email", "template": "welcome"}}],
}


def enrollment(
    number: int, journey_id: str = "welcome", *, start: int = 0, goal: int | None = None
) -> Enrollment:
    return Enrollment(
        f"e{number}",
        journey_id,
        1,
        f"c{number}",
        {"id": f"t{number}", "order_id": f"o{number}"},
        T0 + timedelta(days=start),
        goal_reached_at=None if goal is None else T0 + timedelta(days=goal),
    )


def write(store, **changes) -> None:
    with store.transaction() as tx:
        tx.apply(Changes(**changes))


def test_enrollments_by_journey_in_entry_order(store):
    rows = [enrollment(1, start=2), enrollment(2), enrollment(3, "other", start=1)]
    write(store, enrollments={e.id: e for e in rows})
    assert [e.id for e in store.journey_enrollments("welcome")] == ["e2", "e1"]
    assert [e.id for e in store.journey_enrollments()] == ["e2", "e3", "e1"]
    assert store.journey_enrollments("nobody") == []


def test_profiles_in_bulk_leave_unknown_customers_out(store):
    write(
        store, customers={"c1": Customer("c1", country="US", traits={"type": "retail"}), "c2": Customer("c2")}
    )
    found = store.profiles(["c1", "c2", "c9", "c1"])
    assert sorted(found) == ["c1", "c2"] and found["c1"].traits == {"type": "retail"}


def test_a_report_run_is_claimed_once(store):
    run = ReportRun("weekly:2026-W10", "weekly", "2026-W10", T0, ("cs@shop.example",))
    assert store.claim_report_run(run) is True
    again = ReportRun("weekly:2026-W10", "weekly", "2026-W10", T0 + timedelta(hours=1))
    assert store.claim_report_run(again) is False
    assert store.report_runs("weekly") == [run]
    assert store.report_runs("monthly") == []


def test_the_read_side_gathers_one_journeys_records(store):
    version = load_json_journey(json.dumps(JOURNEY))
    store.save_version(version.journey, digest="d1", source=None, now=T0)
    rows = [enrollment(1, goal=5), enrollment(2), enrollment(3, "other")]
    message = SendMessage("m1", "e1", "welcome", 1, "c1", "hello", ("email",), "welcome", "transactional", T0)
    events = [
        Event("v1", "Order Delivered", "c1", T0 + timedelta(days=2), {}),
        Event("o1", "Order Completed", "c1", T0 + timedelta(days=5), {"order_id": "o1b"}),
        Event("open1", "Email Opened", "c1", T0 + timedelta(hours=1), {"message_id": "m1"}),
        Event("x3", "Order Delivered", "c3", T0, {}),
    ]
    write(
        store,
        enrollments={e.id: e for e in rows},
        messages={"m1": message},
        events=[(event, n) for n, event in enumerate(events)],
        customers={"c1": Customer("c1", traits={"type": "retail"})},
    )
    data = read_outcomes(store, as_of=T0 + timedelta(days=40), journey_id="welcome")
    assert [e.id for e in data.enrollments] == ["e1", "e2"]
    assert [e.id for e in data.events["c1"]] == ["v1", "o1"] and "c3" not in data.events
    assert [e.id for e in data.engagement] == ["open1"]
    assert data.journeys["welcome"].value_events == ("Order Delivered",)
    kpis = compute(data, data.journeys["welcome"], data.enrollments)
    assert (kpis.goal.part, kpis.goal.whole, kpis.time_to_value.median_hours) == (1, 2, 48)
    assert kpis.funnel[0].counts["opened"] == 1
    with pytest.raises(UnknownJourney, match="no journey 'nope' is published; journeys: welcome"):
        read_outcomes(store, as_of=T0, journey_id="nope")

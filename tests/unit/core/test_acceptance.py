"""Acceptance criteria judged over customer stories: each kind holds, and fails naming who breaks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.acceptance import CustomerStory, Handoff, Received, check_acceptance, summary_of
from onboardflow.core.model import Customer, Enrollment, Event, Visit
from onboardflow.core.validation import load_journey

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = T0 + timedelta(days=30)
JOURNEY = """\
id: care
name: Care
owner: cs@shop.example
trigger: {event: Order Completed}
goal: {event: Review Submitted, within: 30d}
steps:
  - id: welcome
    send: {channel: email, template: welcome}
  - id: await-delivery
    wait_for: {event: Order Delivered, timeout: 10d}
    on_timeout: late
  - id: tips
    send: {channel: email, template: usage_tips, purpose: education}
  - {id: done, exit: completed}
  - id: late
    escalate: {queue: support, reason: delivery late}
    goto: done
"""


def journey(*criteria: str):
    text = JOURNEY + "acceptance:\n" + "".join(f"  - {criterion}\n" for criterion in criteria)
    return load_journey(text, source="care.yaml")


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def story(cid: str, *, steps=("welcome", "await-delivery", "tips", "done"), messages=(), events=(), tasks=(),
          goal=None, group="journey", country="US", started=T0) -> CustomerStory:
    history = tuple(Visit(step, started) for step in steps)
    trigger = {"id": f"{cid}-o1", "order_id": f"{cid}-o1"}
    enrollment = Enrollment(f"enr-{cid}", "care", 1, cid, trigger, started, step_id=steps[-1], status="ended",
                            exit_reason="completed", ended_at=started, goal_reached_at=goal, history=history,
                            group=group)
    received = tuple(Received(f"m{i}", journey_id, step, "email", purpose, at)
                     for i, (journey_id, step, purpose, at) in enumerate(messages))
    happened = tuple(Event(f"{cid}-e{i}", name, cid, at, properties)
                     for i, (name, at, properties) in enumerate(events))
    opened = tuple(Handoff(f"t{i}", "care", "late", "delivery late", at) for i, at in enumerate(tasks))
    return CustomerStory(Customer(cid, country=country), happened, (enrollment,), received, opened)


def verdict(version, *stories):
    [found] = check_acceptance(version, stories, end=END)
    return found


def welcome_and_tips(start=T0):
    tips = start + timedelta(days=2)
    return (("care", "welcome", "transactional", start), ("care", "tips", "education", tips))


# max_messages


def test_max_messages_holds_when_nobody_gets_more_in_the_window():
    found = verdict(journey("{max_messages: 2, within: 7d}"), story("a", messages=welcome_and_tips()))

    assert found.passed and found.breaking == 0
    assert found.detail == "1 entrant(s) checked; the most anyone got: 2"


def test_max_messages_names_the_customer_who_got_more_and_counts_every_journeys_messages():
    other = ("other", "promo", "promotion", days(1))
    crowded = story("b", messages=(*welcome_and_tips(), other))
    calm = story("a", messages=welcome_and_tips())

    found = verdict(journey("{max_messages: 2, within: 7d}"), calm, crowded)

    assert not found.passed and found.breaking == 1
    [example] = found.counterexamples
    assert example.customer_id == "b"
    assert sum(1 for m in crowded.messages if T0 <= m.at < days(7)) > 2  # it really breaks the rule
    assert example.why == "3 messages in the first 7d after entering at 2026-03-02 09:00 UTC (at most 2)"


def test_max_messages_counts_only_the_first_days_after_entering():
    late = (*welcome_and_tips(), ("care", "tips", "education", days(8)))

    assert verdict(journey("{max_messages: 2, within: 7d}"), story("a", messages=late)).passed


# no_promotion_before


def test_no_promotion_before_holds_when_the_promotion_follows_the_event():
    sold = story("a", messages=[("care", "offer", "promotion", days(4))],
                 events=[("Order Delivered", days(3), {"order_id": "a-o1"})])

    assert verdict(journey("{no_promotion_before: Order Delivered}"), sold).passed


def test_no_promotion_before_names_the_customer_sold_to_before_the_event():
    early = story("b", messages=[("care", "offer", "promotion", days(2))],
                  events=[("Order Delivered", days(3), {"order_id": "b-o1"})])
    never = story("c", messages=[("care", "offer", "promotion", days(2))])

    found = verdict(journey("{no_promotion_before: Order Delivered}"), early, never)

    assert not found.passed and found.breaking == 2
    assert [e.customer_id for e in found.counterexamples] == ["b", "c"]
    assert found.counterexamples[0].why == (
        "promotion care/offer at 2026-03-04 09:00 UTC, before Order Delivered "
        "(had it at 2026-03-05 09:00 UTC)"
    )
    assert found.counterexamples[1].why.endswith("(never had it)")


# escalated

LATE = "escalated: {event: Order Delivered, where: event.late == true, within: 1h}"


def test_escalated_holds_when_each_matching_event_has_a_task_in_time():
    late = story("a", events=[("Order Delivered", days(12), {"order_id": "a-o1", "late": True})],
                 tasks=[days(12) + timedelta(minutes=5)])
    on_time = story("b", events=[("Order Delivered", days(3), {"order_id": "b-o1", "late": False})])

    found = verdict(journey(LATE), late, on_time)

    assert found.passed
    assert found.detail == "1 Order Delivered event(s) checked, each escalated in time"


def test_escalated_names_the_customer_whose_late_delivery_got_no_task():
    slow = story("a", events=[("Order Delivered", days(12), {"order_id": "a-o1", "late": True})],
                 tasks=[days(12) + timedelta(hours=3)])
    none = story("b", events=[("Order Delivered", days(12), {"order_id": "b-o1", "late": True})])

    found = verdict(journey(LATE), slow, none)

    assert not found.passed and found.breaking == 2
    assert found.counterexamples[0].why == (
        "Order Delivered (order a-o1) at 2026-03-14 09:00 UTC: no task by 2026-03-14 10:00 UTC")


def test_escalated_leaves_out_the_holdout_and_what_the_run_ended_too_soon_to_tell():
    delivered = ("Order Delivered", days(3), {"order_id": "a-o1", "late": True})
    held = story("a", group="holdout", events=[delivered])
    at_the_end = story("b", events=[("Order Delivered", END - timedelta(minutes=10), {"late": True})])

    found = verdict(journey(LATE), held, at_the_end)

    assert found.passed
    assert found.detail == ("0 Order Delivered event(s) checked, each escalated in time; "
                            "1 too close to the end to tell")


def test_escalated_on_a_customer_condition_measures_from_entry():
    rule = "escalated: {where: customer.country == \"BR\", within: 1d}"
    served = story("a", country="BR", tasks=[T0 + timedelta(hours=2)])
    missed = story("b", country="BR")
    elsewhere = story("c", country="US")

    found = verdict(journey(rule), served, missed, elsewhere)

    assert not found.passed
    assert [e.customer_id for e in found.counterexamples] == ["b"]
    assert found.counterexamples[0].why == "entered at 2026-03-02 09:00 UTC: no task by 2026-03-03 09:00 UTC"


# reached and goal_rate


def test_reached_holds_at_the_share_and_fails_below_it_naming_those_who_missed_the_step():
    stories = [story("a"), story("b"), story("c", steps=("welcome", "await-delivery", "late", "done"))]

    assert verdict(journey("reached: {step: tips, share: 66%}"), *stories).passed
    found = verdict(journey("reached: {step: tips, share: 70%}"), *stories)

    assert not found.passed
    assert found.detail == "2 of 3 entrant(s) reached tips: 66.7% (at least 70% wanted)"
    assert [e.customer_id for e in found.counterexamples] == ["c"]
    assert "tips" not in [visit.step_id for visit in stories[2].enrollments[0].history]


def test_goal_rate_counts_the_treated_group_only():
    stories = [story("a", goal=days(5)), story("b"), story("c", group="holdout", goal=days(4))]

    assert verdict(journey("{goal_rate: 50%}"), *stories).passed
    found = verdict(journey("{goal_rate: 60%}"), *stories)

    assert not found.passed and [e.customer_id for e in found.counterexamples] == ["b"]
    assert found.detail == "1 of 2 entrant(s) reached the goal: 50.0% (at least 60% wanted)"


def test_a_share_with_nobody_entering_fails():
    found = verdict(journey("{goal_rate: 5%}"))

    assert not found.passed and found.detail.startswith("nobody entered")


# every_customer


def test_every_customer_condition_over_the_summary_names_who_makes_it_false():
    rule = "every_customer: summary.messages <= 2 && summary.by_purpose.promotion == 0"
    fine = story("a", messages=welcome_and_tips())
    pushy = story("b", messages=(*welcome_and_tips(), ("care", "offer", "promotion", days(3))))

    found = verdict(journey(rule), fine, pushy)

    assert not found.passed and [e.customer_id for e in found.counterexamples] == ["b"]
    why = "false for this customer (summary: by_purpose.promotion=1, messages=3)"
    assert found.counterexamples[0].why == why
    assert verdict(journey(rule), fine).passed


def test_the_summary_says_what_the_run_did_to_the_customer():
    told = story("a", messages=welcome_and_tips(), events=[("Order Delivered", days(3), {})], tasks=[days(4)],
                 goal=days(6))

    summary = summary_of(told, "care")

    assert summary["steps"] == ["welcome", "await-delivery", "tips", "done"]
    assert (summary["messages"], summary["tasks"], summary["goal_reached"], summary["exit"]) == (2, 1, True,
                                                                                                  "completed")
    assert summary["by_purpose"] == {"transactional": 1, "education": 1, "engagement": 0, "promotion": 0}
    assert summary["events"] == {"Order Delivered": 1}


@pytest.mark.parametrize("rule", ["{max_messages: 0, within: 1d}", "{no_promotion_before: X}", LATE,
                                  "reached: {step: tips, share: 1%}", "{goal_rate: 1%}",
                                  "every_customer: 'true'"])
def test_each_kind_is_judged_and_labelled(rule):
    [found] = check_acceptance(journey(rule), [story("a", goal=days(1))], end=END)

    assert found.journey_id == "care" and found.index == 0 and found.criterion

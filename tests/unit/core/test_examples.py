"""The example journeys: the DESIGN.md example adapted to what the core runs today, and signup activation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onboardflow.core.effects import SendMessage
from onboardflow.core.journey import Branch, Send, Wait, WaitFor
from onboardflow.core.machine import EventReceived, TimerFired, admits, advance, start
from onboardflow.core.model import Customer, Event
from onboardflow.core.validation import JourneyInvalid, load_journey

EXAMPLES = Path(__file__).resolve().parents[3] / "src" / "onboardflow" / "examples"
NAMES = ["first-purchase-welcome.yaml", "signup-activation.yaml"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# The journey of DESIGN.md as written there, with features the core does not have yet.
DESIGN_EXAMPLE = """\
id: first-purchase-welcome
name: First purchase welcome
owner: cs-lead@shop.example            # the one person who decides to launch
trigger:
  event: Order Completed
  where: customer.orders_count == 1   # conditions are CEL expressions
audience: customer.country in ["US", "CA", "GB"]
reentry: never                        # never | always | after 90d
exit_when: [{event: Refund Requested}]
goal: {event: Order Completed, within: 30d, where: event.order_id != trigger.order_id}
holdout: 10%                          # control group, for measured uplift
policies:
  quiet_hours: {from: "21:00", to: "08:00"}   # in the recipient's time zone
  frequency_cap: {max: 3, per: 7d}
  no_promotion_before: Order Delivered         # value before selling
steps:
  - id: welcome
    send: {channel: email, template: welcome, purpose: transactional}
  - id: await-delivery
    wait_for: {event: Order Delivered, where: event.order_id == trigger.order_id, timeout: 10d}
    on_timeout: late-delivery
  - id: usage-tips
    send: {channel: [whatsapp, sms, email], template: usage_tips, purpose: education}  # first allowed channel
  - id: settle
    wait: 5d
  - id: route
    branch:
      - when: customer.type == "wholesale"
        goto: account-manager
      - when: score.repeat_purchase < 0.2
        goto: reassure
    default: review-request
  - id: review-request
    send: {channel: email, template: review_request, purpose: engagement}
  - {id: done, exit: completed}
  - id: late-delivery
    escalate: {queue: support, reason: delivery late, priority: high, due: 48h}
acceptance:
  - no customer receives more than 4 messages in the first 7 days
  - every late delivery is escalated within 1h
"""

SENTENCES = """\
  - no customer receives more than 4 messages in the first 7 days
  - every late delivery is escalated within 1h
"""
RULES = """\
  - {max_messages: 4, within: 7d}
  - escalated: {event: Order Delivered, where: event.late == true, within: 1h}
"""


def example(name: str):
    return load_journey((EXAMPLES / name).read_text(encoding="utf-8"), source=f"src/onboardflow/examples/{name}")


@pytest.mark.parametrize("name", NAMES)
def test_example_journey_validates(name):
    assert example(name).id == name.removesuffix(".yaml")


def test_the_design_example_fails_only_on_what_the_core_does_not_have_yet():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(DESIGN_EXAMPLE, source="DESIGN.md")
    found = sorted((problem.line, problem.step_id, problem.field) for problem in raised.value.problems)
    assert found == [
        (39, None, "acceptance.0"),  # criteria are rules now, not sentences: the message shows the rule
        (40, None, "acceptance.1"),
    ]
    with pytest.raises(JourneyInvalid) as raised:  # with the rules the messages suggest, the graph is checked
        load_journey(DESIGN_EXAMPLE.replace(SENTENCES, RULES), source="DESIGN.md")
    found = sorted((problem.line, problem.step_id, problem.field) for problem in raised.value.problems)
    assert found == [
        (29, "route", "branch.0.goto"),  # account-manager: elided in the design
        (31, "route", "branch.1.goto"),  # reassure: elided in the design
    ]


def test_the_design_examples_criteria_are_refused_with_the_rule_to_write_instead():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(DESIGN_EXAMPLE, source="DESIGN.md")
    messages = {problem.field: problem.message for problem in raised.value.problems}

    assert "{max_messages: 4, within: 7d}" in messages["acceptance.0"]
    suggested = "{escalated: {event: Order Delivered, where: event.late == true, within: 1h}}"
    assert suggested in messages["acceptance.1"]


def test_the_design_example_with_its_elided_steps_needs_a_trained_repeat_purchase_model():
    whole = DESIGN_EXAMPLE.replace(SENTENCES, RULES).replace(
        "acceptance:", "  - {id: account-manager, exit: completed}\n  - {id: reassure, exit: completed}\nacceptance:")
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(whole, source="DESIGN.md", scores=[])

    [problem] = raised.value.problems
    assert (problem.line, problem.step_id, problem.field) == (30, "route", "branch.1.when")
    assert "no repeat-purchase model is trained" in problem.message
    trained = load_journey(whole, source="DESIGN.md", scores=["repeat_purchase"])
    assert trained.reads_scores == {"repeat_purchase"}


def test_first_purchase_welcome_keeps_the_shape_of_the_design_example():
    journey = example("first-purchase-welcome.yaml").journey
    steps = {step.id: step for step in journey.steps}

    assert (journey.trigger.event, journey.trigger.where) == ("Order Completed", "customer.orders_count == 1")
    assert journey.audience.startswith("customer.country in ")
    assert [rule.event for rule in journey.exit_when] == ["Refund Requested"]
    assert (journey.goal.event, journey.goal.within) == ("Order Completed", timedelta(days=30))
    wait_for = steps["await-delivery"]
    assert isinstance(wait_for, WaitFor)
    assert (wait_for.wait_for.event, wait_for.wait_for.timeout) == ("Order Delivered", timedelta(days=10))
    assert isinstance(steps[wait_for.on_timeout], Send)
    assert [step.wait for step in journey.steps if isinstance(step, Wait)] == [timedelta(days=5)]
    [branch] = [step for step in journey.steps if isinstance(step, Branch)]
    assert branch.branch[0].when == 'customer.type == "wholesale"'


def test_signup_activation_nudges_when_the_first_login_does_not_come():
    journey = example("signup-activation.yaml").journey
    [wait_for] = [step for step in journey.steps if isinstance(step, WaitFor)]

    assert journey.trigger.event == "Signed Up"
    assert (wait_for.wait_for.event, wait_for.wait_for.timeout) == ("First Login", timedelta(days=3))
    assert wait_for.on_timeout == "nudge"
    assert (journey.goal.event, journey.goal.within) == ("Order Completed", timedelta(days=14))


# the first purchase welcome, walked through the machine

BUYER = Customer(id="c1", email="ana@example.com", country="US", traits={"type": "retail"}, orders_count=1)


def walk(customer: Customer, *moves: tuple[str, int, dict]):
    """Start on a first order at T0, then apply (event name | "timer", days later, properties) moves."""
    version = example("first-purchase-welcome.yaml")
    order = Event("e0", "Order Completed", customer.id, T0, {"order_id": "o1"})
    assert admits(version, customer=customer, event=order, last_started_at=None, is_active=False, now=T0)
    decision = start(version, customer=customer, event=order, now=T0)
    effects = list(decision.effects)
    for number, (name, days, properties) in enumerate(moves, start=1):
        now = T0 + timedelta(days=days)
        enrollment = decision.enrollment
        if name == "timer":
            stimulus = TimerFired(enrollment.waiting.timer_id)
        else:
            stimulus = EventReceived(Event(f"e{number}", name, customer.id, now, properties))
        decision = advance(version, enrollment, stimulus, customer=customer, now=now)
        effects.extend(decision.effects)
    sent = [effect.step_id for effect in effects if isinstance(effect, SendMessage)]
    return decision.enrollment, sent


def test_a_retail_buyer_gets_tips_after_delivery_then_the_review_request():
    enrollment, sent = walk(BUYER, ("Order Delivered", 3, {"order_id": "o1"}), ("timer", 8, {}))

    assert sent == ["welcome", "usage-tips", "review-request"]
    assert enrollment.exit_reason == "completed"


def test_a_wholesale_buyer_is_introduced_to_an_account_manager():
    wholesale = Customer(id="c2", country="CA", traits={"type": "wholesale"}, orders_count=1)

    enrollment, sent = walk(wholesale, ("Order Delivered", 2, {"order_id": "o1"}), ("timer", 7, {}))

    assert sent == ["welcome", "usage-tips", "account-manager"]
    assert enrollment.exit_reason == "completed"


def test_a_late_delivery_gets_an_apology_before_the_tips():
    enrollment, sent = walk(BUYER, ("timer", 10, {}))

    assert sent == ["welcome", "late-delivery", "usage-tips"]
    assert enrollment.step_id == "settle"


def test_a_second_order_within_30_days_reaches_the_goal():
    enrollment, _ = walk(BUYER, ("Order Completed", 12, {"order_id": "o2"}))

    assert enrollment.exit_reason == "goal_reached"


def test_a_refund_ends_the_journey():
    enrollment, sent = walk(BUYER, ("Refund Requested", 1, {"order_id": "o1"}))

    assert (enrollment.exit_reason, sent) == ("exit_rule", ["welcome"])

"""Each kind of acceptance criterion on real simulated runs: it holds when the journey keeps it, and
when not, every counter-example's own timeline shows it broken."""

from __future__ import annotations

from datetime import datetime, timedelta

from .helpers import delivered, run

CHATTY = """\
trigger: {event: Order Completed}
steps:
  - id: hello
    send: {channel: email, template: hello}
  - id: pause
    wait: 1h
  - id: tips
    send: {channel: email, template: tips, purpose: education}
  - id: again
    wait: 1h
  - id: offer
    send: {channel: email, template: offer, purpose: promotion}
acceptance:
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def verdict(result, index: int = 0):
    return result.verdicts[index]


def entered(timeline: list[dict], journey_id: str = "test") -> datetime:
    return at(next(e["at"] for e in timeline if e["kind"] == "enter" and e["journey_id"] == journey_id))


def examples(result, index: int = 0):
    found = result.document(timelines="counterexamples")["acceptance"][index]["counterexamples"]
    assert found, "a failing criterion names customers"
    return found


def test_max_messages_holds_at_three_and_fails_at_two_with_customers_who_got_three():
    assert verdict(run(CHATTY + "  - {max_messages: 3, within: 7d}\n", customers=25)).passed

    result = run(CHATTY + "  - {max_messages: 2, within: 7d}\n", customers=25)

    assert not verdict(result).passed and verdict(result).breaking == 25
    for example in examples(result):
        start = entered(example["timeline"])
        early = [
            m for m in delivered(example["timeline"]) if start <= at(m["at"]) < start + timedelta(days=7)
        ]
        assert len(early) > 2


def test_no_promotion_before_fails_when_the_offer_comes_first_and_holds_with_the_policy():
    rule = "  - {no_promotion_before: Order Delivered}\n"
    result = run(CHATTY + rule, customers=20)

    assert not verdict(result).passed
    for example in examples(result):
        timeline = example["timeline"]
        offer = next(m for m in delivered(timeline) if m["purpose"] == "promotion")
        deliveries = [e for e in timeline if e["kind"] == "event" and e["name"] == "Order Delivered"]
        assert not deliveries or at(deliveries[0]["at"]) > at(offer["at"])

    kept = run(
        CHATTY.replace("steps:", "policies: {no_promotion_before: Order Delivered}\nsteps:") + rule,
        customers=20,
    )
    assert verdict(kept).passed
    held = [e for t in kept.timelines.values() for e in t if e["kind"] == "message" and e["status"] == "held"]
    assert held, "the dispatcher held the offers until the delivery"


ESCALATE = """\
trigger: {{event: Order Delivered, where: event.late == true}}
reentry: always
steps:
{wait}  - id: tell-support
    escalate: {{queue: support, reason: delivery late, priority: high}}
acceptance:
  - escalated: {{event: Order Delivered, where: event.late == true, within: 1h}}
"""


def test_escalated_holds_when_each_late_delivery_gets_a_task_at_once_and_fails_when_it_waits():
    result = run(ESCALATE.format(wait=""), customers=40, late=0.5)
    assert verdict(result).passed
    late = sum(
        1
        for t in result.timelines.values()
        for e in t
        if e["kind"] == "event" and e["name"] == "Order Delivered" and e["details"]["late"]
    )
    assert late > 5 and len(result.counts["tasks"]) == late

    slow = run(ESCALATE.format(wait="  - id: think\n    wait: 2h\n"), customers=40, late=0.5)

    assert not verdict(slow).passed
    for example in examples(slow):
        timeline = example["timeline"]
        delivery = next(
            e
            for e in timeline
            if e["kind"] == "event" and e["name"] == "Order Delivered" and e["details"]["late"]
        )
        tasks = [at(e["at"]) for e in timeline if e["kind"] == "task"]
        assert not any(
            at(delivery["at"]) <= moment <= at(delivery["at"]) + timedelta(hours=1) for moment in tasks
        )


REACHED = """\
trigger: {{event: Order Completed}}
steps:
  - id: await-delivery
    wait_for: {{event: Order Delivered, timeout: 7d}}
    on_timeout: sorry
  - id: tips
    send: {{channel: email, template: tips, purpose: education}}
  - {{id: done, exit: completed}}
  - id: sorry
    send: {{channel: email, template: hello}}
    goto: done
acceptance:
  - reached: {{step: tips, share: {share}}}
"""


def test_reached_holds_under_the_share_that_reached_the_step_and_fails_above_it():
    result = run(REACHED.format(share="1%"), customers=60, late=0.4)
    share = 100 * result.counts["steps"]["test"]["tips"] / result.counts["steps"]["test"]["await-delivery"]
    assert verdict(result).passed and 30 < share < 99

    failing = run(REACHED.format(share="99%"), customers=60, late=0.4)

    assert not verdict(failing).passed
    assert verdict(failing).breaking == 60 - failing.counts["steps"]["test"]["tips"]
    for example in examples(failing):
        assert "tips" not in [e["step_id"] for e in example["timeline"] if e["kind"] == "step"]


GOAL = """\
trigger: {{event: Order Completed, where: customer.orders_count == 1}}
goal: {{event: Order Completed, within: 25d, where: event.order_id != trigger.order_id}}
steps:
  - id: hello
    send: {{channel: email, template: hello}}
  - id: stay
    wait: 25d
acceptance:
  - {{goal_rate: {rate}}}
"""


def test_goal_rate_holds_under_the_rate_reached_and_fails_above_it_naming_who_did_not_convert():
    result = run(GOAL.format(rate="5%"), customers=60, repeat=0.5, days=40)
    rate = result.counts["goals"]["test"]["journey"]["rate"]
    assert verdict(result).passed and 5 <= rate < 95

    failing = run(GOAL.format(rate="95%"), customers=60, repeat=0.5, days=40)

    assert not verdict(failing).passed
    for example in examples(failing):
        assert not [e for e in example["timeline"] if e["kind"] == "goal"]


def test_every_customer_holds_on_every_summary_and_fails_naming_the_customers_it_is_false_for():
    assert verdict(run(CHATTY + "  - every_customer: summary.messages <= 3\n", customers=20)).passed

    result = run(CHATTY + "  - every_customer: summary.tasks > 0 || summary.messages < 3\n", customers=20)

    assert not verdict(result).passed
    for example in examples(result):
        timeline = example["timeline"]
        assert not [e for e in timeline if e["kind"] == "task"]
        assert len([m for m in delivered(timeline) if m["journey_id"] == "test"]) >= 3
        assert example["why"] == "false for this customer (summary: messages=3, tasks=0)"

"""The semantics docs/journey-language.md pins down where journey builders leave their users guessing,
one test each: which wait_for entry wins, late events, escalations without a deadline, clock changes,
what a held-out customer goes through, the order within an update, webhook answers, exit conditions,
goals that do not end, concurrent enrollments, messages that cannot be delivered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from onboardflow.core.effects import CallWebhook, OpenTask, SendMessage, UpdateCustomer
from onboardflow.core.machine import EventReceived, is_held_out, start
from onboardflow.core.model import (
    MESSAGE_UNDELIVERABLE,
    TASK_RESOLVED,
    WEBHOOK_FAILED,
    WEBHOOK_SUCCEEDED,
    Customer,
    Event,
)
from onboardflow.core.validation import load_journey

from .driver import RETAIL, T0, Run, journey, only
from .world import World

# wait_for: which entry wins, and when an event counts

TWO_ENTRIES = """\
  - id: await
    wait_for:
      events:
        - {event: Order Delivered, where: event.order_id == trigger.order_id, goto: this-order}
        - {event: Order Delivered, goto: any-order}
        - {event: Delivery Failed, goto: failed}
      timeout: 10d
  - {id: this-order, send: {channel: email, template: this_order}, goto: settle}
  - {id: any-order, send: {channel: email, template: any_order}, goto: settle}
  - {id: failed, send: {channel: email, template: failed}}
  - {id: settle, wait: 5d}
"""


def test_when_two_entries_match_one_event_the_first_written_wins():
    this_order, other_order = Run(journey(TWO_ENTRIES)), Run(journey(TWO_ENTRIES))
    for run in (this_order, other_order):
        run.trigger()
    this_order.receive("Order Delivered", order_id="o1")  # both entries match: the first one wins
    other_order.receive("Order Delivered", order_id="o9")

    assert this_order.sent == ["this_order"] and other_order.sent == ["any_order"]


def test_of_two_matching_events_the_first_to_come_wins_and_the_second_is_not_kept():
    run = Run(journey(TWO_ENTRIES))
    run.trigger()
    run.receive("Delivery Failed")
    run.receive("Order Delivered", order_id="o1")

    assert run.sent == ["failed"]
    assert run.enrollment.step_id == "settle" and run.decisions[-1].effects == ()


def test_an_event_that_happened_before_the_wait_began_counts_when_it_arrives_during_it():
    run = Run(journey("""\
        - {id: settle, wait: 1d}
        - {id: await-click, wait_for: {event: Link Clicked, timeout: 2d}}
        - {id: tips, send: {channel: email, template: tips}}
        """))
    run.trigger()
    run.sleep("1d")  # now at await-click
    run.apply(EventReceived(Event("late", "Link Clicked", RETAIL.id, T0 + timedelta(hours=1))))

    assert run.sent == ["tips"]


# escalate: the due time, with and without on_overdue

ESCALATE = """\
  - id: hand-off
    escalate:
      {{queue: support, reason: delivery late, due: 48h, wait: true, on_outcome: {{late: chase}}{overdue}}}
  - {{id: thanks, send: {{channel: email, template: thanks}}, goto: done}}
  - {{id: chase, send: {{channel: email, template: chase}}}}
  - {{id: done, exit: completed}}
"""


def test_an_escalation_without_on_overdue_waits_past_its_due_time_until_the_task_is_resolved():
    run = Run(journey(ESCALATE.format(overdue="")))
    run.trigger()
    task = only(run.effects, OpenTask)
    run.sleep("30d")

    assert run.enrollment.step_id == "hand-off" and not run.timers and run.sent == []
    run.receive(TASK_RESOLVED, task_id=task.task_id, outcome="resolved")
    assert run.sent == ["thanks"]


def test_with_on_overdue_a_resolution_after_the_due_time_does_not_count():
    run = Run(journey(ESCALATE.format(overdue=", on_overdue: chase")))
    run.trigger()
    task = only(run.effects, OpenTask)
    [timer_id] = run.timers
    run.now = T0 + timedelta(hours=49)  # the worker is late: the overdue timer has not fired yet
    run.receive(TASK_RESOLVED, task_id=task.task_id, outcome="resolved")
    assert run.sent == []
    run.fire(timer_id)
    assert run.sent == ["chase"]


# wait_until: the autumn night

def test_reaching_a_wait_between_the_two_1_30s_of_an_autumn_night_waits_for_the_next_day():
    text = journey("  - {id: later, wait_until: {time: '01:30'}}\n  - {id: hi, wait: 1d}\n")
    run = Run(text, customer=replace(RETAIL, timezone="America/New_York"))
    run.now = datetime(2026, 11, 1, 5, 45, tzinfo=UTC)  # 01:45 EDT, after the first 01:30 of the night
    run.trigger()
    assert run.enrollment.waiting.until == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST, Monday


# holdout

def held_out(text: str, *, holdout: bool) -> Customer:
    """A customer in (or out of) the control group of the journey `text`, found by trying ids in turn."""
    version = load_journey(text)
    number = next(n for n in range(10_000) if is_held_out(version, f"c{n}") is holdout)
    return replace(RETAIL, id=f"c{number}")


HOLDOUT_PATHS = """\
  - id: crm
    webhook: {url: 'https://crm.example/hook', map: {tier: response.tier}}
    on_error: sorry
  - id: hand-off
    escalate: {queue: cs, reason: check, wait: true, on_outcome: {refunded: sorry}, on_overdue: sorry}
  - {id: hello, send: {channel: email, template: hello}, on_undeliverable: sorry}
  - {id: settle, wait: 1d}
  - {id: done, exit: completed}
  - {id: sorry, send: {channel: email, template: sorry}}
"""


def test_a_held_out_customer_goes_the_main_way_past_every_step_that_acts():
    text = journey(HOLDOUT_PATHS, holdout="50%")
    run = Run(text, customer=held_out(text, holdout=True))
    run.trigger()

    assert run.enrollment.group == "holdout"
    assert [visit.step_id for visit in run.enrollment.history] == ["crm", "hand-off", "hello", "settle"]
    acted = [e for e in run.effects if isinstance(e, SendMessage | OpenTask | CallWebhook | UpdateCustomer)]
    assert acted == []
    run.sleep("1d")
    assert run.ended == ("ended", "completed")


def test_a_customer_keeps_their_group_and_their_split_paths_in_a_new_version():
    steps = """\
      - id: ab
        split: [{{weight: 1, goto: a}}, {{weight: 1, goto: b}}]
      - {{id: a, send: {{channel: email, template: {template}}}, goto: done}}
      - {{id: b, send: {{channel: email, template: b}}}}
      - {{id: done, exit: completed}}
      """
    first = load_journey(journey(steps.format(template="a"), holdout="30%"), version=1)
    second = load_journey(journey(steps.format(template="a_rewritten"), holdout="30%"), version=2)
    for number in range(300):
        customer = replace(RETAIL, id=f"c{number}")
        order = Event(f"e{number}", "Order Completed", customer.id, T0, {"order_id": "o1"})
        before, after = (start(v, customer=customer, event=order, now=T0).enrollment for v in (first, second))
        assert (before.group, before.paths) == (after.group, after.paths)


def test_raising_the_holdout_share_keeps_everyone_already_held_out():
    ten, twenty = (load_journey(journey("  - {id: a, wait: 1d}\n", holdout=share)) for share in ("10", "20"))
    held = {f"c{n}" for n in range(5000) if is_held_out(ten, f"c{n}")}
    assert held and all(is_held_out(twenty, customer_id) for customer_id in held)
    assert sum(is_held_out(twenty, f"c{n}") for n in range(5000)) > len(held)


# update

def test_within_one_update_unset_wins_over_set_and_add_tags_over_remove_tags():
    run = Run(journey("  - id: mark\n    update: {set: {stage: a, kept: 1}, unset: [stage], add_tags: [vip], "
                      "remove_tags: [vip, old]}\n"),
              customer=replace(RETAIL, traits={"tags": ["old"]}))
    run.trigger()
    assert run.customer.traits == {"kept": 1, "tags": ["vip"]}


# webhook

WEBHOOK = """\
  - id: crm
    webhook: {{url: 'https://crm.example/hook', map: {{tier: response.tier}}}}{on_error}
  - {{id: next, send: {{channel: email, template: next}}}}
  - {{id: sorry, send: {{channel: email, template: sorry}}}}
"""


def test_a_map_expression_that_cannot_be_computed_sets_its_trait_to_null():
    run = Run(journey(WEBHOOK.format(on_error="\n    on_error: sorry")))
    run.trigger()
    run.receive(WEBHOOK_SUCCEEDED, call_id=only(run.effects, CallWebhook).call_id, response={"points": 3})

    assert only(run.effects, UpdateCustomer).set_traits == {"tier": None}
    assert run.sent[0] == "next"


def test_a_failed_call_without_on_error_goes_on_as_after_a_success_with_nothing_mapped():
    run = Run(journey(WEBHOOK.format(on_error="")))
    run.trigger()
    run.receive(WEBHOOK_FAILED, call_id=only(run.effects, CallWebhook).call_id, error="500")

    assert run.sent[0] == "next"
    assert not [effect for effect in run.effects if isinstance(effect, UpdateCustomer)]


# exit conditions

def test_an_exit_condition_is_checked_neither_at_entry_nor_in_the_middle_of_a_run_but_at_the_next_stimulus():
    text = journey("""\
        - {id: mark, update: {add_tags: [lapsed]}}
        - {id: hello, send: {channel: email, template: hello}}
        - {id: settle, wait: 1d}
        - {id: later, send: {channel: email, template: later}}
        """, exit_when="""[{where: '"lapsed" in customer.tags || customer.type == "churned"'}]""")
    run = Run(text, customer=replace(RETAIL, traits={"type": "churned"}))  # it holds already at entry
    run.trigger()

    assert run.sent == ["hello"] and run.enrollment.step_id == "settle"
    run.sleep("1d")  # the wait's timer is the next stimulus
    assert run.ended == ("ended", "exit_rule") and run.sent == ["hello"]


# goal

def test_a_goal_that_does_not_end_may_also_end_the_wait_it_came_in():
    run = Run(journey("  - {id: await, wait_for: {event: Link Clicked, timeout: 3d}}\n"
                      "  - {id: tips, send: {channel: email, template: tips}}\n  - {id: settle, wait: 9d}\n",
                      goal="{event: Link Clicked, exit: false}"))
    run.trigger()
    run.sleep("1h")
    run.receive("Link Clicked")

    assert run.enrollment.goal_reached_at == run.now and run.sent == ["tips"]
    assert run.enrollment.is_active


# concurrent enrollments

def test_a_trigger_that_is_also_the_goal_converts_the_running_enrollments_but_not_the_one_it_starts():
    goal = "{event: Order Completed, where: event.order_id != trigger.order_id}"
    version = load_journey(journey("  - {id: settle, wait: 10d}\n", reentry="always concurrent", goal=goal))
    world = World(version, RETAIL, T0)
    world.receive("Order Completed", {"order_id": "o1"})
    world.now += timedelta(hours=1)
    world.receive("Order Completed", {"order_id": "o2"})

    first, second = world.enrollments.values()
    assert (first.trigger["order_id"], first.exit_reason) == ("o1", "goal_reached")
    assert (second.trigger["order_id"], second.is_active) == ("o2", True)


# undeliverable

def test_an_undeliverable_message_of_a_send_without_on_undeliverable_changes_nothing():
    run = Run(journey("  - {id: hello, send: {channel: sms, template: hello}}\n  - {id: settle, wait: 1d}\n"))
    run.trigger()
    before = run.enrollment
    message = only(run.effects, SendMessage)
    run.receive(MESSAGE_UNDELIVERABLE, message_id=message.message_id, enrollment_id=before.id,
                step_id="hello")

    assert run.enrollment is before and run.decisions[-1].effects == ()

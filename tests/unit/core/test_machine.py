"""The enrollment state machine, as behaviour: a customer walks a journey while time jumps forward.

Each test drives one enrollment the way the engine does: events in, timers fired when they fall due.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from onboardflow.core.effects import CancelTimer, Decision, EndEnrollment, ScheduleTimer, SendMessage
from onboardflow.core.machine import EventReceived, TimerFired, admits, advance, start
from onboardflow.core.model import Customer, Event, Visit
from onboardflow.core.validation import load_journey

from .driver import RETAIL, T0, WHOLESALE, Run, journey, only

SEND = "  - id: hello\n    send: {channel: email, template: hello}\n"
WAIT_FOR_DELIVERY = """\
  - id: hello
    send: {channel: email, template: hello}
  - id: await-delivery
    wait_for: {event: Order Delivered, where: event.order_id == trigger.order_id, timeout: 10d}
    on_timeout: late
  - id: tips
    send: {channel: email, template: tips}
  - {id: done, exit: completed}
  - id: late
    send: {channel: email, template: sorry}
"""


# send


def test_send_produces_a_send_message_for_the_customer():
    run = Run(
        journey("  - id: hello\n    send: {channel: [sms, email], template: hello, purpose: education}\n")
    )

    message = only(run.trigger().effects, SendMessage)

    assert message.enrollment_id == run.enrollment.id
    assert (message.journey_id, message.version, message.customer_id) == ("test", 1, "c1")
    assert (message.step_id, message.template, message.purpose) == ("hello", "hello", "education")
    assert message.channels == ("sms", "email")  # in order of preference
    assert message.at == T0


def test_send_purpose_defaults_to_transactional():
    assert only(Run(journey(SEND)).trigger().effects, SendMessage).purpose == "transactional"


def test_send_message_ids_are_deterministic():
    first, again, other = Run(journey(SEND)), Run(journey(SEND)), Run(journey(SEND))
    other.event("something else")  # the trigger event gets another id: another enrollment

    ids = [only(run.trigger().effects, SendMessage).message_id for run in (first, again, other)]

    assert ids[0] == ids[1]
    assert ids[0] != ids[2]


def test_two_sends_of_one_template_get_two_message_ids():
    run = Run(journey(SEND + "  - id: again\n    send: {channel: email, template: hello}\n"))

    messages = [effect for effect in run.trigger().effects if isinstance(effect, SendMessage)]

    assert [message.step_id for message in messages] == ["hello", "again"]
    assert messages[0].message_id != messages[1].message_id


def test_send_goto_skips_to_the_named_step():
    run = Run(
        journey(
            "  - id: hello\n    send: {channel: email, template: hello}\n    goto: bye\n"
            "  - {id: done, exit: completed}\n"
            "  - id: bye\n    send: {channel: email, template: bye}\n    goto: done\n"
        )
    )

    run.trigger()

    assert run.sent == ["hello", "bye"]
    assert run.ended == ("ended", "completed")


# start


def test_start_keeps_the_trigger_event_for_later_conditions():
    run = Run(journey("  - {id: pause, wait: 1d}\n"))

    run.trigger(order_id="o9", total=120.0)

    assert run.enrollment.trigger == {
        "order_id": "o9",
        "total": 120.0,
        "id": "e1",
        "name": "Order Completed",
        "at": T0,
    }
    assert (run.enrollment.started_at, run.enrollment.customer_id, run.enrollment.journey_id) == (
        T0,
        "c1",
        "test",
    )


def test_history_records_each_step_visited_with_its_time():
    run = Run(journey(SEND + "  - {id: pause, wait: 2d}\n  - {id: done, exit: completed}\n"))

    run.trigger()
    run.sleep("3d")

    assert run.enrollment.history == (
        Visit("hello", T0),
        Visit("pause", T0),
        Visit("done", T0 + timedelta(days=2)),
    )


# wait


def test_wait_schedules_a_timer_due_after_the_duration():
    run = Run(journey("  - {id: pause, wait: 5d}\n" + SEND))

    timer = only(run.trigger().effects, ScheduleTimer)

    assert timer.due_at == T0 + timedelta(days=5)
    assert (timer.enrollment_id, timer.customer_id) == (run.enrollment.id, "c1")
    assert run.enrollment.step_id == "pause"
    assert run.enrollment.waiting.timer_id == timer.timer_id
    assert run.enrollment.waiting.until == timer.due_at


def test_wait_does_nothing_before_its_timer_is_due():
    run = Run(journey("  - {id: pause, wait: 5d}\n" + SEND))
    run.trigger()

    run.sleep("4d23h")

    assert run.sent == []
    assert run.enrollment.step_id == "pause"


def test_wait_resumes_when_its_timer_fires():
    run = Run(journey("  - {id: pause, wait: 5d}\n" + SEND))
    run.trigger()

    run.sleep("5d")

    assert run.sent == ["hello"]
    assert only(run.effects, SendMessage).at == T0 + timedelta(days=5)
    assert run.ended == ("ended", "completed")
    assert run.timers == {}


def test_a_stale_timer_is_ignored():
    run = Run(journey("  - {id: first, wait: 1d}\n  - {id: second, wait: 1d}\n" + SEND))
    first_timer = only(run.trigger().effects, ScheduleTimer).timer_id
    run.sleep("1d")
    before = run.enrollment

    decision = run.fire(first_timer)  # delivered twice, say, after a crash

    assert decision == Decision(before)
    assert decision.enrollment is before


def test_a_timer_of_another_enrollment_is_ignored():
    run = Run(journey("  - {id: pause, wait: 1d}\n" + SEND))
    run.trigger()
    before = run.enrollment

    assert run.apply(TimerFired("tmr_someone-else.1")) == Decision(before)


# wait_for


def test_wait_for_schedules_its_timeout_and_waits_for_the_event():
    run = Run(journey(WAIT_FOR_DELIVERY))

    timer = only(run.trigger().effects, ScheduleTimer)

    assert run.enrollment.step_id == "await-delivery"
    assert run.enrollment.waiting.events == ("Order Delivered",)
    assert run.enrollment.waiting.timer_id == timer.timer_id
    assert timer.due_at == T0 + timedelta(days=10)


def test_wait_for_resumes_on_the_matching_event_and_cancels_its_timer():
    run = Run(journey(WAIT_FOR_DELIVERY))
    timer = only(run.trigger(order_id="o1").effects, ScheduleTimer)
    run.sleep("2d")

    decision = run.receive("Order Delivered", order_id="o1")

    assert decision.effects[0] == CancelTimer(timer.timer_id)
    assert run.sent == ["hello", "tips"]
    assert run.ended == ("ended", "completed")
    assert run.timers == {}


def test_wait_for_ignores_an_event_for_another_order():
    run = Run(journey(WAIT_FOR_DELIVERY))
    run.trigger(order_id="o1")
    before = run.enrollment

    decision = run.receive("Order Delivered", order_id="o2")

    assert decision == Decision(before)
    assert run.enrollment.step_id == "await-delivery"


def test_wait_for_ignores_an_event_of_another_name():
    run = Run(journey(WAIT_FOR_DELIVERY))
    run.trigger(order_id="o1")
    before = run.enrollment

    assert run.receive("Order Shipped", order_id="o1") == Decision(before)


def test_wait_for_times_out_to_on_timeout_step_after_deadline():
    run = Run(journey(WAIT_FOR_DELIVERY))
    run.trigger()

    run.sleep("9d23h")
    assert run.sent == ["hello"]

    run.sleep("1h")
    assert run.sent == ["hello", "sorry"]
    assert only(run.effects[1:], SendMessage).at == T0 + timedelta(days=10)


def test_wait_for_without_on_timeout_ends_with_reason_timeout():
    run = Run(journey("  - id: await-login\n    wait_for: {event: First Login, timeout: 3d}\n" + SEND))
    run.trigger()

    run.sleep("3d")

    assert run.ended == ("ended", "timeout")
    assert run.enrollment.ended_at == T0 + timedelta(days=3)
    assert only(run.effects, EndEnrollment) == EndEnrollment(
        run.enrollment.id, "timeout", T0 + timedelta(days=3)
    )
    assert run.sent == []


def test_an_event_after_the_timeout_changes_nothing():
    run = Run(journey(WAIT_FOR_DELIVERY))
    run.trigger(order_id="o1")
    run.sleep("11d")
    before = run.enrollment

    assert run.receive("Order Delivered", order_id="o1") == Decision(before)


def test_wait_for_without_where_resumes_on_any_event_of_its_name():
    run = Run(journey("  - id: await\n    wait_for: {event: First Login, timeout: 3d}\n" + SEND))
    run.trigger()

    run.receive("First Login")

    assert run.sent == ["hello"]


# branch

ROUTE = """\
  - id: route
    branch:
      - when: customer.type == "wholesale"
        goto: account-manager
      - when: trigger.total > 100.0
        goto: big-spender
    default: review
  - id: review
    send: {channel: email, template: review}
    goto: done
  - id: account-manager
    send: {channel: email, template: account_manager}
    goto: done
  - id: big-spender
    send: {channel: email, template: big_spender}
  - {id: done, exit: completed}
"""


def test_branch_arms_are_evaluated_in_order_and_the_first_that_holds_wins():
    run = Run(journey(ROUTE), customer=WHOLESALE)

    run.trigger(total=500.0)  # both arms hold

    assert run.sent == ["account_manager"]


def test_branch_takes_a_later_arm_when_an_earlier_one_does_not_hold():
    run = Run(journey(ROUTE))

    run.trigger(total=500.0)

    assert run.sent == ["big_spender"]


def test_branch_takes_default_when_no_arm_holds():
    run = Run(journey(ROUTE))

    run.trigger(total=20.0)

    assert run.sent == ["review"]
    assert [visit.step_id for visit in run.enrollment.history] == ["route", "review", "done"]


def test_branch_without_default_falls_through_to_the_next_step():
    steps = """\
      - id: route
        branch:
          - when: customer.type == "wholesale"
            goto: done
      - id: review
        send: {channel: email, template: review}
      - {id: done, exit: completed}
    """
    run = Run(journey(steps))

    run.trigger()

    assert run.sent == ["review"]


def test_branch_with_a_condition_that_cannot_be_evaluated_takes_the_default():
    steps = ROUTE.replace('customer.type == "wholesale"', "customer.traits.plan.tier == 1")
    run = Run(journey(steps))

    run.trigger(total=5.0)

    assert run.sent == ["review"]


def test_branch_reads_the_customer_as_the_engine_passes_it_now():
    run = Run(journey("  - {id: settle, wait: 5d}\n" + ROUTE))
    run.trigger(total=5.0)
    run.customer = WHOLESALE  # the profile changed while the enrollment waited

    run.sleep("5d")

    assert run.sent == ["account_manager"]


# exit and the end of the steps


def test_exit_step_ends_the_enrollment_with_its_reason():
    run = Run(journey(SEND + "  - {id: done, exit: completed}\n"))

    decision = run.trigger()

    assert run.ended == ("ended", "completed")
    assert run.enrollment.ended_at == T0
    assert decision.effects[-1] == EndEnrollment(run.enrollment.id, "completed", T0)
    assert run.enrollment.step_id == "done"


def test_steps_after_an_exit_do_not_run():
    steps = """\
      - id: route
        branch:
          - when: customer.type == "wholesale"
            goto: extra
      - {id: done, exit: completed}
      - id: extra
        send: {channel: email, template: extra}
    """
    run = Run(journey(steps))

    run.trigger()

    assert run.sent == []
    assert run.ended == ("ended", "completed")


def test_running_off_the_end_completes():
    run = Run(journey(SEND))

    decision = run.trigger()

    assert run.ended == ("ended", "completed")
    assert [type(effect) for effect in decision.effects] == [SendMessage, EndEnrollment]


# exit_when


def test_exit_when_ends_with_exit_rule_and_cancels_the_pending_timer():
    run = Run(journey(WAIT_FOR_DELIVERY, exit_when="[{event: Refund Requested}]"))
    timer = only(run.trigger().effects, ScheduleTimer)
    run.sleep("1d")

    decision = run.receive("Refund Requested")

    assert run.ended == ("ended", "exit_rule")
    assert decision.effects == (
        CancelTimer(timer.timer_id),
        EndEnrollment(run.enrollment.id, "exit_rule", T0 + timedelta(days=1)),
    )
    assert run.enrollment.waiting is None
    assert run.timers == {}


def test_exit_when_ends_an_enrollment_waiting_on_a_wait_too():
    run = Run(journey("  - {id: pause, wait: 5d}\n" + SEND, exit_when="[{event: Unsubscribed}]"))
    run.trigger()

    run.receive("Unsubscribed")

    assert run.ended == ("ended", "exit_rule")
    run.sleep("6d")
    assert run.sent == []


def test_exit_when_where_must_hold():
    rules = "[{event: Refund Requested, where: event.order_id == trigger.order_id}]"
    run = Run(journey(WAIT_FOR_DELIVERY, exit_when=rules))
    run.trigger(order_id="o1")

    run.receive("Refund Requested", order_id="o2")
    assert run.enrollment.is_active

    run.receive("Refund Requested", order_id="o1")
    assert run.ended == ("ended", "exit_rule")


def test_exit_when_wins_over_the_event_a_step_waits_for():
    run = Run(journey(WAIT_FOR_DELIVERY, exit_when="[{event: Order Delivered}]"))
    run.trigger(order_id="o1")

    run.receive("Order Delivered", order_id="o1")

    assert run.ended == ("ended", "exit_rule")
    assert run.sent == ["hello"]


# goal

GOAL = "{event: Order Completed, within: 30d, where: event.order_id != trigger.order_id}"


def test_goal_reached_within_its_window_ends_with_goal_reached():
    run = Run(journey(WAIT_FOR_DELIVERY, goal=GOAL))
    timer = only(run.trigger(order_id="o1").effects, ScheduleTimer)
    run.sleep("2d")

    decision = run.receive("Order Completed", order_id="o2")

    assert run.ended == ("ended", "goal_reached")
    assert run.enrollment.goal_reached_at == T0 + timedelta(days=2)
    assert CancelTimer(timer.timer_id) in decision.effects


def test_goal_reached_on_the_last_moment_of_its_window():
    run = Run(journey("  - {id: pause, wait: 60d}\n", goal=GOAL))
    run.trigger(order_id="o1")
    run.sleep("30d")

    run.receive("Order Completed", order_id="o2")

    assert run.ended == ("ended", "goal_reached")


def test_goal_not_reached_outside_its_window():
    run = Run(journey("  - {id: pause, wait: 60d}\n", goal=GOAL))
    run.trigger(order_id="o1")
    run.sleep("30d1s")

    run.receive("Order Completed", order_id="o2")

    assert run.enrollment.is_active
    assert run.enrollment.goal_reached_at is None


def test_goal_is_never_reached_by_the_trigger_event_itself():
    run = Run(journey("  - {id: pause, wait: 5d}\n", goal="{event: Order Completed, within: 30d}"))
    run.trigger(order_id="o1")
    trigger = Event(run.enrollment.trigger["id"], "Order Completed", "c1", T0, {"order_id": "o1"})

    run.apply(EventReceived(trigger))  # the engine feeds the trigger event to running enrollments too

    assert run.enrollment.is_active


def test_goal_where_must_hold():
    run = Run(journey("  - {id: pause, wait: 5d}\n", goal=GOAL))
    run.trigger(order_id="o1")

    run.receive("Order Completed", order_id="o1")  # the same order again, under another event id

    assert run.enrollment.is_active


def test_goal_without_a_window_counts_whenever_it_comes():
    run = Run(journey("  - {id: pause, wait: 999d}\n", goal="{event: Review Submitted}"))
    run.trigger()
    run.sleep("400d")

    run.receive("Review Submitted")

    assert run.ended == ("ended", "goal_reached")


def test_exit_rule_is_checked_before_the_goal():
    run = Run(journey("  - {id: pause, wait: 5d}\n", goal="{event: X}", exit_when="[{event: X}]"))
    run.trigger()

    run.receive("X")

    assert run.ended == ("ended", "exit_rule")


# an ended enrollment


def test_an_ended_enrollment_ignores_every_stimulus():
    run = Run(journey(WAIT_FOR_DELIVERY, exit_when="[{event: Refund Requested}]", goal=GOAL))
    timer = only(run.trigger().effects, ScheduleTimer)
    run.receive("Refund Requested")
    ended = run.enrollment

    for stimulus in (
        TimerFired(timer.timer_id),
        EventReceived(run.event("Order Delivered", order_id="o1")),
        EventReceived(run.event("Order Completed", order_id="o2")),
        EventReceived(run.event("Refund Requested")),
    ):
        assert run.apply(stimulus) == Decision(ended)
        assert run.enrollment is ended


# who enters: trigger, audience, re-entry


def admitted(
    text: str,
    *,
    customer: Customer = RETAIL,
    name: str = "Order Completed",
    properties=None,
    last_started_at=None,
    is_active=False,
    now=T0,
) -> bool:
    version = load_journey(text)
    event = Event("e1", name, customer.id, now, properties or {})
    return admits(
        version, customer=customer, event=event, last_started_at=last_started_at, is_active=is_active, now=now
    )


def test_only_the_trigger_event_starts_an_enrollment():
    assert admitted(journey(SEND))
    assert not admitted(journey(SEND), name="Order Shipped")


def test_trigger_where_must_hold():
    text = journey(SEND).replace(
        "{event: Order Completed}", "{event: Order Completed, where: trigger.total > 50.0}"
    )
    assert admitted(text, properties={"total": 60.0})
    assert not admitted(text, properties={"total": 40.0})
    assert not admitted(text, properties={})  # a missing field: the condition does not hold


def test_trigger_where_reads_the_customer_and_the_event():
    text = journey(SEND).replace(
        "{event: Order Completed}",
        "{event: Order Completed, where: 'customer.orders_count == 1 && event.currency == \"USD\"'}",
    )
    assert admitted(text, properties={"currency": "USD"})
    assert not admitted(text, customer=replace(RETAIL, orders_count=2), properties={"currency": "USD"})


def test_audience_must_hold():
    text = journey(SEND, audience='customer.country in ["US", "CA", "GB"]')
    assert admitted(text)
    assert not admitted(text, customer=replace(RETAIL, country="BR"))
    assert not admitted(text, customer=replace(RETAIL, country=None))


def test_reentry_never_admits_a_customer_once():
    text = journey(SEND, reentry="never")
    assert admitted(text, last_started_at=None)
    assert not admitted(text, last_started_at=T0 - timedelta(days=400), is_active=False)


def test_reentry_always_admits_again_once_the_last_enrollment_has_ended():
    text = journey(SEND, reentry="always")
    assert admitted(text, last_started_at=T0 - timedelta(minutes=1), is_active=False)
    assert not admitted(text, last_started_at=T0 - timedelta(days=400), is_active=True)


def test_reentry_after_90d_admits_again_90_days_after_the_last_entry():
    text = journey(SEND, reentry="after 90d")
    assert not admitted(text, last_started_at=T0 - timedelta(days=89, hours=23))
    assert admitted(text, last_started_at=T0 - timedelta(days=90))
    assert not admitted(text, last_started_at=T0 - timedelta(days=120), is_active=True)


def test_reentry_defaults_to_never():
    assert load_journey(journey(SEND)).journey.reentry.mode == "never"
    assert not admitted(journey(SEND), last_started_at=T0 - timedelta(days=1000))


def test_a_new_entry_is_a_new_enrollment_with_new_message_ids():
    version = load_journey(journey(SEND, reentry="always"))
    first = start(version, customer=RETAIL, event=Event("e1", "Order Completed", "c1", T0), now=T0)
    later = T0 + timedelta(days=1)
    second = start(version, customer=RETAIL, event=Event("e2", "Order Completed", "c1", later), now=later)

    assert first.enrollment.id != second.enrollment.id
    assert only(first.effects, SendMessage).message_id != only(second.effects, SendMessage).message_id


# determinism


def scenario() -> list[Decision]:
    run = Run(journey(WAIT_FOR_DELIVERY, goal=GOAL, exit_when="[{event: Refund Requested}]"))
    run.trigger(order_id="o1", total=80.0)
    run.sleep("1d")
    run.receive("Order Delivered", order_id="o2")  # ignored: another order
    run.sleep("10d")  # the timeout fires: late, then the end
    run.receive("Order Completed", order_id="o3")  # ignored: already ended
    return run.decisions


def test_the_same_inputs_give_identical_decisions():
    assert scenario() == scenario()


def test_the_same_stimulus_twice_gives_the_same_decision_and_leaves_its_input_alone():
    version = load_journey(journey(WAIT_FOR_DELIVERY))
    started = start(
        version, customer=RETAIL, event=Event("e1", "Order Completed", "c1", T0, {"order_id": "o1"}), now=T0
    ).enrollment
    delivered = EventReceived(Event("e2", "Order Delivered", "c1", T0, {"order_id": "o1"}))
    later = T0 + timedelta(days=1)

    once = advance(version, started, delivered, customer=RETAIL, now=later)
    twice = advance(version, started, delivered, customer=RETAIL, now=later)

    assert once == twice
    assert started.is_active and started.step_id == "await-delivery"


def test_wait_for_ignores_an_event_that_happened_after_the_deadline_even_before_the_timer_fired():
    run = Run(journey(WAIT_FOR_DELIVERY))
    run.trigger(order_id="o1")
    run.now = T0 + timedelta(days=11)  # a worker that lagged: the event is processed before the due timer

    run.receive("Order Delivered", order_id="o1")
    assert run.enrollment.step_id == "await-delivery"

    run.fire(run.enrollment.waiting.timer_id)
    assert run.sent == ["hello", "sorry"]


def test_wait_for_accepts_an_event_at_the_deadline_itself():
    run = Run(journey(WAIT_FOR_DELIVERY))
    run.trigger(order_id="o1")
    run.now = T0 + timedelta(days=10)

    run.receive("Order Delivered", order_id="o1")

    assert run.sent == ["hello", "tips"]

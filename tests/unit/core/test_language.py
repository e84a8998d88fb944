"""The journey language beyond the core: splits, holdouts, local-time waits, several events, updates,
webhooks, escalations, goals that do not end, exit conditions, concurrent re-entry, undeliverable sends."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.effects import CallWebhook, CancelTimer, OpenTask, SendMessage, UpdateCustomer
from onboardflow.core.machine import admits, is_held_out, start
from onboardflow.core.model import (
    MESSAGE_UNDELIVERABLE,
    TASK_RESOLVED,
    WEBHOOK_FAILED,
    WEBHOOK_SUCCEEDED,
    Customer,
    Event,
)
from onboardflow.core.validation import JourneyInvalid, load_journey

from .driver import RETAIL, T0, Run, journey, only

# split


SPLIT = """\
  - id: ab
    split:
      - {weight: 70, goto: a, name: control-copy}
      - {weight: 30, goto: b}
  - id: a
    send: {channel: email, template: a}
    goto: done
  - id: b
    send: {channel: email, template: b}
  - {id: done, exit: completed}
"""


def test_split_weights_hold_within_a_point_over_100000_customers():
    version = load_journey(journey(SPLIT))
    paths = Counter()
    for number in range(100_000):
        customer = Customer(id=f"c{number}")
        order = Event(f"e{number}", "Order Completed", customer.id, T0)
        paths[start(version, customer=customer, event=order, now=T0).enrollment.paths["ab"]] += 1

    assert abs(paths["control-copy"] / 100_000 - 0.70) < 0.01
    assert abs(paths["b"] / 100_000 - 0.30) < 0.01


def test_a_customer_takes_the_same_path_every_time_and_it_is_recorded():
    first, again = Run(journey(SPLIT)), Run(journey(SPLIT))
    first.trigger()
    again.trigger(order_id="o2")

    assert first.enrollment.paths == again.enrollment.paths
    label = first.enrollment.paths["ab"]
    assert first.sent == (["a"] if label == "control-copy" else ["b"])


@pytest.mark.parametrize(("paths", "field", "says"), [
    ("[{weight: 1, goto: a}]", "split", "at least 2"),
    ("[{weight: 0, goto: a}, {weight: 1, goto: a}]", "split.0.weight", "greater than 0"),
])
def test_split_needs_two_paths_with_positive_weights(paths, field, says):
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey(f"  - id: ab\n    split: {paths}\n  - {{id: a, exit: completed}}\n"))
    [problem] = raised.value.problems
    assert (problem.step_id, problem.field) == ("ab", field) and says in problem.message


def test_split_to_a_missing_step_names_the_path():
    text = journey("  - id: ab\n    split: [{weight: 1, goto: a}, {weight: 1, goto: nowhere}]\n  - {id: a, exit: completed}\n")
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(text, source="j.yaml")
    [problem] = raised.value.problems
    assert (problem.step_id, problem.field) == ("ab", "split.1.goto")
    assert "'nowhere', which does not exist" in problem.message


# holdout


def test_holdout_share_holds_within_a_point_over_100000_customers():
    version = load_journey(journey("  - {id: hello, send: {channel: email, template: hello}}\n", holdout="10%"))
    held = sum(is_held_out(version, f"c{number}") for number in range(100_000))
    assert abs(held / 100_000 - 0.10) < 0.01


def test_a_held_out_customer_walks_the_journey_but_is_sent_nothing():
    text = journey(
        """\
        - {id: hello, send: {channel: email, template: hello}}
        - {id: tag, update: {add_tags: [welcomed]}}
        - {id: settle, wait: 1d}
        - {id: hand-off, escalate: {queue: cs, reason: check in}}
        - {id: tips, send: {channel: email, template: tips}}
        - {id: linger, wait: 10d}
        """,
        holdout="100%",
        goal="{event: Order Completed, within: 30d}",
    )
    run = Run(text)
    run.trigger()
    run.sleep("2d")
    run.receive("Order Completed", order_id="o2")

    assert run.enrollment.group == "holdout"
    assert [visit.step_id for visit in run.enrollment.history] == ["hello", "tag", "settle", "hand-off", "tips",
                                                                    "linger"]
    assert not [e for e in run.effects if isinstance(e, SendMessage | UpdateCustomer | OpenTask | CallWebhook)]
    assert run.enrollment.goal_reached_at == run.now  # measured like everyone else


def test_without_holdout_nobody_is_held_out():
    version = load_journey(journey("  - {id: hello, send: {channel: email, template: hello}}\n"))
    assert not any(is_held_out(version, f"c{number}") for number in range(1000))


@pytest.mark.parametrize(("value", "says"), [("ten%", "write a percentage"), ("120%", "less than or equal to 100")])
def test_bad_holdout_says_how_to_write_one(value, says):
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - {id: a, wait: 1d}\n", holdout=value))
    [problem] = raised.value.problems
    assert problem.field == "holdout" and says in problem.message


# wait_until


def wait_until(time: str, days: str = "") -> str:
    spec = f"{{time: '{time}'{', days: ' + days if days else ''}}}"
    return f"  - id: later\n    wait_until: {spec}\n  - {{id: hello, send: {{channel: email, template: hello}}}}\n"


def due_of(run: Run) -> datetime:
    return run.enrollment.waiting.until


def test_wait_until_the_next_weekday_morning_in_the_customers_zone():
    run = Run(journey(wait_until("10:00", "[mon, tue, wed, thu, fri]")),
              customer=replace(RETAIL, timezone="America/New_York"))
    run.now = datetime(2026, 1, 9, 20, 0, tzinfo=UTC)  # Friday 15:00 in New York
    run.trigger()

    assert due_of(run) == datetime(2026, 1, 12, 15, 0, tzinfo=UTC)  # Monday 10:00 EST
    run.sleep("3d")
    assert run.sent == ["hello"]


def test_wait_until_keeps_the_local_hour_across_the_spring_change():
    run = Run(journey(wait_until("10:00", "[mon]")), customer=replace(RETAIL, timezone="America/New_York"))
    run.now = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)  # Saturday noon EST; clocks go forward on Sunday 8 March
    run.trigger()
    assert due_of(run) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # Monday 10:00 EDT (UTC-4), not 15:00


def test_a_wall_time_the_spring_change_skips_lands_just_after_the_gap():
    run = Run(journey(wait_until("02:30")), customer=replace(RETAIL, timezone="America/New_York"))
    run.now = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST on the night of the change
    run.trigger()
    assert due_of(run) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT: 02:30 does not exist


def test_a_wall_time_the_autumn_change_repeats_is_the_first_of_the_two():
    run = Run(journey(wait_until("01:30")), customer=replace(RETAIL, timezone="America/New_York"))
    run.now = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT on the night clocks go back
    run.trigger()
    assert due_of(run) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, an hour before 01:30 EST


def test_wait_until_europe_across_the_autumn_change():
    run = Run(journey(wait_until("09:00", "[mon]")), customer=replace(RETAIL, timezone="Europe/London"))
    run.now = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)  # Friday, BST; clocks go back on Sunday 25 October
    run.trigger()
    assert due_of(run) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # Monday 09:00 GMT


@pytest.mark.parametrize("zone", [None, "Mars/Olympus_Mons"])
def test_without_a_usable_zone_the_store_default_applies(zone):
    run = Run(journey(wait_until("10:00")), customer=replace(RETAIL, timezone=zone), default_zone="Europe/Berlin")
    run.now = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    run.trigger()
    assert due_of(run) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_wait_until_at_that_very_minute_goes_on_at_once():
    run = Run(journey(wait_until("09:00")), customer=replace(RETAIL, timezone="UTC"))
    run.trigger()  # T0 is 09:00 UTC
    assert due_of(run) == T0


@pytest.mark.parametrize(("spec", "field"), [("{time: '25:00'}", "wait_until.time"),
                                              ("{time: '10:00', days: [monday]}", "wait_until.days.0"),
                                              ("{time: '10:00', days: []}", "wait_until.days")])
def test_bad_wait_until_names_the_field(spec, field):
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey(f"  - id: later\n    wait_until: {spec}\n"))
    [problem] = raised.value.problems
    assert (problem.step_id, problem.field) == ("later", field)


@pytest.mark.parametrize(("written", "says"), [
    ("10:00", 'write the time in quotes, e.g. "10:00": without them YAML reads 10:00 as a number'),
    ("'9:30'", "'9:30' is not a time of day: write HH:MM, 24-hour"),
])
def test_a_time_of_day_written_wrong_says_how_to_write_it(written, says):
    for text in (journey(f"  - id: later\n    wait_until: {{time: {written}}}\n"),
                 journey("  - {id: a, wait: 1d}\n", policies=f"{{quiet_hours: {{from: {written}, to: '08:00'}}}}")):
        with pytest.raises(JourneyInvalid) as raised:
            load_journey(text)
        [problem] = raised.value.problems
        assert problem.message.startswith(says)


# wait_for several events

ANY_OF = """\
  - id: await
    wait_for:
      events:
        - {event: Order Delivered, where: event.order_id == trigger.order_id, goto: tips}
        - {event: Delivery Failed, goto: sorry}
      timeout: 10d
    on_timeout: late
  - {id: tips, send: {channel: email, template: tips}, goto: done}
  - {id: sorry, send: {channel: email, template: sorry}, goto: done}
  - {id: late, send: {channel: email, template: late}}
  - {id: done, exit: completed}
"""


def test_the_first_matching_event_decides_the_path():
    delivered, failed, other_order = Run(journey(ANY_OF)), Run(journey(ANY_OF)), Run(journey(ANY_OF))
    for run in (delivered, failed, other_order):
        run.trigger()
        run.sleep("1d")
    delivered.receive("Order Delivered", order_id="o1")
    failed.receive("Delivery Failed", order_id="o1")
    other_order.receive("Order Delivered", order_id="o7")

    assert delivered.sent == ["tips"] and failed.sent == ["sorry"]
    assert other_order.sent == [] and other_order.enrollment.waiting.events == ("Order Delivered", "Delivery Failed")
    assert isinstance(delivered.decisions[-1].effects[0], CancelTimer)


def test_when_no_event_comes_the_timeout_path_is_taken():
    run = Run(journey(ANY_OF))
    run.trigger()
    run.sleep("11d")
    assert run.sent == ["late"] and run.ended == ("ended", "completed")


def test_wait_for_takes_one_event_or_several_not_both():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - id: w\n    wait_for: {event: A, events: [{event: B}], timeout: 1d}\n"))
    assert "either event" in raised.value.problems[0].message


# update


def test_update_sets_traits_and_tags_that_the_next_steps_see():
    text = journey(
        """\
        - id: mark
          update: {set: {onboarding_stage: activated}, add_tags: [vip, new], remove_tags: [prospect]}
        - id: route
          branch:
            - {when: 'customer.onboarding_stage == "activated" && "vip" in customer.tags', goto: vip}
          default: plain
        - {id: vip, send: {channel: email, template: vip}, goto: done}
        - {id: plain, send: {channel: email, template: plain}}
        - {id: done, exit: completed}
        """
    )
    run = Run(text, customer=replace(RETAIL, traits={"type": "retail", "tags": ["prospect"], "stale": 1}))
    run.trigger()

    update = only(run.effects, UpdateCustomer)
    assert (update.set_traits, update.add_tags, update.remove_tags) == (
        {"onboarding_stage": "activated"}, ("vip", "new"), ("prospect",))
    assert run.sent == ["vip"]
    assert run.customer.traits["tags"] == ["vip", "new"]


def test_update_that_does_nothing_is_refused():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - id: mark\n    update: {}\n"))
    assert "at least one of set, unset, add_tags, remove_tags" in raised.value.problems[0].message


# webhook

WEBHOOK = """\
  - id: crm
    webhook:
      url: https://crm.example/hooks/onboard
      body: '{"email": "{{ customer.email }}", "order": "{{ trigger.order_id }}"}'
      secret: CRM_WEBHOOK_SECRET
      map: {loyalty_tier: response.tier, points: response.points * 2}
    on_error: fallback
  - id: route
    branch:
      - {when: 'customer.loyalty_tier == "gold"', goto: gold}
    default: done
  - {id: gold, send: {channel: email, template: gold}, goto: done}
  - {id: fallback, send: {channel: email, template: fallback}}
  - {id: done, exit: completed}
"""


def test_webhook_step_asks_for_the_call_and_waits_for_its_answer():
    run = Run(journey(WEBHOOK))
    run.trigger()

    call = only(run.effects, CallWebhook)
    assert (call.url, call.method, call.secret, call.retries) == ("https://crm.example/hooks/onboard", "POST",
                                                                 "CRM_WEBHOOK_SECRET", 3)
    assert call.scope["customer"]["email"] == "ana@example.com" and call.scope["trigger"]["order_id"] == "o1"
    assert run.enrollment.waiting.events == (WEBHOOK_SUCCEEDED, WEBHOOK_FAILED)
    assert run.enrollment.waiting.ref == call.call_id


def test_a_successful_answer_is_mapped_into_traits_before_the_journey_goes_on():
    run = Run(journey(WEBHOOK))
    run.trigger()
    call = only(run.effects, CallWebhook)
    run.receive(WEBHOOK_SUCCEEDED, call_id=call.call_id, status=200, response={"tier": "gold", "points": 21})

    update = only(run.effects, UpdateCustomer)
    assert update.set_traits == {"loyalty_tier": "gold", "points": 42}
    assert run.sent == ["gold"] and run.ended == ("ended", "completed")


def test_a_failed_call_takes_the_error_path_and_an_answer_for_another_call_is_ignored():
    run = Run(journey(WEBHOOK))
    run.trigger()
    call = only(run.effects, CallWebhook)
    run.receive(WEBHOOK_FAILED, call_id="call_someone-else.0", error="500")
    assert run.enrollment.step_id == "crm"
    run.receive(WEBHOOK_FAILED, call_id=call.call_id, status=500, error="server error")
    assert run.sent == ["fallback"]


def test_a_webhook_waits_at_most_a_minute_for_an_answer():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - {id: w, webhook: {url: 'https://x.example', timeout: 2m}}\n"))
    [problem] = raised.value.problems
    assert (problem.step_id, problem.field) == ("w", "webhook.timeout")
    assert problem.message.startswith("timeout is at most 1m: a worker holds the call")
    assert load_journey(journey("  - {id: w, webhook: {url: 'https://x.example', timeout: 60s}}\n"))


def test_webhook_map_may_read_the_response_but_no_other_condition_may():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - {id: w, webhook: {url: 'https://x.example', map: {a: answer.x}}}\n"
                             "  - id: b\n    branch: [{when: response.ok, goto: c}]\n  - {id: c, exit: completed}\n"))
    found = {(problem.step_id, problem.field) for problem in raised.value.problems}
    assert found == {("w", "webhook.map.a"), ("b", "branch.0.when")}


# escalate

ESCALATE = """\
  - id: hand-off
    escalate:
      queue: support
      reason: delivery late
      priority: high
      due: 48h
      context: {note: call the customer}
      wait: true
      on_outcome: {refunded: sorry}
      on_overdue: chase
  - {id: thanks, send: {channel: email, template: thanks}, goto: done}
  - {id: sorry, send: {channel: email, template: sorry}, goto: done}
  - {id: chase, send: {channel: email, template: chase}}
  - {id: done, exit: completed}
"""


def test_escalate_opens_a_task_with_its_context_and_due_time():
    run = Run(journey(ESCALATE))
    run.trigger()

    task = only(run.effects, OpenTask)
    assert (task.queue, task.reason, task.priority, task.due_at) == ("support", "delivery late", "high",
                                                                      T0 + timedelta(hours=48))
    assert task.context["note"] == "call the customer" and task.context["trigger"]["order_id"] == "o1"
    assert run.enrollment.waiting.ref == task.task_id


@pytest.mark.parametrize(("outcome", "sent"), [("refunded", ["sorry"]), ("resolved", ["thanks"])])
def test_the_resolution_outcome_picks_the_way_on(outcome, sent):
    run = Run(journey(ESCALATE))
    run.trigger()
    task = only(run.effects, OpenTask)
    run.sleep("5h")
    run.receive(TASK_RESOLVED, task_id="task_other.1", outcome="refunded")
    assert run.sent == []
    run.receive(TASK_RESOLVED, task_id=task.task_id, outcome=outcome)
    assert run.sent == sent


def test_an_unresolved_task_goes_the_overdue_way_at_its_due_time():
    run = Run(journey(ESCALATE))
    run.trigger()
    run.sleep("47h")
    assert run.sent == []
    run.sleep("1h")
    assert run.sent == ["chase"]


def test_without_wait_the_journey_goes_straight_on():
    run = Run(journey("  - {id: h, escalate: {queue: cs, reason: vip}}\n  - {id: t, send: {channel: email, template: t}}\n"))
    run.trigger()
    assert only(run.effects, OpenTask).due_at == T0 + timedelta(hours=48)  # the default due time
    assert run.sent == ["t"]


def test_outcome_paths_without_wait_are_refused():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - {id: h, escalate: {queue: cs, reason: vip, on_outcome: {ok: h}}}\n"))
    assert "need wait: true" in raised.value.problems[0].message


# goal


def test_a_goal_with_exit_false_is_recorded_once_and_the_journey_goes_on():
    text = journey("  - {id: settle, wait: 3d}\n  - {id: hello, send: {channel: email, template: hello}}\n",
                   goal="{event: Order Completed, within: 30d, exit: false}")
    run = Run(text)
    run.trigger()
    run.sleep("1d")
    run.receive("Order Completed", order_id="o2")
    converted = run.now
    run.sleep("1d")
    run.receive("Order Completed", order_id="o3")

    assert run.enrollment.goal_reached_at == converted
    run.sleep("2d")
    assert run.sent == ["hello"] and run.ended == ("ended", "completed")


def test_the_conversion_window_is_measured_from_entry():
    text = journey("  - {id: settle, wait: 60d}\n", goal="{event: Order Completed, within: 30d}")
    late = Run(text)
    late.trigger()
    late.sleep("31d")
    late.receive("Order Completed", order_id="o2")
    assert late.enrollment.is_active and late.enrollment.goal_reached_at is None


# exit rules


def test_an_exit_condition_ends_the_enrollment_on_any_stimulus():
    text = journey("  - {id: settle, wait: 3d}\n  - {id: hello, send: {channel: email, template: hello}}\n",
                   exit_when="[{where: 'customer.orders_count > 1'}]")
    on_event, on_timer = Run(text), Run(text)
    for run in (on_event, on_timer):
        run.trigger()
        run.customer = replace(run.customer, orders_count=2)
    on_event.receive("Page Viewed")
    on_timer.sleep("3d")

    assert on_event.ended == ("ended", "exit_rule") and on_timer.ended == ("ended", "exit_rule")
    assert on_event.sent == [] and on_timer.sent == []
    assert load_journey(text).reacts_to("Page Viewed")


def test_an_exit_rule_needs_an_event_or_a_condition():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - {id: a, wait: 1d}\n", exit_when="[{}]"))
    assert "needs an event, a where condition, or both" in raised.value.problems[0].message


# re-entry


def test_concurrent_reentry_admits_a_customer_who_is_already_in():
    for rule, admitted in (("always", False), ("always concurrent", True)):
        version = load_journey(journey("  - {id: a, wait: 1d}\n", reentry=rule))
        order = Event("e2", "Order Completed", "c1", T0)
        assert admits(version, customer=RETAIL, event=order, last_started_at=T0 - timedelta(hours=1),
                      is_active=True, now=T0) is admitted


# undeliverable

UNDELIVERABLE = """\
  - id: hello
    send: {channel: [sms, email], template: hello}
    on_undeliverable: no-address
  - {id: settle, wait: 5d}
  - {id: tips, send: {channel: email, template: tips}, goto: done}
  - id: no-address
    escalate: {queue: support, reason: no way to reach the customer}
  - {id: done, exit: completed}
"""


def test_an_undeliverable_message_moves_the_enrollment_to_its_error_path_wherever_it_is():
    run = Run(journey(UNDELIVERABLE))
    run.trigger()
    message = only(run.effects, SendMessage)
    run.sleep("1h")
    run.receive(MESSAGE_UNDELIVERABLE, message_id=message.message_id, enrollment_id="enr_other",
                step_id="hello", reason="no address")
    assert run.enrollment.step_id == "settle"
    run.receive(MESSAGE_UNDELIVERABLE, message_id=message.message_id, enrollment_id=run.enrollment.id,
                step_id="hello", reason="no channel of sms, email can reach customer c1")

    assert only(run.effects, OpenTask).reason == "no way to reach the customer"
    assert run.ended == ("ended", "completed") and not run.timers  # the wait's timer was cancelled


def test_a_webhook_url_that_is_not_a_web_address_says_how_to_write_one():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey("  - {id: w, webhook: {url: 'crm.example/hook'}}\n"))
    [problem] = raised.value.problems
    assert (problem.step_id, problem.field) == ("w", "webhook.url")
    assert problem.message == "'crm.example/hook' is not a web address: start it with https:// (or http://)"


def test_a_zone_name_that_sends_zoneinfo_into_recursion_falls_back_to_the_store_zone():
    run = Run(journey(wait_until("10:00")), customer=replace(RETAIL, timezone="a/" * 2000 + "b"),
              default_zone="Europe/Berlin")
    run.now = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    run.trigger()
    assert due_of(run) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

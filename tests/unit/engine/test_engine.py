"""The engine on the memory store and a virtual clock: journeys end to end, duplicates, order, exits."""

from __future__ import annotations

from datetime import timedelta

from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.store.memory import MemoryStore

from .shop import EMAIL_ONLY, T0, WHOLESALE

JOURNEY = "first-purchase-welcome"


def signup_journey(reentry: str, *, ends_at_once: bool = False) -> str:
    """A journey started by Signed Up; it waits a day unless `ends_at_once`."""
    wait = "" if ends_at_once else "  - {id: pause, wait: 1d}\n"
    return (
        f"id: hello\nname: Hello\nowner: growth@shop.example\ntrigger: {{event: Signed Up}}\n"
        f"reentry: {reentry}\nsteps:\n"
        f"  - id: hi\n    send: {{channel: email, template: hi}}\n{wait}"
    )


# the example journey, end to end


class TestFirstPurchaseWelcome:
    def test_a_first_order_sends_the_welcome_and_waits_for_delivery(self, examples):
        result = examples.ingest(examples.order())

        assert (result.events, result.started, result.messages) == (1, 1, 1)
        enrollment = examples.enrollment()
        assert enrollment.step_id == "await-delivery"
        assert enrollment.waiting.events == ("Order Delivered",)
        assert enrollment.waiting.until == T0 + timedelta(days=10)
        assert examples.sent() == ["welcome"]
        assert examples.store.counts()["timers"] == 1

    def test_delivery_of_the_trigger_order_resumes_with_usage_tips(self, examples):
        examples.ingest(examples.order(order_id="o1"))
        examples.after(days=2)

        examples.ingest(examples.delivered(order_id="o1"))

        enrollment = examples.enrollment()
        assert enrollment.step_id == "settle"
        assert enrollment.waiting.until == T0 + timedelta(days=7)
        assert examples.sent() == ["welcome", "usage-tips"]
        [tips] = [row.message for row in examples.store.messages("c1") if row.message.step_id == "usage-tips"]
        assert tips.channels == ("whatsapp", "sms", "email")
        assert tips.at == T0 + timedelta(days=2)

    def test_delivery_of_another_order_does_not_resume(self, examples):
        examples.ingest(examples.order(order_id="o1"))

        examples.ingest(examples.delivered(order_id="o-other"))

        assert examples.enrollment().step_id == "await-delivery"
        assert examples.sent() == ["welcome"]

    def test_the_settle_wait_fires_only_when_due(self, examples):
        examples.ingest(examples.order())
        examples.ingest(examples.delivered())
        examples.after(days=4, hours=23)

        assert examples.engine.fire_due_timers().timers_fired == 0
        assert examples.enrollment().step_id == "settle"

        examples.after(hours=1)
        assert examples.engine.fire_due_timers().timers_fired == 1

    def test_a_retail_customer_gets_the_review_request_and_completes(self, examples):
        examples.ingest(examples.order())
        examples.after(days=3)
        examples.ingest(examples.delivered())
        examples.after(days=5)

        result = examples.engine.fire_due_timers()

        assert result.timers_fired == 1
        assert examples.sent() == ["welcome", "usage-tips", "review-request"]
        enrollment = examples.enrollment()
        assert (enrollment.status, enrollment.exit_reason) == ("ended", "completed")
        assert [visit.step_id for visit in enrollment.history] == [
            "welcome", "await-delivery", "usage-tips", "settle", "route", "review-request", "done"
        ]
        assert enrollment.ended_at == T0 + timedelta(days=8)
        counts = examples.store.counts()
        assert (counts["active_enrollments"], counts["timers"], counts["messages"]) == (0, 0, 3)

    def test_a_wholesale_customer_is_routed_to_the_account_manager(self, examples):
        examples.ingest(examples.order(profile=WHOLESALE))
        examples.ingest(examples.delivered())
        examples.after(days=5)

        examples.engine.fire_due_timers()

        assert examples.sent() == ["welcome", "usage-tips", "account-manager"]
        enrollment = examples.enrollment()
        assert enrollment.exit_reason == "completed"
        assert "review-request" not in [visit.step_id for visit in enrollment.history]

    def test_no_delivery_within_ten_days_takes_the_late_delivery_path(self, examples):
        examples.ingest(examples.order())
        examples.after(days=10)

        examples.engine.fire_due_timers()

        assert examples.sent() == ["welcome", "late-delivery", "usage-tips"]
        assert examples.enrollment().step_id == "settle"

    def test_a_delivery_after_the_timeout_changes_nothing(self, examples):
        examples.ingest(examples.order())
        examples.after(days=10)
        examples.engine.fire_due_timers()
        examples.after(days=1)

        examples.ingest(examples.delivered())

        assert examples.sent() == ["welcome", "late-delivery", "usage-tips"]

    def test_a_customer_outside_the_audience_is_not_enrolled(self, examples):
        result = examples.ingest(examples.order(profile={**EMAIL_ONLY, "country": "BR"}))

        assert result.started == 0
        assert examples.store.enrollments_of("c1") == []

    def test_only_the_first_order_starts_the_journey(self, examples):
        examples.ingest(examples.order(customer_id="c2", order_id="o1"))
        examples.ingest(examples.event("Refund Requested", "c2"))

        result = examples.ingest(examples.order(customer_id="c2", order_id="o2"))

        assert result.started == 0
        assert len(examples.store.enrollments_of("c2")) == 1


# duplicates


def test_the_same_events_ingested_twice_write_nothing_new(examples):
    events = [examples.order("c1"), examples.order("c2", profile=WHOLESALE), examples.delivered("c1")]
    first = examples.engine.ingest(events)
    before = examples.store.counts()
    messages_before = examples.store.messages()

    again = examples.engine.ingest(events)

    assert (first.events, first.duplicates) == (3, 0)
    assert (again.events, again.duplicates, again.started, again.messages) == (0, 3, 0, 0)
    assert examples.store.counts() == before
    assert examples.store.messages() == messages_before
    assert examples.store.customer("c1").events_count == 2


def test_duplicates_are_dropped_even_after_the_journey_moved_on(examples):
    order = examples.order()
    examples.ingest(order)
    examples.after(days=10)
    examples.engine.fire_due_timers()
    before = examples.store.counts()

    result = examples.ingest(order)

    assert result.duplicates == 1
    assert examples.store.counts() == before


def test_duplicate_ids_inside_one_batch_count_once(examples):
    order = examples.order()

    result = examples.engine.ingest([order, order, examples.delivered(), order])

    assert (result.events, result.duplicates, result.started) == (2, 2, 1)
    assert examples.store.customer_events("c1") == [(order.id, 1), ("e2", 2)]
    assert examples.sent() == ["welcome", "usage-tips"]


def test_an_event_id_repeated_with_other_content_is_still_a_duplicate(examples):
    examples.ingest(examples.order(id="evt_1"))

    result = examples.ingest(examples.delivered(id="evt_1"))

    assert result.duplicates == 1
    assert examples.enrollment().step_id == "await-delivery"


# re-entry


class TestReentry:
    def test_never_lets_a_customer_in_only_once(self, shop):
        shop.publish(signup_journey("never", ends_at_once=True))
        shop.ingest(shop.event("Signed Up"))
        shop.after(days=400)

        result = shop.ingest(shop.event("Signed Up"))

        assert result.started == 0
        assert len(shop.store.enrollments_of("c1")) == 1

    def test_always_does_not_start_a_second_while_the_first_runs(self, shop):
        shop.publish(signup_journey("always"))
        shop.ingest(shop.event("Signed Up"))

        assert shop.ingest(shop.event("Signed Up")).started == 0

    def test_always_starts_again_once_the_first_has_ended(self, shop):
        shop.publish(signup_journey("always"))
        shop.ingest(shop.event("Signed Up"))
        shop.after(days=1)
        shop.engine.fire_due_timers()

        assert shop.ingest(shop.event("Signed Up")).started == 1
        assert [e.status for e in shop.store.enrollments_of("c1")] == ["ended", "active"]

    def test_always_starts_one_per_trigger_within_a_batch_when_each_ends_at_once(self, shop):
        shop.publish(signup_journey("always", ends_at_once=True))

        result = shop.engine.ingest([shop.event("Signed Up"), shop.event("Signed Up")])

        assert result.started == 2
        assert len(shop.store.messages("c1")) == 2

    def test_always_starts_once_within_a_batch_while_the_first_still_runs(self, shop):
        shop.publish(signup_journey("always"))

        result = shop.engine.ingest([shop.event("Signed Up"), shop.event("Signed Up")])

        assert result.started == 1

    def test_after_a_window_waits_that_long_since_the_last_entry(self, examples):
        examples.ingest(examples.event("Signed Up", customer=EMAIL_ONLY))
        examples.after(days=30)
        examples.engine.fire_due_timers()  # the login never came: nudged, and done
        assert examples.enrollment(journey_id="signup-activation").status == "ended"

        assert examples.ingest(examples.event("Signed Up")).started == 0

        examples.after(days=60)
        assert examples.ingest(examples.event("Signed Up")).started == 1
        assert len(examples.store.enrollments_of("c1")) == 2


# per-customer order


def test_events_are_applied_in_arrival_order_per_customer(examples):
    late, early = examples.order("c1", at=T0 + timedelta(hours=1)), examples.event("Page Viewed", "c1", at=T0)
    other = examples.order("c2")

    examples.engine.ingest([late, other, early])
    examples.ingest(examples.delivered("c1"))

    assert examples.store.customer_events("c1") == [(late.id, 1), (early.id, 2), ("e4", 3)]
    assert examples.store.customer_events("c2") == [(other.id, 1)]
    assert examples.store.customer("c1").events_count == 3


def test_an_order_then_its_delivery_in_one_batch_moves_the_enrollment_on(examples):
    examples.engine.ingest([examples.order(), examples.delivered()])

    assert examples.sent() == ["welcome", "usage-tips"]


def test_a_delivery_before_its_order_in_one_batch_is_not_waited_for(examples):
    delivered = examples.delivered()

    examples.engine.ingest([delivered, examples.order()])

    assert examples.sent() == ["welcome"]
    assert examples.enrollment().step_id == "await-delivery"


# exits and goals


def test_an_exit_rule_ends_the_enrollment_and_cancels_its_timer(examples):
    examples.ingest(examples.order())
    assert examples.store.counts()["timers"] == 1

    examples.ingest(examples.event("Refund Requested", order_id="o1"))

    enrollment = examples.enrollment()
    assert (enrollment.status, enrollment.exit_reason) == ("ended", "exit_rule")
    assert examples.store.counts()["timers"] == 0
    examples.after(days=30)
    assert examples.engine.fire_due_timers().timers_fired == 0
    assert examples.sent() == ["welcome"]


def test_an_exit_rule_during_a_wait_cancels_the_wait(examples):
    examples.ingest(examples.order(), examples.delivered())
    assert examples.enrollment().step_id == "settle"

    examples.ingest(examples.event("Refund Requested"))

    assert examples.store.counts()["timers"] == 0
    assert examples.enrollment().exit_reason == "exit_rule"


def test_a_second_order_within_thirty_days_reaches_the_goal(examples):
    examples.ingest(examples.order(order_id="o1"))
    examples.after(days=3)

    repeat = examples.order(order_id="o2", profile=None)
    examples.ingest(repeat)

    enrollment = examples.enrollment()
    assert (enrollment.status, enrollment.exit_reason) == ("ended", "goal_reached")
    assert enrollment.goal_reached_at == repeat.at
    assert examples.store.counts()["timers"] == 0
    assert examples.sent() == ["welcome"]


def test_the_trigger_order_again_does_not_count_as_the_goal(examples):
    examples.ingest(examples.order(order_id="o1"))

    examples.ingest(examples.order(order_id="o1", profile=None))

    assert examples.enrollment().is_active


# the queue and the worker round


def test_work_processes_queued_events_and_dequeues_them(examples):
    assert examples.engine.enqueue([examples.order("c1"), examples.order("c2")]) == 2
    assert examples.store.counts()["queued"] == 2

    result = examples.engine.work()

    assert (result.events, result.started, result.messages) == (2, 2, 2)
    counts = examples.store.counts()
    assert (counts["queued"], counts["events"], counts["enrollments"]) == (0, 2, 2)
    assert examples.engine.work().events == 0


def test_enqueue_skips_events_already_queued_or_processed(examples):
    order = examples.order()
    examples.engine.enqueue([order])
    assert examples.engine.enqueue([order]) == 0
    examples.engine.work()

    assert examples.engine.enqueue([order]) == 0
    assert examples.store.counts()["queued"] == 0


def test_work_fires_due_timers_after_the_queued_events(examples):
    examples.ingest(examples.order("c1"), examples.order("c2"))
    examples.after(days=10)
    examples.engine.enqueue([examples.event("Refund Requested", "c1")])

    result = examples.engine.work()

    assert (result.events, result.timers_fired) == (1, 1)
    assert examples.enrollment("c1").exit_reason == "exit_rule"  # the refund came first: no timeout for c1
    assert examples.sent("c1") == ["welcome"]
    assert examples.sent("c2") == ["welcome", "late-delivery", "usage-tips"]


# replay and the virtual clock


def test_replay_fires_a_timer_at_its_due_time_between_events(examples):
    order = examples.order(at=T0)
    late = examples.delivered(at=T0 + timedelta(days=12))

    result = examples.engine.replay([late, order])

    assert (result.events, result.timers_fired) == (2, 1)
    rows = examples.store.messages("c1")
    assert [(row.message.step_id, row.message.at) for row in rows] == [
        ("welcome", T0),
        ("late-delivery", T0 + timedelta(days=10)),
        ("usage-tips", T0 + timedelta(days=10)),
    ]
    assert examples.clock.now() == late.at


def test_replay_takes_the_timeout_branch_before_a_later_exit(examples):
    order = examples.order(at=T0)
    refund = examples.event("Refund Requested", at=T0 + timedelta(days=11))

    examples.engine.replay([order, refund])

    assert examples.sent() == ["welcome", "late-delivery", "usage-tips"]
    enrollment = examples.enrollment()
    assert (enrollment.exit_reason, enrollment.ended_at) == ("exit_rule", refund.at)


def test_replay_runs_each_event_at_its_own_time(examples):
    order = examples.order(at=T0)
    delivered = examples.delivered(at=T0 + timedelta(days=2, hours=3))

    examples.engine.replay([order, delivered])

    rows = examples.store.messages("c1")
    assert [(row.message.step_id, row.message.at) for row in rows] == [
        ("welcome", T0), ("usage-tips", delivered.at)
    ]
    assert examples.enrollment().waiting.until == delivered.at + timedelta(days=5)


def test_replay_of_many_customers_matches_event_by_event_ingest(examples):
    stream = []
    for number in range(30):
        start = T0 + timedelta(hours=7 * number)
        customer = f"c{number}"
        stream.append(examples.order(customer, f"o{number}", at=start))
        if number % 3:  # two in three delivered, some of them after the ten-day timeout
            stream.append(examples.delivered(customer, f"o{number}", at=start + timedelta(days=number % 14)))
    reference = Engine(MemoryStore(), clock=VirtualClock(T0))
    for version in examples.engine.catalog.live:
        reference.publish(version)
    for event in sorted(stream, key=lambda e: e.at):
        reference.run_timers_until(event.at)
        reference.ingest([event], at_event_time=True)

    examples.engine.replay(stream)

    def outcome(store):
        return sorted((row.message.customer_id, row.message.step_id, row.message.at)
                      for row in store.messages())

    assert outcome(examples.store) == outcome(reference.store)
    assert any(step == "late-delivery" for _, step, _ in outcome(examples.store))


def test_run_timers_until_fires_each_timer_at_its_due_time(examples):
    examples.ingest(examples.order(), examples.delivered())
    moment = T0 + timedelta(days=30)

    result = examples.engine.run_timers_until(moment)

    assert result.timers_fired == 1
    rows = examples.store.messages("c1")
    [review] = [row.message for row in rows if row.message.step_id == "review-request"]
    assert review.at == T0 + timedelta(days=5)
    assert examples.clock.now() == moment


def test_publishing_the_same_journey_again_keeps_its_version(examples):
    [version] = [v for v in examples.engine.catalog.live if v.id == JOURNEY]

    stored = examples.engine.publish(version)

    assert stored.version == 1
    assert len(examples.engine.catalog.live) == 2

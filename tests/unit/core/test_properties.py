"""Invariants of the state machine, under random sequences of events and timers against one journey.

Whatever customers do and whenever timers fire: a message id is never made twice, an ended
enrollment never changes, an enrollment has at most one pending timer, and effects happen at `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from onboardflow.core.effects import CancelTimer, Decision, EndEnrollment, ScheduleTimer, SendMessage
from onboardflow.core.machine import EventReceived, TimerFired, admits, advance, start
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.core.validation import load_journey

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

JOURNEY = load_journey(
    """\
id: invariants
name: Every step kind, a loop through a wait, re-entry
owner: qa@shop.example
trigger: {event: Order Completed}
reentry: always
exit_when: [{event: Refund Requested, where: event.order_id == trigger.order_id}]
goal: {event: Order Completed, within: 30d, where: event.order_id != trigger.order_id}
steps:
  - id: welcome
    send: {channel: email, template: welcome}
  - id: await-delivery
    wait_for: {event: Order Delivered, where: event.order_id == trigger.order_id, timeout: 10d}
    on_timeout: late
  - id: tips
    send: {channel: [sms, email], template: tips, purpose: education}
  - id: settle
    wait: 5d
  - id: route
    branch:
      - when: customer.type == "wholesale"
        goto: account-manager
      - when: customer.type == "loyal"
        goto: reminder
    default: review
  - id: review
    send: {channel: email, template: review, purpose: engagement}
  - {id: done, exit: completed}
  - id: account-manager
    send: {channel: email, template: account_manager}
    goto: done
  - id: reminder
    send: {channel: email, template: reminder, purpose: engagement}
  - id: await-click
    wait_for: {event: Link Clicked, timeout: 2d}
    on_timeout: reminder
    goto: done
  - id: late
    send: {channel: email, template: sorry}
    goto: tips
""",
    source="invariants.yaml",
)

EVENT_NAMES = ["Order Completed", "Order Delivered", "Refund Requested", "Link Clicked", "Order Shipped"]
HOURS = st.integers(min_value=0, max_value=400)

events = st.tuples(st.just("event"), st.sampled_from(EVENT_NAMES), st.sampled_from(["o1", "o2", "o3"]), HOURS)
due_timers = st.tuples(st.just("fire_due"), HOURS)  # the clock passes the next timer, which fires
stale_timers = st.tuples(st.just("fire_stale"), st.integers(min_value=0, max_value=50))
profiles = st.tuples(st.just("profile"), st.sampled_from(["retail", "wholesale", "loyal"]))
sleeps = st.tuples(st.just("sleep"), HOURS)
stimuli = st.lists(st.one_of(events, due_timers, stale_timers, profiles, sleeps), max_size=40)


@dataclass
class World:
    """The engine's part, kept minimal: enrollments, pending timers, and every effect checked as it comes."""

    customer: Customer
    now: datetime = T0
    enrollments: dict[str, Enrollment] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # timer id -> enrollment id
    seen_timers: list[str] = field(default_factory=list)
    message_ids: set[str] = field(default_factory=set)
    ended: dict[str, Enrollment] = field(default_factory=dict)
    event_number: int = 0

    def take(self, before: Enrollment | None, decision: Decision) -> None:
        after = decision.enrollment
        if before is not None and not before.is_active:
            assert decision == Decision(before), "an ended enrollment changed"
        for effect in decision.effects:
            self.check_effect(after, effect)
        self.enrollments[after.id] = after
        mine = [timer_id for timer_id, owner in self.pending.items() if owner == after.id]
        assert len(mine) <= 1, f"{len(mine)} pending timers for one enrollment"
        waiting_timer = after.waiting.timer_id if after.waiting else None
        assert mine == ([waiting_timer] if waiting_timer else []), (
            "pending timers disagree with the enrollment"
        )
        if not after.is_active:
            assert after.ended_at is not None and after.waiting is None
            self.ended.setdefault(after.id, after)

    def check_effect(self, enrollment: Enrollment, effect) -> None:
        if isinstance(effect, SendMessage):
            assert effect.message_id not in self.message_ids, f"message id {effect.message_id} made twice"
            self.message_ids.add(effect.message_id)
            assert effect.at == self.now
            assert effect.enrollment_id == enrollment.id
        elif isinstance(effect, ScheduleTimer):
            assert effect.timer_id not in self.seen_timers, f"timer id {effect.timer_id} made twice"
            assert effect.due_at > self.now
            self.seen_timers.append(effect.timer_id)
            self.pending[effect.timer_id] = effect.enrollment_id
        elif isinstance(effect, CancelTimer):
            assert self.pending.pop(effect.timer_id) == enrollment.id, "cancelled a timer it did not own"
        elif isinstance(effect, EndEnrollment):
            assert (effect.at, effect.reason) == (self.now, enrollment.exit_reason)
            assert enrollment.ended_at == self.now
        else:
            raise AssertionError(f"unexpected effect {effect!r}")

    def receive(self, name: str, order_id: str) -> None:
        self.event_number += 1
        event = Event(f"e{self.event_number}", name, self.customer.id, self.now, {"order_id": order_id})
        for enrollment in list(self.enrollments.values()):
            decision = advance(
                JOURNEY, enrollment, EventReceived(event), customer=self.customer, now=self.now
            )
            self.take(enrollment, decision)
        last = max(self.enrollments.values(), key=lambda e: e.started_at, default=None)
        is_active = any(e.is_active for e in self.enrollments.values())
        last_started_at = last.started_at if last else None
        if admits(
            JOURNEY,
            customer=self.customer,
            event=event,
            last_started_at=last_started_at,
            is_active=is_active,
            now=self.now,
        ):
            decision = start(JOURNEY, customer=self.customer, event=event, now=self.now)
            assert decision.enrollment.id not in self.enrollments
            self.take(None, decision)

    def fire(self, timer_id: str) -> None:
        """Deliver a timer to every enrollment, as a confused engine might; only its owner may move."""
        self.pending.pop(timer_id, None)
        for enrollment in list(self.enrollments.values()):
            decision = advance(
                JOURNEY, enrollment, TimerFired(timer_id), customer=self.customer, now=self.now
            )
            self.take(enrollment, decision)

    def apply(self, stimulus: tuple) -> None:
        kind = stimulus[0]
        if kind == "event":
            _, name, order_id, hours = stimulus
            self.now += timedelta(hours=hours)
            self.receive(name, order_id)
        elif kind == "fire_due" and self.pending:
            timer_id = next(iter(self.pending))
            owner = self.enrollments[self.pending[timer_id]]
            self.now = max(self.now, owner.waiting.until) + timedelta(hours=stimulus[1] % 3)
            self.fire(timer_id)
        elif kind == "fire_stale" and self.seen_timers:
            stale = [timer_id for timer_id in self.seen_timers if timer_id not in self.pending]
            self.fire(stale[stimulus[1] % len(stale)] if stale else "tmr_unknown.0")
        elif kind == "profile":
            self.customer = replace(self.customer, traits={"type": stimulus[1]})
        elif kind == "sleep":
            self.now += timedelta(hours=stimulus[1])


def play(sequence: list[tuple], customer_type: str) -> World:
    world = World(customer=Customer(id="c1", country="US", traits={"type": customer_type}))
    world.receive("Order Completed", "o1")
    for stimulus in sequence:
        world.apply(stimulus)
    return world


@settings(max_examples=200, deadline=None)
@given(sequence=stimuli, customer_type=st.sampled_from(["retail", "wholesale", "loyal"]))
def test_invariants_hold_for_any_sequence_of_stimuli(sequence, customer_type):
    world = play(sequence, customer_type)

    assert world.enrollments, "the first order always starts an enrollment"
    for enrollment_id, ended in world.ended.items():
        assert world.enrollments[enrollment_id] is ended, "an ended enrollment changed after it ended"
    active = [e for e in world.enrollments.values() if e.is_active]
    assert len(active) <= 1, "reentry: always never runs two enrollments of one customer at once"


@settings(max_examples=100, deadline=None)
@given(sequence=stimuli, customer_type=st.sampled_from(["retail", "wholesale", "loyal"]))
def test_replaying_the_same_stimuli_gives_the_same_enrollments_and_messages(sequence, customer_type):
    first, second = play(sequence, customer_type), play(sequence, customer_type)

    assert first.enrollments == second.enrollments
    assert first.message_ids == second.message_ids
    assert first.pending == second.pending

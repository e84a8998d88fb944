"""A checking world for the property tests: the engine's part for one customer's enrollments in one
journey version, with every decision and effect checked against the machine's invariants as it comes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from onboardflow.core.effects import (
    CallWebhook,
    CancelTimer,
    Decision,
    EndEnrollment,
    OpenTask,
    ScheduleTimer,
    SendMessage,
    UpdateCustomer,
)
from onboardflow.core.machine import EventReceived, TimerFired, admits, advance, start
from onboardflow.core.model import (
    MESSAGE_UNDELIVERABLE,
    TASK_RESOLVED,
    WEBHOOK_FAILED,
    WEBHOOK_SUCCEEDED,
    Customer,
    Enrollment,
    Event,
    apply_event,
    apply_update,
)
from onboardflow.core.version import JourneyVersion

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTIONS = (SendMessage, OpenTask, CallWebhook, UpdateCustomer)  # what a step does to the world


@dataclass
class World:
    """The engine's part, kept minimal, for one customer: every decision and effect checked as it comes.

    Unlike the engine, it hands every stimulus to every enrollment (ended ones, and ones the event or
    timer is not about, included), to check that those come back unchanged.
    """

    version: JourneyVersion
    customer: Customer
    now: datetime = T0
    default_zone: str = "UTC"
    enrollments: dict[str, Enrollment] = field(default_factory=dict)
    pending: dict[str, ScheduleTimer] = field(default_factory=dict)
    scheduled: dict[str, ScheduleTimer] = field(default_factory=dict)
    fired: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    made: dict[str, SendMessage | OpenTask | CallWebhook] = field(default_factory=dict)  # by id
    log: list[tuple[str, tuple]] = field(default_factory=list)  # (enrollment id, effects) per decision
    event_number: int = 0

    # stimuli

    def apply(self, stimulus: tuple) -> None:
        kind, *args = stimulus
        getattr(self, f"_{kind}")(*args)

    def _event(self, name: str, order_id: str, hours: int) -> None:
        self.now += timedelta(hours=hours)
        self.receive(name, {"order_id": order_id, "total": 150.0})

    def _late(self, name: str, order_id: str, hours: int) -> None:
        """An event that happened `hours` ago and reaches the engine only now."""
        self.receive(name, {"order_id": order_id, "total": 150.0}, at=self.now - timedelta(hours=hours))

    def _undeliverable(self, pick: int, foreign: bool) -> None:
        sent = self._made(SendMessage)
        if foreign or not sent:
            step_id = list(self.version.steps)[pick % len(self.version.steps)]
            properties = {"message_id": "msg_x.1", "enrollment_id": "enr_someone-else", "step_id": step_id}
        else:
            message = sent[pick % len(sent)]
            properties = {"message_id": message.message_id, "enrollment_id": message.enrollment_id,
                          "step_id": message.step_id}
        self.receive(MESSAGE_UNDELIVERABLE, {**properties, "channel": "email", "reason": "bounced"})

    def _resolve(self, pick: int, outcome: str, foreign: bool) -> None:
        tasks = self._made(OpenTask)
        task = None if foreign or not tasks else tasks[pick % len(tasks)]
        self.receive(TASK_RESOLVED, {"task_id": task.task_id if task else "task_someone-else.1",
                                     "enrollment_id": task.enrollment_id if task else "enr_someone-else",
                                     "outcome": outcome})

    def _answer(self, pick: int, succeeded: bool, foreign: bool) -> None:
        calls = self._made(CallWebhook)
        call = None if foreign or not calls else calls[pick % len(calls)]
        properties = {"call_id": call.call_id if call else "call_someone-else.1",
                      "enrollment_id": call.enrollment_id if call else "enr_someone-else"}
        if succeeded:
            response = {"tier": "gold", "points": 3}
            self.receive(WEBHOOK_SUCCEEDED, {**properties, "status": 200, "response": response})
        else:
            self.receive(WEBHOOK_FAILED, {**properties, "status": 500, "error": "server error"})

    def _fire_due(self, extra_hours: int) -> None:
        if self.pending:
            timer = min(self.pending.values(), key=lambda timer: (timer.due_at, timer.timer_id))
            self.fire(timer.timer_id, max(self.now, timer.due_at) + timedelta(hours=extra_hours))

    def _fire_stale(self, pick: int) -> None:
        """A timer fired again, or one cancelled: the engine never does this, and it must change nothing."""
        stale = sorted(self.fired | self.cancelled)
        self.fire(stale[pick % len(stale)] if stale else "tmr_unknown.0", self.now)

    def _pass(self, hours: int) -> None:
        self.run_timers_until(self.now + timedelta(hours=hours))

    def _sleep(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    def _trait(self, change: tuple[str, str]) -> None:
        name, value = change
        self.customer = apply_update(self.customer, set_traits={name: value})

    # the engine's part

    def receive(self, name: str, properties: dict, *, at: datetime | None = None) -> None:
        self.event_number += 1
        event = Event(f"e{self.event_number}", name, self.customer.id, at or self.now, properties)
        self.customer = apply_event(self.customer, event)
        about = properties.get("enrollment_id")  # internal events are about one enrollment's own action
        for enrollment in list(self.enrollments.values()):
            decision = self.advance(enrollment, EventReceived(event))
            if not self.version.reacts_to(name):
                assert decision == Decision(enrollment), f"{name!r} moved an enrollment not reacting to it"
            if about is not None and about != enrollment.id:
                assert decision == Decision(enrollment) or decision.enrollment.exit_reason == "exit_rule", (
                    f"{name!r} about another enrollment moved this one")
            self.take(enrollment, decision)
        self.maybe_start(event)

    def maybe_start(self, event: Event) -> None:
        last = max((e.started_at for e in self.enrollments.values()), default=None)
        is_active = any(e.is_active for e in self.enrollments.values())
        admitted = admits(self.version, customer=self.customer, event=event, last_started_at=last,
                          is_active=is_active, now=self.now)
        if admitted:
            decision = start(self.version, customer=self.customer, event=event, now=self.now,
                             default_zone=self.default_zone)
            assert decision.enrollment.id not in self.enrollments, "an enrollment id made twice"
            self.take(None, decision)

    def fire(self, timer_id: str, at: datetime) -> None:
        self.now = at
        owner = self.pending.pop(timer_id, None)
        if owner is not None:
            self.fired.add(timer_id)
        for enrollment in list(self.enrollments.values()):
            decision = self.advance(enrollment, TimerFired(timer_id))
            if owner is None or owner.enrollment_id != enrollment.id:
                assert decision == Decision(enrollment), "a timer moved an enrollment it does not belong to"
            self.take(enrollment, decision)

    def advance(self, enrollment: Enrollment, stimulus) -> Decision:
        return advance(self.version, enrollment, stimulus, customer=self.customer, now=self.now,
                       default_zone=self.default_zone)

    def run_timers_until(self, moment: datetime, *, limit: int = 1000) -> None:
        while self.pending and limit:
            timer = min(self.pending.values(), key=lambda timer: (timer.due_at, timer.timer_id))
            if timer.due_at > moment:
                break
            self.fire(timer.timer_id, max(self.now, timer.due_at))
            limit -= 1
        self.now = max(self.now, moment) if limit else self.now

    def answer_everything(self) -> None:
        """Resolve every task and answer every call that an enrollment waits on, as people and the webhook
        runner eventually do."""
        for enrollment in list(self.enrollments.values()):
            ref = enrollment.waiting.ref if enrollment.waiting else None
            about = {"enrollment_id": enrollment.id}
            if isinstance(self.made.get(ref), OpenTask):
                self.receive(TASK_RESOLVED, {**about, "task_id": ref, "outcome": "resolved"})
            elif isinstance(self.made.get(ref), CallWebhook):
                self.receive(WEBHOOK_SUCCEEDED, {**about, "call_id": ref, "response": {}})

    def _made(self, kind: type) -> list:
        """What the enrollments made of `kind`, newest first (the likeliest to be awaited still)."""
        return [effect for effect in reversed(self.made.values()) if isinstance(effect, kind)]

    # the checks

    def take(self, before: Enrollment | None, decision: Decision) -> None:
        after, effects = decision.enrollment, decision.effects
        if before is not None:
            assert after.id == before.id
            if not before.is_active:
                assert decision == Decision(before), "an ended enrollment changed"
        for effect in effects:
            self.check_effect(after, effect)
        ends = [effect for effect in effects if isinstance(effect, EndEnrollment)]
        just_ended = not after.is_active and (before is None or before.is_active)
        assert len(ends) == just_ended, "an enrollment ended without saying so, or twice"
        assert not ends or effects[-1] is ends[0], "an effect after the enrollment ended"
        if after.is_holdout:
            assert not [effect for effect in effects if isinstance(effect, ACTIONS)], "a holdout acted"
        self.enrollments[after.id] = after
        self.check_state(after)
        if effects:
            self.log.append((after.id, effects))

    def check_effect(self, enrollment: Enrollment, effect) -> None:
        if isinstance(effect, SendMessage | OpenTask | CallWebhook):
            made_id = getattr(effect, "message_id", None) or getattr(effect, "task_id", None)
            made_id = made_id or effect.call_id
            assert made_id not in self.made, f"{made_id} made twice"
            assert (effect.enrollment_id, effect.at) == (enrollment.id, self.now)
            self.made[made_id] = effect
        elif isinstance(effect, UpdateCustomer):
            assert (effect.customer_id, effect.at) == (self.customer.id, self.now)
            self.customer = apply_update(
                self.customer, set_traits=effect.set_traits, unset=effect.unset, add_tags=effect.add_tags,
                remove_tags=effect.remove_tags, at=effect.at,
            )
        elif isinstance(effect, ScheduleTimer):
            assert effect.timer_id not in self.scheduled, f"timer id {effect.timer_id} made twice"
            assert effect.due_at >= self.now and effect.enrollment_id == enrollment.id
            self.scheduled[effect.timer_id] = self.pending[effect.timer_id] = effect
        elif isinstance(effect, CancelTimer):
            owner = self.pending.pop(effect.timer_id).enrollment_id  # a KeyError: not pending any more
            assert owner == enrollment.id, "cancelled another enrollment's timer"
            self.cancelled.add(effect.timer_id)
        elif isinstance(effect, EndEnrollment):
            assert (effect.enrollment_id, effect.at) == (enrollment.id, self.now)
            assert effect.reason == enrollment.exit_reason
        else:
            raise AssertionError(f"unexpected effect {effect!r}")

    def check_state(self, enrollment: Enrollment) -> None:
        """One step at a time, never stuck: an active enrollment waits at its current step on a pending
        timer, or on the answer to a task or call it made itself."""
        mine = [timer_id for timer_id, timer in self.pending.items() if timer.enrollment_id == enrollment.id]
        assert enrollment.exit_reason != "loop_limit", "validation let through a loop without a wait"
        if not enrollment.is_active:
            assert enrollment.waiting is None and enrollment.ended_at is not None, "ended, yet waiting"
            assert not mine, "an ended enrollment left a timer pending"
            return
        waiting = enrollment.waiting
        assert waiting is not None, f"active, stuck at {enrollment.step_id!r}, waiting on nothing"
        assert waiting.step_id == enrollment.step_id == enrollment.history[-1].step_id, "in two steps at once"
        assert mine == ([waiting.timer_id] if waiting.timer_id else []), "pending timers disagree with wait"
        if waiting.timer_id:
            assert self.pending[waiting.timer_id].due_at == waiting.until
        else:
            own = self.made.get(waiting.ref)
            assert waiting.events and own is not None and own.enrollment_id == enrollment.id, (
                "waits without a timer on something nobody will answer")

    def check_timers(self) -> None:
        """Every timer scheduled was fired, cancelled, or is pending for the wait of an active enrollment."""
        assert self.fired.isdisjoint(self.cancelled)
        assert set(self.scheduled) == self.fired | self.cancelled | set(self.pending)
        active = [e for e in self.enrollments.values() if e.is_active]
        assert set(self.pending) == {e.waiting.timer_id for e in active if e.waiting.timer_id}


def play(version: JourneyVersion, sequence: list[tuple], customer: Customer, now: datetime = T0) -> World:
    """A world where the customer's first order came at `now`, then each stimulus of `sequence`."""
    world = World(version, customer, now)
    world.receive("Order Completed", {"order_id": "o1", "total": 150.0})
    for stimulus in sequence:
        world.apply(stimulus)
    return world

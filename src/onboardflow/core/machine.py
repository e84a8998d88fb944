"""The enrollment state machine: (journey version, enrollment, stimulus, now) -> (new enrollment, effects).

Pure: it reads nothing but its arguments, so the simulator, the demo and production share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from onboardflow.core.effects import CancelTimer, Decision, Effect, EndEnrollment, UpdateCustomer, stable_id
from onboardflow.core.journey import Send
from onboardflow.core.model import (
    HOLDOUT,
    MESSAGE_UNDELIVERABLE,
    Customer,
    Enrollment,
    Event,
    Visit,
    apply_update,
    copy_enrollment,
)
from onboardflow.core.steps import Context, End, Next, Park, resume_on_event, resume_on_timer, run_step
from onboardflow.core.steps.routing import share_of
from onboardflow.core.version import JourneyVersion

MAX_STEPS_PER_STIMULUS = 500


@dataclass(frozen=True, slots=True)
class EventReceived:
    event: Event


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: str


Stimulus = EventReceived | TimerFired


Scores = Mapping[str, float]  # the customer's model scores, given by the engine (`score.repeat_purchase`)
NO_SCORES: Scores = {}


def scope_for(
    customer: Customer, trigger: dict[str, Any], event: Event | None, scores: Scores | None = None
) -> dict[str, Any]:
    return {"customer": customer.scope(), "trigger": trigger, "event": event.scope() if event else {},
            "score": NO_SCORES if scores is None else scores}


class Run:
    """What one stimulus's run of steps sees: the customer (as updated by `update` steps so far), the
    trigger, the event, the time, the scores; the condition scope is rebuilt only after the profile
    changes."""

    __slots__ = ("customer", "trigger", "event", "now", "default_zone", "scores", "_scope")

    def __init__(self, customer: Customer, trigger: dict, event: Event | None, now: datetime,
                 default_zone: str, scores: Scores | None = None):
        self.customer, self.trigger, self.event, self.now = customer, trigger, event, now
        self.default_zone = default_zone
        self.scores = scores
        self._scope: dict[str, Any] | None = None

    @property
    def scope(self) -> dict[str, Any]:
        if self._scope is None:
            self._scope = scope_for(self.customer, self.trigger, self.event, self.scores)
        return self._scope

    def context(self, seq: int) -> Context:
        return Context(now=self.now, scope=self.scope, seq=seq, default_zone=self.default_zone)

    def absorb(self, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            if isinstance(effect, UpdateCustomer):
                self.customer = apply_update(
                    self.customer, set_traits=effect.set_traits, unset=effect.unset,
                    add_tags=effect.add_tags, remove_tags=effect.remove_tags, at=effect.at,
                )
                self._scope = None


def admits(
    version: JourneyVersion,
    *,
    customer: Customer,
    event: Event,
    last_started_at: datetime | None,
    is_active: bool,
    now: datetime,
    scores: Scores | None = None,
) -> bool:
    """Whether `event` starts an enrollment: trigger and audience match, and re-entry allows it.

    `last_started_at` is when the customer last entered this journey (None: never), `is_active`
    whether an enrollment of theirs in it is still running.
    """
    journey = version.journey
    if event.name != journey.trigger.event or not may_reenter(version, last_started_at, is_active, now):
        return False
    scope = scope_for(customer, event.scope(), event, scores)
    return version.holds("trigger.where", scope) and version.holds("audience", scope)


def may_reenter(version: JourneyVersion, last_started_at: datetime | None, is_active: bool, now: datetime) -> bool:
    """never: once per customer; always: whenever not already in it (or even then, when concurrent);
    after D: when not in it, and D after the last entry."""
    if last_started_at is None:
        return True
    rule = version.journey.reentry
    if rule.mode == "never" or (is_active and not rule.concurrent):
        return False
    return rule.after is None or now - last_started_at >= rule.after


def is_held_out(version: JourneyVersion, customer_id: str) -> bool:
    """Whether the customer is in the journey's control group: a fixed share of customers, by hash."""
    share = version.journey.holdout
    return share > 0 and share_of(version.id, customer_id, HOLDOUT) * 100 < share


def start(
    version: JourneyVersion,
    *,
    customer: Customer,
    event: Event,
    now: datetime,
    default_zone: str = "UTC",
    scores: Scores | None = None,
) -> Decision:
    """A new enrollment for the customer whom `event` brought in, advanced until it waits or ends."""
    enrollment = Enrollment(
        id=stable_id("enr", version.id, customer.id, event.id),
        journey_id=version.id,
        version=version.version,
        customer_id=customer.id,
        trigger=event.scope(),
        started_at=now,
        group=HOLDOUT if is_held_out(version, customer.id) else "journey",
    )
    run = Run(customer, enrollment.trigger, event, now, default_zone, scores)
    return _run_from(version, enrollment, version.first_step, run)


def advance(
    version: JourneyVersion,
    enrollment: Enrollment,
    stimulus: Stimulus,
    *,
    customer: Customer,
    now: datetime,
    default_zone: str = "UTC",
    scores: Scores | None = None,
) -> Decision:
    """Apply one stimulus to one enrollment; an enrollment it does not concern comes back unchanged."""
    if not enrollment.is_active:
        return Decision(enrollment)
    if isinstance(stimulus, TimerFired):
        run = Run(customer, enrollment.trigger, None, now, default_zone, scores)
        return _on_timer(version, enrollment, stimulus, run)
    run = Run(customer, enrollment.trigger, stimulus.event, now, default_zone, scores)
    return _on_event(version, enrollment, stimulus.event, run)


def run_from(
    version: JourneyVersion,
    enrollment: Enrollment,
    step_id: str,
    *,
    customer: Customer,
    now: datetime,
    default_zone: str = "UTC",
) -> Decision:
    """Run the enrollment's steps from `step_id` until one waits or it ends, with no event at hand (as after
    a timer): for an enrollment put at a step from outside the journey's own flow (a migration)."""
    return _run_from(version, enrollment, step_id, Run(customer, enrollment.trigger, None, now, default_zone))


def _on_event(version: JourneyVersion, enrollment: Enrollment, event: Event, run: Run) -> Decision:
    if _exit_rule_holds(version, event, run.scope):
        return _end(enrollment, "exit_rule", run.now)
    if _reaches_goal(version, enrollment, event, run.scope):
        enrollment = copy_enrollment(enrollment, goal_reached_at=event.at)
        if version.journey.goal.exit:
            return _end(enrollment, "goal_reached", run.now)
    if event.name == MESSAGE_UNDELIVERABLE:
        rerouted = _undeliverable(version, enrollment, event, run)
        if rerouted is not None:
            return rerouted
    waiting = enrollment.waiting
    if waiting is None or event.name not in waiting.events or not _concerns(waiting.ref, event):
        return Decision(enrollment)
    if waiting.until is not None and event.at > waiting.until:
        return Decision(enrollment)  # it came too late: the timeout, due already, decides the way on
    step = version.steps[waiting.step_id]
    outcome = resume_on_event(version, enrollment, step, event, run.context(enrollment.seq))
    if outcome is None:
        return Decision(enrollment)
    return _go_on(version, enrollment, outcome, run, cancel=waiting.timer_id)


def _concerns(ref: str | None, event: Event) -> bool:
    """A wait on one task or call is ended only by an event about that task or call."""
    return ref is None or ref in (event.properties.get("task_id"), event.properties.get("call_id"))


def _exit_rule_holds(version: JourneyVersion, event: Event | None, scope: dict[str, Any]) -> bool:
    for index, rule in enumerate(version.journey.exit_when):
        if rule.event is None or (event is not None and rule.event == event.name):
            if version.holds(f"exit_when.{index}.where", scope):
                return True
    return False


def _reaches_goal(version: JourneyVersion, enrollment: Enrollment, event: Event, scope: dict[str, Any]) -> bool:
    goal = version.journey.goal
    if goal is None or goal.event != event.name or event.id == enrollment.trigger.get("id"):
        return False
    if enrollment.goal_reached_at is not None:
        return False  # a conversion counts once
    if goal.within is not None and event.at > enrollment.started_at + goal.within:
        return False
    return version.holds("goal.where", scope)


def _undeliverable(version: JourneyVersion, enrollment: Enrollment, event: Event, run: Run) -> Decision | None:
    """A message of this enrollment could not be delivered: its send step's `on_undeliverable` takes over,
    wherever the enrollment has got to since."""
    properties = event.properties
    step = version.steps.get(properties.get("step_id"))
    if properties.get("enrollment_id") != enrollment.id or not isinstance(step, Send) or not step.on_undeliverable:
        return None
    cancel = enrollment.waiting.timer_id if enrollment.waiting else None
    return _go_on(version, replace(enrollment, waiting=None), Next(step.on_undeliverable), run, cancel=cancel)


def _on_timer(version: JourneyVersion, enrollment: Enrollment, fired: TimerFired, run: Run) -> Decision:
    waiting = enrollment.waiting
    if waiting is None or waiting.timer_id != fired.timer_id:
        return Decision(enrollment)  # a stale timer: the enrollment moved on without it
    enrollment = replace(enrollment, waiting=None)  # its timer has fired: nothing to cancel
    if _exit_rule_holds(version, None, run.scope):
        return _end(enrollment, "exit_rule", run.now)
    step = version.steps[waiting.step_id]
    return _go_on(version, enrollment, resume_on_timer(version, enrollment, step, run.context(enrollment.seq)), run)


def _go_on(version: JourneyVersion, enrollment: Enrollment, outcome: Next | End, run: Run, *, cancel=None):
    """Leave the step the enrollment waits at, as `outcome` says, cancelling its timer if it has one."""
    cancelled = (CancelTimer(cancel),) if cancel else ()
    if isinstance(outcome, End):
        return _end(enrollment, outcome.reason, run.now)
    run.absorb(outcome.effects)
    decision = _run_from(version, enrollment, outcome.step_id, run)  # it sets `waiting` anew
    return Decision(decision.enrollment, cancelled + outcome.effects + decision.effects)


def _run_from(version: JourneyVersion, enrollment: Enrollment, step_id: str | None, run: Run) -> Decision:
    """Run steps from `step_id` until one waits, one exits, or the journey runs out of steps."""
    effects: list[Effect] = []
    visits = list(enrollment.history)
    seq, current = enrollment.seq, enrollment.step_id
    for _ in range(MAX_STEPS_PER_STIMULUS):
        if step_id is None:
            return _end(enrollment, "completed", run.now, effects, step_id=current, seq=seq,
                        history=tuple(visits))
        step = version.steps[step_id]
        visits.append(Visit(step_id, run.now))
        outcome = run_step(version, enrollment, step, run.context(seq))
        seq, current = seq + 1, step_id
        if isinstance(outcome, End):
            return _end(enrollment, outcome.reason, run.now, effects, step_id=current, seq=seq,
                        history=tuple(visits))
        effects.extend(outcome.effects)
        run.absorb(outcome.effects)
        if isinstance(outcome, Park):
            moved = copy_enrollment(enrollment, step_id=current, seq=seq, history=tuple(visits),
                                    waiting=outcome.waiting)
            return Decision(moved, tuple(effects))
        if outcome.enrollment is not None:
            enrollment = outcome.enrollment
        step_id = outcome.step_id
    return _end(enrollment, "loop_limit", run.now, effects, step_id=current, seq=seq, history=tuple(visits))


def _end(enrollment: Enrollment, reason: str, now: datetime, effects: list[Effect] | tuple = (),
         **moved) -> Decision:
    """The enrollment ended. `moved` is where a run of steps left it, set in the same copy; such a run
    started by leaving its wait (`_go_on` cancelled the timer), so only without `moved` is one cancelled."""
    cancel = ()
    waiting = None if moved else enrollment.waiting
    if waiting is not None and waiting.timer_id:
        cancel = (CancelTimer(waiting.timer_id),)
    ended = copy_enrollment(enrollment, status="ended", exit_reason=reason, ended_at=now, waiting=None,
                            **moved)
    return Decision(ended, (*effects, *cancel, EndEnrollment(enrollment.id, reason, now)))

"""The enrollment state machine: (journey version, enrollment, stimulus, now) -> (new enrollment, effects).

Pure: it reads nothing but its arguments, so the simulator, the demo and production share it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from onboardflow.core.effects import CancelTimer, Decision, Effect, EndEnrollment, stable_id
from onboardflow.core.journey import WaitFor
from onboardflow.core.model import Customer, Enrollment, Event, Visit
from onboardflow.core.steps import Context, End, Park, run_step
from onboardflow.core.version import JourneyVersion

MAX_STEPS_PER_STIMULUS = 500


@dataclass(frozen=True, slots=True)
class EventReceived:
    event: Event


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: str


Stimulus = EventReceived | TimerFired


def scope_for(customer: Customer, trigger: dict[str, Any], event: Event | None) -> dict[str, Any]:
    return {"customer": customer.scope(), "trigger": trigger, "event": event.scope() if event else {}}


def admits(
    version: JourneyVersion,
    *,
    customer: Customer,
    event: Event,
    last_started_at: datetime | None,
    is_active: bool,
    now: datetime,
) -> bool:
    """Whether `event` starts an enrollment: trigger and audience match, and re-entry allows it.

    `last_started_at` is when the customer last entered this journey (None: never), `is_active`
    whether that enrollment is still running.
    """
    journey = version.journey
    if event.name != journey.trigger.event or not may_reenter(version, last_started_at, is_active, now):
        return False
    scope = scope_for(customer, event.scope(), event)
    return version.holds("trigger.where", scope) and version.holds("audience", scope)


def may_reenter(version: JourneyVersion, last_started_at: datetime | None, is_active: bool, now: datetime) -> bool:
    """never: once per customer; always: whenever not already in it; after D: and D after the last entry."""
    if last_started_at is None:
        return True
    if version.journey.reentry == "never" or is_active:
        return False
    window = version.journey.reentry_after
    return window is None or now - last_started_at >= window


def start(version: JourneyVersion, *, customer: Customer, event: Event, now: datetime) -> Decision:
    """A new enrollment for the customer whom `event` brought in, advanced until it waits or ends."""
    enrollment = Enrollment(
        id=stable_id("enr", version.id, customer.id, event.id),
        journey_id=version.id,
        version=version.version,
        customer_id=customer.id,
        trigger=event.scope(),
        started_at=now,
    )
    return _run_from(version, enrollment, version.first_step, scope_for(customer, enrollment.trigger, event), now)


def advance(
    version: JourneyVersion, enrollment: Enrollment, stimulus: Stimulus, *, customer: Customer, now: datetime
) -> Decision:
    """Apply one stimulus to one enrollment; an enrollment it does not concern comes back unchanged."""
    if not enrollment.is_active:
        return Decision(enrollment)
    if isinstance(stimulus, TimerFired):
        return _on_timer(version, enrollment, stimulus, customer, now)
    return _on_event(version, enrollment, stimulus.event, customer, now)


def _on_event(version: JourneyVersion, enrollment: Enrollment, event: Event, customer: Customer, now: datetime):
    journey = version.journey
    scope = scope_for(customer, enrollment.trigger, event)
    for index, rule in enumerate(journey.exit_when):
        if rule.event == event.name and version.holds(f"exit_when.{index}.where", scope):
            return _end(enrollment, "exit_rule", now)
    if _reaches_goal(version, enrollment, event, scope):
        return _end(replace(enrollment, goal_reached_at=event.at), "goal_reached", now)
    waiting = enrollment.waiting
    if waiting is None or waiting.event != event.name:
        return Decision(enrollment)
    if waiting.until is not None and event.at > waiting.until:
        return Decision(enrollment)  # it came too late: the timeout, due already, decides the way on
    step = version.steps[waiting.step_id]
    if isinstance(step, WaitFor) and not version.holds(f"steps.{step.id}.wait_for.where", scope):
        return Decision(enrollment)
    cancel = (CancelTimer(waiting.timer_id),) if waiting.timer_id else ()
    decision = _run_from(version, enrollment, version.next_after(step), scope, now)  # it sets `waiting` anew
    return Decision(decision.enrollment, cancel + decision.effects)


def _reaches_goal(version: JourneyVersion, enrollment: Enrollment, event: Event, scope: dict[str, Any]) -> bool:
    goal = version.journey.goal
    if goal is None or goal.event != event.name or event.id == enrollment.trigger.get("id"):
        return False
    if goal.within is not None and event.at > enrollment.started_at + goal.within:
        return False
    return version.holds("goal.where", scope)


def _on_timer(version: JourneyVersion, enrollment: Enrollment, fired: TimerFired, customer: Customer, now):
    waiting = enrollment.waiting
    if waiting is None or waiting.timer_id != fired.timer_id:
        return Decision(enrollment)  # a stale timer: the enrollment moved on without it
    step = version.steps[waiting.step_id]
    scope = scope_for(customer, enrollment.trigger, None)
    if isinstance(step, WaitFor):
        if step.on_timeout is None:
            return _end(replace(enrollment, waiting=None), "timeout", now)  # its timer has fired already
        return _run_from(version, enrollment, step.on_timeout, scope, now)
    return _run_from(version, enrollment, version.next_after(step), scope, now)


def _run_from(
    version: JourneyVersion, enrollment: Enrollment, step_id: str | None, scope: dict[str, Any], now: datetime
) -> Decision:
    """Run steps from `step_id` until one waits, one exits, or the journey runs out of steps."""
    effects: list[Effect] = []
    visits = list(enrollment.history)
    seq, current = enrollment.seq, enrollment.step_id
    for _ in range(MAX_STEPS_PER_STIMULUS):
        if step_id is None:
            return _end(_moved(enrollment, current, seq, visits), "completed", now, effects)
        step = version.steps[step_id]
        visits.append(Visit(step_id, now))
        outcome = run_step(version, enrollment, step, Context(now=now, scope=scope, seq=seq))
        seq, current = seq + 1, step_id
        if isinstance(outcome, End):
            return _end(_moved(enrollment, current, seq, visits), outcome.reason, now, effects)
        effects.extend(outcome.effects)
        if isinstance(outcome, Park):
            moved = _moved(enrollment, current, seq, visits, waiting=outcome.waiting)
            return Decision(moved, tuple(effects))
        step_id = outcome.step_id
    return _end(_moved(enrollment, current, seq, visits), "loop_limit", now, effects)


def _moved(enrollment: Enrollment, step_id: str | None, seq: int, visits: list[Visit], waiting=None) -> Enrollment:
    return replace(enrollment, step_id=step_id, seq=seq, history=tuple(visits), waiting=waiting)


def _end(enrollment: Enrollment, reason: str, now: datetime, effects: list[Effect] | tuple = ()) -> Decision:
    cancel = ()
    waiting = enrollment.waiting
    if waiting is not None and waiting.timer_id:
        cancel = (CancelTimer(waiting.timer_id),)
    ended = replace(enrollment, status="ended", exit_reason=reason, ended_at=now, waiting=None)
    return Decision(ended, (*effects, *cancel, EndEnrollment(enrollment.id, reason, now)))

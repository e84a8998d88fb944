"""One handler per step kind, found through a registry: adding a kind is one function and one line.

A handler runs its step for an enrollment and says what comes next: another step, a wait, or the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboardflow.core.effects import Effect, ScheduleTimer, SendMessage, child_id
from onboardflow.core.journey import Branch, Exit, Send, Step, Wait, WaitFor
from onboardflow.core.model import Enrollment, Waiting
from onboardflow.core.version import JourneyVersion


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    scope: Mapping[str, Any]
    seq: int  # the enrollment's step counter: part of every id a step makes, so replays make the same ids


@dataclass(frozen=True, slots=True)
class Next:
    step_id: str | None
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class Park:
    waiting: Waiting
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class End:
    reason: str


Outcome = Next | Park | End
Handler = Callable[[JourneyVersion, Enrollment, Any, Context], Outcome]
HANDLERS: dict[type, Handler] = {}


def handles(kind: type) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


def run_step(version: JourneyVersion, enrollment: Enrollment, step: Step, context: Context) -> Outcome:
    return HANDLERS[type(step)](version, enrollment, step, context)


@handles(Send)
def _send(version: JourneyVersion, enrollment: Enrollment, step: Send, context: Context) -> Outcome:
    message = SendMessage(
        message_id=child_id("msg", enrollment.id, context.seq),
        enrollment_id=enrollment.id,
        journey_id=enrollment.journey_id,
        version=enrollment.version,
        customer_id=enrollment.customer_id,
        step_id=step.id,
        channels=step.send.channels,
        template=step.send.template,
        purpose=step.send.purpose,
        at=context.now,
    )
    return Next(version.next_after(step), (message,))


def _timer(enrollment: Enrollment, step: Step, context: Context, due_at: datetime) -> ScheduleTimer:
    timer_id = child_id("tmr", enrollment.id, context.seq)
    return ScheduleTimer(timer_id, enrollment.id, enrollment.customer_id, due_at)


@handles(Wait)
def _wait(version: JourneyVersion, enrollment: Enrollment, step: Wait, context: Context) -> Outcome:
    timer = _timer(enrollment, step, context, context.now + step.wait)
    return Park(Waiting(step_id=step.id, timer_id=timer.timer_id, until=timer.due_at), (timer,))


@handles(WaitFor)
def _wait_for(version: JourneyVersion, enrollment: Enrollment, step: WaitFor, context: Context) -> Outcome:
    spec = step.wait_for
    if spec.timeout is None:
        return Park(Waiting(step_id=step.id, event=spec.event))
    timer = _timer(enrollment, step, context, context.now + spec.timeout)
    waiting = Waiting(step_id=step.id, timer_id=timer.timer_id, until=timer.due_at, event=spec.event)
    return Park(waiting, (timer,))


@handles(Branch)
def _branch(version: JourneyVersion, enrollment: Enrollment, step: Branch, context: Context) -> Outcome:
    for index, arm in enumerate(step.branch):
        if version.holds(f"steps.{step.id}.branch.{index}.when", context.scope):
            return Next(arm.goto)
    return Next(step.default if step.default else version.following.get(step.id))


@handles(Exit)
def _exit(version: JourneyVersion, enrollment: Enrollment, step: Exit, context: Context) -> Outcome:
    return End(step.exit)

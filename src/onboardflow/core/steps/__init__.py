"""One handler per step kind, found through a registry: adding a kind is one module and one registration.

A handler runs its step for an enrollment and says what comes next: another step, a wait, or the end.
Steps that wait also register what happens when the awaited event arrives or the timer fires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboardflow.core.effects import Effect, ScheduleTimer, child_id
from onboardflow.core.journey import Step
from onboardflow.core.model import Enrollment, Event, Waiting
from onboardflow.core.version import JourneyVersion


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    scope: Mapping[str, Any]
    seq: int  # the enrollment's step counter: part of every id a step makes, so replays make the same ids
    default_zone: str = "UTC"  # the store's time zone, for customers without one


@dataclass(frozen=True, slots=True)
class Next:
    step_id: str | None
    effects: tuple[Effect, ...] = ()
    enrollment: Enrollment | None = None  # the enrollment with something recorded on it (a split's path)


@dataclass(frozen=True, slots=True)
class Park:
    waiting: Waiting
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class End:
    reason: str


Outcome = Next | Park | End
Handler = Callable[[JourneyVersion, Enrollment, Any, Context], Outcome]
# What a waiting step does when its event arrives (None: not this one, keep waiting) or its timer fires.
EventResumer = Callable[[JourneyVersion, Enrollment, Any, Event, Context], "Next | End | None"]
TimerResumer = Callable[[JourneyVersion, Enrollment, Any, Context], "Next | End"]

HANDLERS: dict[type, Handler] = {}
EVENT_RESUMERS: dict[type, EventResumer] = {}
TIMER_RESUMERS: dict[type, TimerResumer] = {}


def handles(kind: type) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


def resumes_on_event(kind: type) -> Callable[[EventResumer], EventResumer]:
    def register(resumer: EventResumer) -> EventResumer:
        EVENT_RESUMERS[kind] = resumer
        return resumer

    return register


def resumes_on_timer(kind: type) -> Callable[[TimerResumer], TimerResumer]:
    def register(resumer: TimerResumer) -> TimerResumer:
        TIMER_RESUMERS[kind] = resumer
        return resumer

    return register


def run_step(version: JourneyVersion, enrollment: Enrollment, step: Step, context: Context) -> Outcome:
    return HANDLERS[type(step)](version, enrollment, step, context)


def resume_on_event(version, enrollment: Enrollment, step: Step, event: Event, context: Context):
    resumer = EVENT_RESUMERS.get(type(step))
    return None if resumer is None else resumer(version, enrollment, step, event, context)


def resume_on_timer(version, enrollment: Enrollment, step: Step, context: Context) -> Next | End:
    resumer = TIMER_RESUMERS.get(type(step))
    return Next(version.next_after(step)) if resumer is None else resumer(version, enrollment, step, context)


def timer_for(enrollment: Enrollment, context: Context, due_at: datetime) -> ScheduleTimer:
    timer_id = child_id("tmr", enrollment.id, context.seq)
    return ScheduleTimer(timer_id, enrollment.id, enrollment.customer_id, due_at, enrollment.journey_id)


from onboardflow.core.steps import actions, routing, waits  # noqa: E402,F401  (they register themselves)

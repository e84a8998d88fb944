"""Steps that wait: for a time (`wait`), for a local time of day (`wait_until`), for events (`wait_for`)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onboardflow.core.journey import WEEKDAYS, Wait, WaitFor, WaitUntil
from onboardflow.core.model import Enrollment, Event, Waiting
from onboardflow.core.steps import (
    Context,
    End,
    Next,
    Park,
    handles,
    resumes_on_event,
    resumes_on_timer,
    timer_for,
)
from onboardflow.core.version import JourneyVersion, where_of


@handles(Wait)
def _wait(version: JourneyVersion, enrollment: Enrollment, step: Wait, context: Context) -> Park:
    timer = timer_for(enrollment, context, context.now + step.wait)
    return Park(Waiting(step_id=step.id, timer_id=timer.timer_id, until=timer.due_at), (timer,))


@handles(WaitUntil)
def _wait_until(version: JourneyVersion, enrollment: Enrollment, step: WaitUntil, context: Context) -> Park:
    zone = customer_zone(context.scope.get("customer") or {}, context.default_zone)
    spec = step.wait_until
    due = next_local_time(context.now, _clock(spec.time), spec.days, zone)
    timer = timer_for(enrollment, context, due)
    return Park(Waiting(step_id=step.id, timer_id=timer.timer_id, until=due), (timer,))


@handles(WaitFor)
def _wait_for(version: JourneyVersion, enrollment: Enrollment, step: WaitFor, context: Context) -> Park:
    spec = step.wait_for
    names = tuple(dict.fromkeys(arm.event for arm in spec.arms))
    if spec.timeout is None:
        return Park(Waiting(step_id=step.id, events=names))
    timer = timer_for(enrollment, context, context.now + spec.timeout)
    return Park(Waiting(step_id=step.id, timer_id=timer.timer_id, until=timer.due_at, events=names), (timer,))


@resumes_on_event(WaitFor)
def _event_arrived(version: JourneyVersion, enrollment: Enrollment, step: WaitFor, event: Event, context: Context):
    """The first of the step's events that matches (name and condition) decides the way on."""
    spec = step.wait_for
    for index, arm in enumerate(spec.arms):
        if arm.event == event.name and version.holds(where_of(step.id, index, spec.event is not None), context.scope):
            return Next(arm.goto or version.next_after(step))
    return None


@resumes_on_timer(WaitFor)
def _timed_out(version: JourneyVersion, enrollment: Enrollment, step: WaitFor, context: Context) -> Next | End:
    return End("timeout") if step.on_timeout is None else Next(step.on_timeout)


def customer_zone(customer: dict, default_zone: str) -> ZoneInfo:
    """The customer's IANA time zone, else the store's default; a name zoneinfo does not know falls through."""
    for name in (customer.get("timezone"), default_zone, "UTC"):
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, RecursionError):  # zoneinfo recurses on a/a/a/...
                continue
    return ZoneInfo("UTC")


def next_local_time(now: datetime, at: time, days: list[str], zone: ZoneInfo) -> datetime:
    """When the clock in `zone` next shows `at` on one of `days`, at or after `now` (in UTC).

    A wall time that a daylight-saving change skips (02:30 on a spring-forward night) is read with the
    offset before the change, which lands just after the gap (03:30); a time that happens twice in the
    autumn is the first of the two, so one reached between the two has passed for that day.
    """
    allowed = {WEEKDAYS.index(day) for day in days}
    local_today = now.astimezone(zone).date()
    for offset in range(8):
        day = local_today + timedelta(days=offset)
        if day.weekday() not in allowed:
            continue
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate >= now:
            return candidate
    raise AssertionError("a week always holds an allowed day")  # days is never empty (validated)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))

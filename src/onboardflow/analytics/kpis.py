"""The KPIs of one set of enrollments (a journey, or one cut of it), as of one time: pure functions over the
records of `records.OutcomeData`. Every definition is written out in docs/outcomes.md.

Nothing after `as_of` counts: an enrollment that ended later is still active, a task resolved later is
still open. So the same records give last week's reading and this week's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onboardflow.analytics.records import (
    EXCEPTION_EVENTS,
    LATE_DELIVERY,
    ORDER,
    JourneyFacts,
    OutcomeData,
)
from onboardflow.analytics.stats import percentile, rate, spread
from onboardflow.analytics.uplift import Uplift, uplift
from onboardflow.core.model import Enrollment, Event
from onboardflow.ports import Task

COMPLETIONS = ("completed", "goal_reached")  # exit reasons that count as completing the journey
REPEAT_WINDOWS = (30, 60, 90)  # days
MIN_COHORT = 5  # enrollments a weekly cohort needs to count in adoption consistency


def ended_by(enrollment: Enrollment, as_of: datetime) -> bool:
    return enrollment.ended_at is not None and enrollment.ended_at <= as_of


def completed_by(enrollment: Enrollment, as_of: datetime) -> bool:
    return ended_by(enrollment, as_of) and enrollment.exit_reason in COMPLETIONS


def converted_by(enrollment: Enrollment, as_of: datetime) -> bool:
    return enrollment.goal_reached_at is not None and enrollment.goal_reached_at <= as_of


def entry_week(moment: datetime) -> str:
    """The ISO week an enrollment entered in (UTC), e.g. `2026-W10`: its weekly cohort."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_cohorts(enrollments: Sequence[Enrollment]) -> dict[str, list[Enrollment]]:
    """Enrollments by the ISO week they entered in, weeks in order."""
    cohorts: dict[str, list[Enrollment]] = {}
    for enrollment in enrollments:
        cohorts.setdefault(entry_week(enrollment.started_at), []).append(enrollment)
    return dict(sorted(cohorts.items()))


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Distribution:
    """Durations in hours: how many, their median and p90 (nearest rank)."""

    count: int
    median_hours: float | None
    p90_hours: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        return cls(len(values), percentile(values, 0.5), percentile(values, 0.9))


@dataclass(frozen=True, slots=True)
class Share:
    """`part` of `whole`, and the share (None when there is nothing to divide by)."""

    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        return rate(self.part, self.whole)


@dataclass(frozen=True, slots=True)
class Escalations:
    customers: int
    tasks: int
    per_100: float | None
    by_reason: dict[str, float]  # tasks per 100 customers, by reason
    resolution: Distribution


@dataclass(frozen=True, slots=True)
class Consistency:
    cohorts: dict[str, float]  # completion rate of each weekly cohort of at least MIN_COHORT enrollments
    range: float | None
    stdev: float | None


@dataclass(frozen=True, slots=True)
class Kpis:
    entered: int
    holdout: int
    active: int
    completed: int
    exited: dict[str, int]
    goal: Share
    uplift: Uplift
    time_to_value: Distribution
    value_reached: Share
    early_completion: Share
    repeat_purchase: dict[int, Share]
    escalations: Escalations
    consistency: Consistency
    exception_completion: Share
    funnel: list = field(default_factory=list)


def compute(data: OutcomeData, journey: JourneyFacts | None, enrollments: Sequence[Enrollment]) -> Kpis:
    """Every KPI of these enrollments (of one journey; of several when `journey` is None), as of `as_of`."""
    from onboardflow.analytics.funnel import message_funnel

    as_of = data.as_of
    entered = [e for e in enrollments if e.started_at <= as_of]
    treated = [e for e in entered if not e.is_holdout]
    exited = Counter(e.exit_reason or "ended" for e in entered if ended_by(e, as_of))
    facts = _facts(data, journey)
    to_value = _times_to_value(data, treated, facts)
    return Kpis(
        entered=len(entered),
        holdout=len(entered) - len(treated),
        active=sum(not ended_by(e, as_of) for e in entered),
        completed=sum(exited[reason] for reason in COMPLETIONS),
        exited=dict(sorted(exited.items())),
        goal=Share(sum(converted_by(e, as_of) for e in treated), len(treated)),
        uplift=uplift(entered, as_of, window=lambda e: facts(e).goal_within),
        time_to_value=Distribution.of(to_value),
        value_reached=Share(len(to_value), len(treated)),
        early_completion=early_completion(treated, as_of, facts),
        repeat_purchase={days: repeat_purchase(data, treated, days) for days in REPEAT_WINDOWS},
        escalations=escalations(data.tasks, treated, as_of),
        consistency=consistency(treated, as_of),
        exception_completion=exception_completion(data, treated, facts),
        funnel=message_funnel(data, {e.id for e in entered}),
    )


Facts = Callable[[Enrollment], JourneyFacts]


def _facts(data: OutcomeData, journey: JourneyFacts | None) -> Facts:
    if journey is not None:
        return lambda enrollment: journey
    unknown = JourneyFacts("", "", "")
    return lambda enrollment: data.journeys.get(enrollment.journey_id, unknown)


def _events_between(data: OutcomeData, enrollment: Enrollment, end: datetime) -> list[Event]:
    return [
        event
        for event in data.events.get(enrollment.customer_id, ())
        if enrollment.started_at <= event.at <= end
    ]


def _times_to_value(data: OutcomeData, treated: Sequence[Enrollment], facts: Facts) -> list[float]:
    """Hours from each enrollment's trigger to its first value event (the trigger itself does not count)."""
    found = []
    for enrollment in treated:
        names = set(facts(enrollment).value_events)
        trigger = enrollment.trigger.get("id")
        first = next(
            (
                event
                for event in _events_between(data, enrollment, data.as_of)
                if event.name in names and event.id != trigger
            ),
            None,
        )
        if first is not None:
            found.append(hours(first.at - enrollment.started_at))
    return found


def early_completion(treated: Sequence[Enrollment], as_of: datetime, facts: Facts) -> Share:
    """Of the enrollments whose window has closed by `as_of`, those that reached the journey's milestone step
    (or, with none named, completed the journey) within the window from entry."""
    reached = whole = 0
    for enrollment in treated:
        journey = facts(enrollment)
        deadline = enrollment.started_at + journey.milestone_within
        if deadline > as_of:
            continue
        whole += 1
        if journey.milestone is not None:
            reached += any(
                visit.step_id == journey.milestone and visit.at <= deadline for visit in enrollment.history
            )
        else:
            reached += completed_by(enrollment, deadline)
    return Share(reached, whole)


def repeat_purchase(data: OutcomeData, treated: Sequence[Enrollment], days: int) -> Share:
    """Of the enrollments at least `days` old, those whose customer ordered again (an order other than the
    trigger's) within `days` of entering."""
    window = timedelta(days=days)
    repeated = whole = 0
    for enrollment in treated:
        end = enrollment.started_at + window
        if end > data.as_of:
            continue
        whole += 1
        trigger = enrollment.trigger
        repeated += any(
            event.name == ORDER
            and event.at > enrollment.started_at
            and event.id != trigger.get("id")
            and (
                event.properties.get("order_id") is None
                or event.properties.get("order_id") != trigger.get("order_id")
            )
            for event in _events_between(data, enrollment, end)
        )
    return Share(repeated, whole)


def escalations(tasks: Sequence[Task], treated: Sequence[Enrollment], as_of: datetime) -> Escalations:
    """Tasks opened for these enrollments (by their steps, or by a rule while they ran), per 100 customers,
    by reason; and how long the resolved ones took."""
    ids = {e.id for e in treated}
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for e in treated:
        spans.setdefault(e.customer_id, []).append((e.started_at, e.ended_at or as_of))
    mine = [
        t
        for t in tasks
        if t.task.at <= as_of
        and (
            t.task.enrollment_id in ids
            or (
                t.task.enrollment_id is None
                and any(start <= t.task.at <= end for start, end in spans.get(t.task.customer_id, ()))
            )
        )
    ]
    customers = len(spans)
    reasons = Counter(t.task.reason for t in mine)
    resolved = [
        hours(t.resolved_at - t.task.at)
        for t in mine
        if t.status == "resolved" and t.resolved_at is not None and t.resolved_at <= as_of
    ]
    return Escalations(
        customers,
        len(mine),
        100 * len(mine) / customers if customers else None,
        {reason: 100 * count / customers for reason, count in sorted(reasons.items())},
        Distribution.of(resolved),
    )


def consistency(treated: Sequence[Enrollment], as_of: datetime) -> Consistency:
    """Completion rate of each weekly entry cohort with at least MIN_COHORT enrollments, and their spread."""
    rates = {
        week: sum(completed_by(e, as_of) for e in members) / len(members)
        for week, members in weekly_cohorts(treated).items()
        if len(members) >= MIN_COHORT
    }
    found = spread(list(rates.values()))
    return Consistency(rates, *(found or (None, None)))


def is_exception(data: OutcomeData, enrollment: Enrollment, journey: JourneyFacts) -> bool:
    """Whether the enrollment went through an exception path: an exception step of its journey, or an
    exception event (failed payment or delivery, a bounce, a late delivery) while it ran."""
    end = min(enrollment.ended_at or data.as_of, data.as_of)
    if any(visit.step_id in journey.exception_steps and visit.at <= end for visit in enrollment.history):
        return True
    return any(
        event.name in EXCEPTION_EVENTS or (event.name == LATE_DELIVERY and event.properties.get("late"))
        for event in _events_between(data, enrollment, end)
    )


def exception_completion(data: OutcomeData, treated: Sequence[Enrollment], facts: Facts) -> Share:
    """Completion rate of the enrollments that went through an exception path."""
    exceptional = [e for e in treated if is_exception(data, e, facts(e))]
    return Share(sum(completed_by(e, data.as_of) for e in exceptional), len(exceptional))

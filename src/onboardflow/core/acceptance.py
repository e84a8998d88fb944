"""Judging a journey's acceptance criteria against what a run did to each customer.

Pure: the run is given as one `CustomerStory` per customer (their events, enrollments, the messages they
received and the tasks opened for them), and each criterion kind has its own judge, found through a
registry. A failing criterion names the customers who break it. The holdout group is left out of every
criterion: the journey sends it nothing and opens no task for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboardflow.core.criteria import (
    Escalated,
    EveryCustomer,
    GoalRate,
    MaxMessages,
    NoPromotionBefore,
    Reached,
    span,
)
from onboardflow.core.journey_steps import PURPOSES
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.core.version import JourneyVersion

CHANNELS = ("email", "sms", "whatsapp", "push", "in_app")
PROMOTION = "promotion"


@dataclass(frozen=True, slots=True)
class Received:
    """A message the customer received (delivered), from any journey of the run."""

    message_id: str
    journey_id: str
    step_id: str
    channel: str
    purpose: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Handoff:
    """A task opened for the customer (an escalate step)."""

    task_id: str
    journey_id: str
    step_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class CustomerStory:
    """What a run did to one customer: everything a criterion may judge."""

    customer: Customer
    events: tuple[Event, ...] = ()
    enrollments: tuple[Enrollment, ...] = ()
    messages: tuple[Received, ...] = ()  # in time order
    tasks: tuple[Handoff, ...] = ()  # in time order

    @property
    def id(self) -> str:
        return self.customer.id

    def treated(self, journey_id: str) -> list[Enrollment]:
        return [e for e in self.enrollments if e.journey_id == journey_id and not e.is_holdout]

    def is_held_out(self, journey_id: str) -> bool:
        return any(e.journey_id == journey_id and e.is_holdout for e in self.enrollments)


@dataclass(frozen=True, slots=True)
class Counterexample:
    customer_id: str
    why: str


@dataclass(frozen=True)
class Verdict:
    """One criterion judged: whether it holds, a line saying how it went, and who breaks it."""

    journey_id: str
    index: int
    criterion: str
    kind: str
    passed: bool
    detail: str
    breaking: int = 0  # customers who break it
    counterexamples: tuple[Counterexample, ...] = ()  # the first few of them, by customer id


@dataclass(frozen=True)
class Judgement:
    passed: bool
    detail: str
    breakers: list[Counterexample]


Judge = Callable[[Any, JourneyVersion, int, Sequence[CustomerStory], datetime], Judgement]
JUDGES: dict[type, Judge] = {}


def judges(kind: type) -> Callable[[Judge], Judge]:
    def register(judge: Judge) -> Judge:
        JUDGES[kind] = judge
        return judge

    return register


def check_acceptance(
    version: JourneyVersion, stories: Sequence[CustomerStory], *, end: datetime, limit: int = 5
) -> list[Verdict]:
    """Judge every criterion of `version` over the stories of a run that ended at `end`."""
    verdicts = []
    for index, criterion in enumerate(version.journey.acceptance):
        found = JUDGES[type(criterion)](criterion, version, index, stories, end)
        breakers = sorted(found.breakers, key=lambda example: example.customer_id)
        verdicts.append(Verdict(
            version.id, index, criterion.label, criterion.kind, found.passed, found.detail,
            len(breakers), tuple(breakers[:limit]),
        ))
    return verdicts


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@judges(MaxMessages)
def _max_messages(criterion: MaxMessages, version, index, stories, end) -> Judgement:
    breakers, checked, most = [], 0, 0
    for story in stories:
        worst: tuple[int, Enrollment] | None = None
        for enrollment in story.treated(version.id):
            checked += 1
            start, stop = enrollment.started_at, enrollment.started_at + criterion.within
            count = sum(1 for message in story.messages if start <= message.at < stop)
            most = max(most, count)
            if count > criterion.max_messages and (worst is None or count > worst[0]):
                worst = (count, enrollment)
        if worst is not None:
            count, enrollment = worst
            breakers.append(Counterexample(story.id, (
                f"{count} messages in the first {span(criterion.within)} after entering at "
                f"{when(enrollment.started_at)} (at most {criterion.max_messages})")))
    if breakers:
        return Judgement(False, f"{len(breakers)} customer(s) got more than {criterion.max_messages}; "
                         f"the most anyone got: {most}", breakers)
    return Judgement(True, f"{checked} entrant(s) checked; the most anyone got: {most}", [])


@judges(NoPromotionBefore)
def _no_promotion_before(criterion: NoPromotionBefore, version, index, stories, end) -> Judgement:
    name, breakers, checked = criterion.no_promotion_before, [], 0
    for story in stories:
        for enrollment in story.treated(version.id):
            checked += 1
            start = enrollment.started_at
            had = min((event.at for event in story.events if event.name == name and event.at >= start),
                      default=None)
            early = [m for m in story.messages
                     if m.purpose == PROMOTION and m.at >= start and (had is None or m.at < had)]
            if early:
                first = early[0]
                since = f"had it at {when(had)}" if had else "never had it"
                what = f"promotion {first.journey_id}/{first.step_id} at {when(first.at)}"
                breakers.append(Counterexample(story.id, f"{what}, before {name} ({since})"))
                break
    if breakers:
        return Judgement(False, f"{len(breakers)} customer(s) got a promotion before {name}", breakers)
    return Judgement(True, f"{checked} entrant(s) checked", [])


@judges(Escalated)
def _escalated(criterion: Escalated, version, index, stories, end) -> Judgement:
    spec = criterion.escalated
    location = f"acceptance.{index}.escalated.where"
    breakers, checked, undecided = [], 0, 0
    for story in stories:
        if story.is_held_out(version.id):
            continue
        cases = _event_cases(story, spec.event, version, location) if spec.event else _entry_cases(
            story, version, location)
        tasks = [task for task in story.tasks if task.journey_id == version.id]
        for label, since in cases:
            deadline = since + spec.within
            task = next((t for t in tasks if since <= t.at <= deadline), None)
            if task is not None:
                tasks.remove(task)  # one task answers one case
                checked += 1
            elif deadline > end:
                undecided += 1  # the run ended before the time allowed was up
            else:
                checked += 1
                why = f"{label} at {when(since)}: no task by {when(deadline)}"
                breakers.append(Counterexample(story.id, why))
                break
    what = f"{spec.event} event(s)" if spec.event else "entrant(s)"
    late = f"; {undecided} too close to the end to tell" if undecided else ""
    if breakers:
        return Judgement(False, f"{len(breakers)} customer(s) not escalated within {span(spec.within)} "
                         f"({checked} {what} checked{late})", breakers)
    return Judgement(True, f"{checked} {what} checked, each escalated in time{late}", [])


def _event_cases(story: CustomerStory, name: str, version: JourneyVersion, location: str):
    for event in story.events:
        if event.name != name:
            continue
        started = [e for e in story.enrollments if e.journey_id == version.id and e.started_at <= event.at]
        trigger = started[-1].trigger if started else {}
        scope = {"customer": story.customer.scope(), "event": event.scope(), "trigger": trigger}
        if version.holds(location, scope):
            yield f"{name} {_order_of(event)}".strip(), event.at


def _entry_cases(story: CustomerStory, version: JourneyVersion, location: str):
    for enrollment in story.treated(version.id):
        trigger = enrollment.trigger
        scope = {"customer": story.customer.scope(), "event": trigger, "trigger": trigger}
        if version.holds(location, scope):
            yield "entered", enrollment.started_at


def _order_of(event: Event) -> str:
    order = event.properties.get("order_id")
    return f"(order {order})" if order else ""


@judges(Reached)
def _reached(criterion: Reached, version, index, stories, end) -> Judgement:
    step = criterion.reached.step
    entrants, missed = 0, []
    for story in stories:
        for enrollment in story.treated(version.id):
            entrants += 1
            if not any(visit.step_id == step for visit in enrollment.history):
                where = enrollment.step_id if enrollment.is_active else f"ended: {enrollment.exit_reason}"
                why = f"entered at {when(enrollment.started_at)}, never reached {step} ({where})"
                missed.append(Counterexample(story.id, why))
    return _share(entrants - len(missed), entrants, criterion.reached.share, f"reached {step}", missed)


@judges(GoalRate)
def _goal_rate(criterion: GoalRate, version, index, stories, end) -> Judgement:
    entrants, missed = 0, []
    for story in stories:
        for enrollment in story.treated(version.id):
            entrants += 1
            if enrollment.goal_reached_at is None:
                missed.append(Counterexample(story.id, f"entered at {when(enrollment.started_at)}, no goal"))
    return _share(entrants - len(missed), entrants, criterion.goal_rate, "reached the goal", missed)


def _share(hits: int, entrants: int, wanted: float, what: str, missed: list[Counterexample]) -> Judgement:
    if entrants == 0:
        return Judgement(False, f"nobody entered: no share to measure (at least {wanted:g}% wanted)", [])
    share = 100 * hits / entrants
    detail = f"{hits} of {entrants} entrant(s) {what}: {share:.1f}% (at least {wanted:g}% wanted)"
    if share >= wanted:
        return Judgement(True, detail, [])
    unique = {example.customer_id: example for example in reversed(missed)}
    return Judgement(False, detail, list(unique.values()))


@judges(EveryCustomer)
def _every_customer(criterion: EveryCustomer, version, index, stories, end) -> Judgement:
    location = f"acceptance.{index}.every_customer"
    condition = version.condition(location)
    breakers, checked = [], 0
    for story in stories:
        if not story.treated(version.id):
            continue
        checked += 1
        summary = summary_of(story, version.id)
        if not condition.evaluate({"customer": story.customer.scope(), "summary": summary}):
            read = condition.paths.get("summary")
            shown = summary if read is None else {".".join(path): _at(summary, path) for path in read}
            values = ", ".join(f"{name}={value}" for name, value in shown.items())
            breakers.append(Counterexample(story.id, f"false for this customer (summary: {values})"))
    if breakers:
        return Judgement(False, f"false for {len(breakers)} of {checked} entrant(s)", breakers)
    return Judgement(True, f"true for all {checked} entrant(s)", [])


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def summary_of(story: CustomerStory, journey_id: str) -> dict[str, Any]:
    """What `every_customer` conditions read as `summary`: the customer's run in one journey."""
    mine = [e for e in story.enrollments if e.journey_id == journey_id]
    messages = [m for m in story.messages if m.journey_id == journey_id]
    steps = list(dict.fromkeys(visit.step_id for e in mine for visit in e.history))
    last = mine[-1] if mine else None
    return {
        "journey": journey_id,
        "group": last.group if last else None,
        "entries": len(mine),
        "entered_at": mine[0].started_at if mine else None,
        "steps": steps,
        "exit": None if last is None else ("active" if last.is_active else last.exit_reason),
        "goal_reached": any(e.goal_reached_at is not None for e in mine),
        "messages": len(messages),
        "all_messages": len(story.messages),
        "by_purpose": {purpose: sum(1 for m in messages if m.purpose == purpose) for purpose in PURPOSES},
        "by_channel": {channel: sum(1 for m in messages if m.channel == channel) for channel in CHANNELS},
        "tasks": sum(1 for task in story.tasks if task.journey_id == journey_id),
        "events": dict(sorted(Counter(event.name for event in story.events).items())),
    }

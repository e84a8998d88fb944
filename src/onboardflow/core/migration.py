"""Moving customers who wait in an older version of a journey to a newer one, at the steps its `migrate` maps.

Pure: `check_migration` says what is wrong with a mapping, `migrate` decides one enrollment's move; the
engine reads the enrollments and writes the decisions in the publish's transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from onboardflow.core.effects import CancelTimer, Decision, ScheduleTimer
from onboardflow.core.journey import Escalate, Wait, WaitFor, WaitUntil, Webhook
from onboardflow.core.machine import run_from, scope_for
from onboardflow.core.model import Customer, Enrollment, Visit
from onboardflow.core.steps import Context, Park, run_step
from onboardflow.core.validation import JourneyInvalid, Problem
from onboardflow.core.version import JourneyVersion

MOVABLE = (Wait, WaitFor, WaitUntil)  # the steps a customer rests at on a timer of their own


class MigrationInvalid(JourneyInvalid):
    """A version whose `migrate` cannot be carried out; nothing was published."""


def check_migration(
    new: JourneyVersion, old: JourneyVersion | None, *, latest: int | None, source: str, paused: bool = False
) -> list[Problem]:
    """Every problem with `new`'s migrate block against the stored versions (`latest`: the newest number,
    None when the journey has none; `old`: the version it migrates from, None when there is no such one)."""
    migration = new.journey.migrate
    if migration is None:
        return []
    field = "migrate.from_version"
    if latest is None:
        return [Problem(source, f"journey {new.id!r} has no version yet, so nobody to move: remove migrate",
                        field=field)]
    if old is None or not 1 <= migration.from_version <= latest:
        versions = "version 1" if latest == 1 else f"versions 1 to {latest}"
        message = (f"journey {new.id!r} has no version {migration.from_version} ({versions} so far; "
                   f"this one will be {latest + 1}): migrate from one of those")
        return [Problem(source, message, field=field)]
    problems = []
    for old_id, new_id in migration.steps.items():
        message = _mapping_problem(new, old, old_id, new_id, paused=paused)
        if message:
            problems.append(Problem(source, message, field=f"migrate.steps.{old_id}"))
    return problems


def _mapping_problem(new: JourneyVersion, old: JourneyVersion, old_id: str, new_id: str, *, paused: bool):
    if old_id not in old.steps:
        return f"version {old.version} has no step {old_id!r}; its steps are: {', '.join(old.steps)}"
    if new_id not in new.steps:
        return f"goes to step {new_id!r}, which does not exist; steps are: {', '.join(new.steps)}"
    step = old.steps[old_id]
    if isinstance(step, Webhook | Escalate):
        awaited = "webhook call" if isinstance(step, Webhook) else "task"
        return (f"customers at {old_id!r} wait for a {awaited} that version {old.version} made, which a new "
                f"step cannot take over: they finish on version {old.version}; remove this mapping")
    if not isinstance(step, MOVABLE):
        return (f"{old_id!r} is a {step.kind} step: nobody waits there, so nobody can be moved from it "
                "(map wait, wait_for and wait_until steps)")
    if paused and not isinstance(new.steps[new_id], MOVABLE):
        return (f"the journey is paused, and {new_id!r} (a {new.steps[new_id].kind} step) would run at once: "
                "map to a wait, wait_for or wait_until step, or resume the journey first")
    return None


def migrate(
    old: JourneyVersion,
    new: JourneyVersion,
    enrollment: Enrollment,
    *,
    new_step_id: str,
    customer: Customer,
    now: datetime,
    default_zone: str = "UTC",
) -> Decision:
    """Move a waiting enrollment of `old` to `new`, at `new_step_id`.

    It keeps its id, history, trigger, paths and group; its old timer is cancelled. A new step that waits
    is measured from when the customer reached the old one (a timer already past is due at once); any
    other step runs at once, until the enrollment waits or ends.
    """
    waiting = enrollment.waiting
    cancel = (CancelTimer(waiting.timer_id),) if waiting is not None and waiting.timer_id else ()
    moved = replace(enrollment, version=new.version, waiting=None)
    step = new.steps[new_step_id]
    if not isinstance(step, MOVABLE):
        decision = run_from(new, moved, new_step_id, customer=customer, now=now, default_zone=default_zone)
        return Decision(decision.enrollment, cancel + decision.effects)
    scope = scope_for(customer, enrollment.trigger, None)
    context = Context(now=reached_at(enrollment), scope=scope, seq=moved.seq, default_zone=default_zone)
    parked = run_step(new, moved, step, context)
    assert isinstance(parked, Park)  # wait, wait_for and wait_until always park
    effects = tuple(
        replace(effect, due_at=max(effect.due_at, now)) if isinstance(effect, ScheduleTimer) else effect
        for effect in parked.effects
    )
    history = (*enrollment.history, Visit(new_step_id, now))
    moved = replace(moved, step_id=new_step_id, seq=moved.seq + 1, waiting=parked.waiting, history=history)
    return Decision(moved, cancel + effects)


def reached_at(enrollment: Enrollment) -> datetime:
    """When the enrollment came to the step it is at: its last visit there (else its start)."""
    for visit in reversed(enrollment.history):
        if visit.step_id == enrollment.step_id:
            return visit.at
    return enrollment.started_at

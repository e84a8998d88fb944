"""Steps that choose the way on: `branch` (conditions), `split` (weighted paths), `exit`."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from onboardflow.core.journey import Branch, Exit, Split
from onboardflow.core.model import Enrollment
from onboardflow.core.steps import Context, End, Next, handles
from onboardflow.core.version import JourneyVersion


@handles(Branch)
def _branch(version: JourneyVersion, enrollment: Enrollment, step: Branch, context: Context) -> Next:
    for index, arm in enumerate(step.branch):
        if version.holds(f"steps.{step.id}.branch.{index}.when", context.scope):
            return Next(arm.goto)
    return Next(step.default if step.default else version.following.get(step.id))


@handles(Split)
def _split(version: JourneyVersion, enrollment: Enrollment, step: Split, context: Context) -> Next:
    """A customer takes the same path every time (a hash of journey, customer and step, not a random
    call), and the path is recorded on the enrollment so analytics can compare paths."""
    point = share_of(version.id, enrollment.customer_id, step.id) * sum(arm.weight for arm in step.split)
    chosen = step.split[-1]
    for arm in step.split:
        if point < arm.weight:
            chosen = arm
            break
        point -= arm.weight
    recorded = replace(enrollment, paths={**enrollment.paths, step.id: chosen.label})
    return Next(chosen.goto, enrollment=recorded)


@handles(Exit)
def _exit(version: JourneyVersion, enrollment: Enrollment, step: Exit, context: Context) -> End:
    return End(step.exit)


def share_of(*parts: str) -> float:
    """A number in [0, 1) fixed by `parts` and spread evenly over customers: the basis of splits and holdouts."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64

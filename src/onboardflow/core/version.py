"""A journey version ready to run: its conditions compiled once, its steps indexed, its order resolved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onboardflow.core.conditions import Condition, compile_condition
from onboardflow.core.journey import Branch, Journey, Step, WaitFor

@dataclass(frozen=True)
class JourneyVersion:
    journey: Journey
    version: int = 1
    conditions: Mapping[str, Condition] = field(default_factory=dict, repr=False)
    steps: Mapping[str, Step] = field(default_factory=dict, repr=False)
    following: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    interests: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.journey.id

    @property
    def first_step(self) -> str:
        return self.journey.steps[0].id

    @property
    def digest(self) -> str:
        return journey_digest(self.journey)

    def condition(self, location: str) -> Condition | None:
        return self.conditions.get(location)

    def holds(self, location: str, scope: Mapping[str, Any]) -> bool:
        """Evaluate the condition at `location` (e.g. `trigger.where`); no condition means true."""
        condition = self.conditions.get(location)
        return True if condition is None else condition.evaluate(scope)

    def next_after(self, step: Step) -> str | None:
        """Where a step goes when it is done: its own `goto`, else the next step in the file."""
        goto = getattr(step, "goto", None)
        return goto if goto else self.following.get(step.id)


def condition_sources(journey: Journey) -> dict[str, str]:
    """Every CEL expression in the journey, keyed by where it stands (`steps.route.branch.0.when`)."""
    found: dict[str, str] = {}
    if journey.trigger.where:
        found["trigger.where"] = journey.trigger.where
    if journey.audience:
        found["audience"] = journey.audience
    if journey.goal and journey.goal.where:
        found["goal.where"] = journey.goal.where
    for index, rule in enumerate(journey.exit_when):
        if rule.where:
            found[f"exit_when.{index}.where"] = rule.where
    for step in journey.steps:
        if isinstance(step, WaitFor) and step.wait_for.where:
            found[f"steps.{step.id}.wait_for.where"] = step.wait_for.where
        if isinstance(step, Branch):
            for index, arm in enumerate(step.branch):
                found[f"steps.{step.id}.branch.{index}.when"] = arm.when
    return found


def compile_version(journey: Journey, version: int = 1) -> JourneyVersion:
    """Compile every condition once; raises ConditionError on the first that does not compile."""
    conditions = {location: compile_condition(source) for location, source in condition_sources(journey).items()}
    ids = [step.id for step in journey.steps]
    following = {step_id: (ids[index + 1] if index + 1 < len(ids) else None) for index, step_id in enumerate(ids)}
    return JourneyVersion(
        journey=journey,
        version=version,
        conditions=conditions,
        steps={step.id: step for step in journey.steps},
        following=following,
        interests=events_of_interest(journey),
    )


def events_of_interest(journey: Journey) -> frozenset[str]:
    """Event names that can move a running enrollment: exits, the goal, and what steps wait for."""
    names = {rule.event for rule in journey.exit_when}
    if journey.goal:
        names.add(journey.goal.event)
    names.update(step.wait_for.event for step in journey.steps if isinstance(step, WaitFor))
    return frozenset(names)


def journey_digest(journey: Journey) -> str:
    """A fingerprint of the journey's content: equal content, equal digest, whatever the file's layout."""
    canonical = json.dumps(journey.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]

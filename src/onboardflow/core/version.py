"""A journey version ready to run: its conditions compiled once, its steps indexed, its order resolved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onboardflow.core.conditions import VARIABLES, Condition, compile_condition, scores_read
from onboardflow.core.criteria import SUMMARY_VARIABLES, criterion_conditions
from onboardflow.core.journey import Branch, Escalate, Journey, Send, Step, WaitFor, Webhook
from onboardflow.core.model import MESSAGE_UNDELIVERABLE, TASK_RESOLVED, WEBHOOK_FAILED, WEBHOOK_SUCCEEDED

RESPONSE_VARIABLES = (*VARIABLES, "response")  # what a webhook's `map` expressions read

@dataclass(frozen=True)
class JourneyVersion:
    journey: Journey
    version: int = 1
    conditions: Mapping[str, Condition] = field(default_factory=dict, repr=False)
    steps: Mapping[str, Step] = field(default_factory=dict, repr=False)
    following: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    interests: frozenset[str] = frozenset()
    reacts_to_all: bool = False  # an exit rule on a condition alone is re-checked on every event
    reads_scores: frozenset[str] = frozenset()  # the scores its conditions read (`score.repeat_purchase`)

    def reacts_to(self, event_name: str) -> bool:
        """Whether an event of this name can move a running enrollment of this version."""
        return self.reacts_to_all or event_name in self.interests

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
        found.update(_step_conditions(step))
    for index, criterion in enumerate(journey.acceptance):
        found.update(criterion_conditions(index, criterion))
    return found


def _step_conditions(step: Step) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(step, WaitFor):
        if step.wait_for.where:
            found[f"steps.{step.id}.wait_for.where"] = step.wait_for.where
        for index, arm in enumerate(step.wait_for.events):
            if arm.where:
                found[f"steps.{step.id}.wait_for.events.{index}.where"] = arm.where
    elif isinstance(step, Branch):
        for index, arm in enumerate(step.branch):
            found[f"steps.{step.id}.branch.{index}.when"] = arm.when
    elif isinstance(step, Webhook):
        for trait, expression in step.webhook.map.items():
            found[f"steps.{step.id}.webhook.map.{trait}"] = expression
    return found


def where_of(step_id: str, arm_index: int, spec_is_single: bool) -> str:
    """Where the condition of a wait_for's `arm_index`-th event stands."""
    if spec_is_single:
        return f"steps.{step_id}.wait_for.where"
    return f"steps.{step_id}.wait_for.events.{arm_index}.where"


def variables_at(location: str) -> tuple[str, ...]:
    """The variables an expression at `location` may read: a webhook's map reads the response too, and an
    acceptance criterion over each customer reads their summary."""
    if location.endswith(".every_customer"):
        return SUMMARY_VARIABLES
    return RESPONSE_VARIABLES if ".webhook.map." in location else VARIABLES


def compile_version(journey: Journey, version: int = 1) -> JourneyVersion:
    """Compile every condition once; raises ConditionError on the first that does not compile."""
    conditions = {
        location: compile_condition(source, variables=variables_at(location))
        for location, source in condition_sources(journey).items()
    }
    ids = [step.id for step in journey.steps]
    following = {step_id: (ids[index + 1] if index + 1 < len(ids) else None) for index, step_id in enumerate(ids)}
    return JourneyVersion(
        journey=journey,
        version=version,
        conditions=conditions,
        steps={step.id: step for step in journey.steps},
        following=following,
        interests=events_of_interest(journey),
        reacts_to_all=any(rule.event is None for rule in journey.exit_when),
        reads_scores=frozenset().union(*(scores_read(condition) for condition in conditions.values())),
    )


def events_of_interest(journey: Journey) -> frozenset[str]:
    """Event names that can move a running enrollment: exits, the goal, what steps wait for, and the
    events onboardflow emits about a step's own actions (a failed message, a resolved task, a webhook)."""
    names = {rule.event for rule in journey.exit_when if rule.event}
    if journey.goal:
        names.add(journey.goal.event)
    for step in journey.steps:
        if isinstance(step, WaitFor):
            names.update(arm.event for arm in step.wait_for.arms)
        elif isinstance(step, Send) and step.on_undeliverable:
            names.add(MESSAGE_UNDELIVERABLE)
        elif isinstance(step, Escalate) and step.escalate.wait:
            names.add(TASK_RESOLVED)
        elif isinstance(step, Webhook):
            names.update((WEBHOOK_SUCCEEDED, WEBHOOK_FAILED))
    return frozenset(names)


LATER_FIELDS = ("escalation",)  # fields added after journeys were stored: left out of the digest while unused


def journey_digest(journey: Journey) -> str:
    """A fingerprint of the journey's content: equal content, equal digest, whatever the file's layout.

    A field added to the language later counts only where a journey uses it, so adding it did not give
    every stored journey a new digest (and a new version at its next load).
    """
    unused = {name for name in LATER_FIELDS if not getattr(journey, name)}
    canonical = json.dumps(journey.model_dump(mode="json", by_alias=True, exclude=unused), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]

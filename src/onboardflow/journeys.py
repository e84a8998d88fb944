"""Journeys as the API takes and shows them: a document from a request body (YAML or JSON) read with every
problem, checked against the templates the workers render with, and each journey's numbers.

Loading makes live, as `onboardflow load` does: there is no draft state in the engine. A changed document
becomes the next version and goes live at once; the same content keeps its version.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from onboardflow.core.journey import Send
from onboardflow.core.validation import JourneyInvalid, Problem, load_journey, load_json_journey
from onboardflow.core.version import JourneyVersion
from onboardflow.messages.checks import check_send_step
from onboardflow.messages.loading import TemplateLoad, load_templates
from onboardflow.messages.sms import DEFAULT_SEGMENT_LIMIT
from onboardflow.ports import JourneyState, Store

JSON = "json"
YAML = "yaml"
MEDIA_TYPES = {
    "application/json": JSON,
    "application/yaml": YAML,
    "application/x-yaml": YAML,
    "text/yaml": YAML,
    "text/x-yaml": YAML,
    "text/plain": YAML,  # what `curl --data-binary @file` is often given
}


def read_journey(text: str, *, kind: str, source: str) -> JourneyVersion:
    """The journey in `text` (`kind` json or yaml); JourneyInvalid listing every problem with its line."""
    if kind == JSON:
        return load_json_journey(text, source=source)
    return load_journey(text, source=source)


@dataclass
class Validation:
    """A document checked: the journey when it reads cleanly, its problems, and the send steps' problems
    against the templates folder (with warnings about the folder itself)."""

    version: JourneyVersion | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.version is not None and not self.problems


def validate_journey(
    text: str, *, kind: str, source: str, templates: Path | TemplateLoad | None = None,
    segment_limit: int = DEFAULT_SEGMENT_LIMIT,
) -> Validation:
    """What `onboardflow validate` says of a file: the document's problems, then, when it reads cleanly and
    `templates` is a folder (or templates loaded already), each send step against those templates."""
    try:
        version = read_journey(text, kind=kind, source=source)
    except JourneyInvalid as invalid:
        return Validation(None, invalid.problems)
    if isinstance(templates, Path):
        templates = load_templates(templates, segment_limit=segment_limit) if templates.is_dir() else None
    if templates is None:
        return Validation(version)
    sends = [step for step in version.journey.steps
             if isinstance(step, Send) and step.send.template not in templates.unreadable]
    problems = [_step_problem(source, version.id, step, message)
                for step in sends for message in check_send_step(version.id, step, templates.templates)]
    warnings = [str(problem) for problem in [*templates.problems, *templates.warnings]]
    return Validation(version, problems, warnings)


def _step_problem(source: str, journey_id: str, step: Send, message: str) -> Problem:
    """`check_send_step`'s sentence as a Problem with its step and field."""
    prefix = f"journey {journey_id!r}: step {step.id!r}: field "
    if not message.startswith(prefix):
        return Problem(source, message, step_id=step.id)
    name, _, rest = message[len(prefix):].partition(": ")
    return Problem(source, rest, step_id=step.id, field=name)


@dataclass(frozen=True, slots=True)
class StepCount:
    version: int
    step_id: str
    state: str  # active, or ended:<exit reason>
    count: int


@dataclass(frozen=True, slots=True)
class JourneyNumbers:
    """How many customers are in a journey and how many left it, by reason; events held while paused."""

    active: int = 0
    ended: dict[str, int] = field(default_factory=dict)  # exit reason -> customers
    held_events: int = 0
    steps: tuple[StepCount, ...] = ()


def journey_numbers(store: Store) -> dict[str, JourneyNumbers]:
    """Every journey's numbers, from one read of the enrollment counts."""
    steps: dict[str, list[StepCount]] = {}
    for journey_id, version, step_id, state, count in store.step_counts():
        steps.setdefault(journey_id, []).append(StepCount(version, step_id, state, count))
    held = store.held_counts()
    return {journey_id: _numbers(steps.get(journey_id, []), held.get(journey_id, 0))
            for journey_id in {*steps, *held}}


def _numbers(steps: list[StepCount], held: int) -> JourneyNumbers:
    ended: Counter[str] = Counter()
    for row in steps:
        if row.state != "active":
            ended[row.state.removeprefix("ended:")] += row.count
    active = sum(row.count for row in steps if row.state == "active")
    return JourneyNumbers(active, dict(sorted(ended.items())), held, tuple(steps))


def journey_state(store: Store, journey_id: str) -> JourneyState | None:
    return next((state for state in store.journeys() if state.journey_id == journey_id), None)

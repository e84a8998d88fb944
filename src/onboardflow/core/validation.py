"""Reading a journey document and reporting every problem in it with file, line, step id and field."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from onboardflow.core.conditions import ConditionError, compile_condition, scores_read
from onboardflow.core.criteria import Reached, criterion_kind
from onboardflow.core.escalation import rule_kind
from onboardflow.core.journey import (
    WAITING_KINDS,
    Branch,
    Escalate,
    Exit,
    Journey,
    Send,
    Split,
    Step,
    WaitFor,
    Webhook,
    step_kind,
)
from onboardflow.core.text import unstorable_text
from onboardflow.core.version import JourneyVersion, compile_version, condition_sources, variables_at

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a journey, said so that a person can find and fix it."""

    source: str
    message: str
    line: int | None = None
    step_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        parts = [where]
        if self.step_id:
            parts.append(f"step {self.step_id!r}")
        if self.field:
            parts.append(f"field {self.field}")
        return f"{': '.join(parts)}: {self.message}"


class JourneyInvalid(ValueError):
    """A journey document with problems; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def load_journey(
    text: str, *, source: str = "<journey>", version: int = 1, scores: Collection[str] | None = None
) -> JourneyVersion:
    """Read a YAML or JSON journey, check it whole, and compile it; raise JourneyInvalid listing all problems.

    `scores` names the scores a trained model can give (None: do not check that conditions read only those).
    """
    document, lines = parse_yaml(text, source)
    return check_document(document, source=source, lines=lines, version=version, scores=scores)


def check_document(
    document: Any,
    *,
    source: str = "<journey>",
    lines: dict[Path, int] | None = None,
    version: int = 1,
    scores: Collection[str] | None = None,
) -> JourneyVersion:
    """Check an already-parsed journey document (from the API, say) and compile it."""
    lines = lines or {}
    if not isinstance(document, dict):
        raise JourneyInvalid([Problem(source, "a journey is a mapping with id, name, owner, trigger and steps", 1)])
    unstorable = unstorable_text(document)
    if unstorable:
        path, message = unstorable
        field = ".".join(str(part) for part in path) or None
        raise JourneyInvalid([Problem(source, message, line_of(lines, path), field=field)])
    try:
        journey = Journey.model_validate(document)
    except ValidationError as error:
        problems = [*_schema_problems(error, document, source, lines), *_raw_condition_problems(document, source, lines)]
        raise JourneyInvalid(problems) from None
    problems = [*_condition_problems(journey, source, lines, document), *_graph_problems(journey, source, lines)]
    if scores is not None and not problems:
        problems.extend(_untrained_scores(journey, source, lines, scores))
    if problems:
        raise JourneyInvalid(problems)
    return compile_version(journey, version)


def load_json_journey(text: str, *, source: str = "<journey>", version: int = 1) -> JourneyVersion:
    """Read a JSON journey: JSON's own errors with line and column, then every problem with its line."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        problem = Problem(source, f"not valid JSON: {error.msg} (column {error.colno})", error.lineno)
        raise JourneyInvalid([problem]) from None
    except RecursionError:
        raise JourneyInvalid([_too_deep(source)]) from None
    try:
        lines = _line_index(_compose(text, source))
    except JourneyInvalid as invalid:
        if invalid.problems[0].message.startswith("not valid YAML"):
            lines = {}  # valid JSON the YAML reader cannot place (tabs): problems without lines
        else:
            raise
    return check_document(document, source=source, lines=lines, version=version)


def parse_yaml(text: str, source: str) -> tuple[Any, dict[Path, int]]:
    """A YAML document and the line of each path in it (`("steps", 0, "id")`); JourneyInvalid if not YAML
    (or nested too deep, or expanding too far through aliases)."""
    node = _compose(text, source)
    document = yaml.safe_load(text)
    return document, _line_index(node)




MAX_DEPTH = 50  # mappings and lists inside each other; a journey needs a handful
MAX_VALUES = 100_000  # values once aliases are expanded: a few aliases must not make a billion


def _compose(text: str, source: str) -> yaml.Node | None:
    """The YAML node tree; JourneyInvalid for bad YAML, nesting deeper than MAX_DEPTH, or aliases that
    expand past MAX_VALUES (a document that would take the server's memory)."""
    try:
        _check_depth(text, source)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        detail = getattr(error, "problem", None) or str(error)
        raise JourneyInvalid([Problem(source, f"not valid YAML: {detail}", line)]) from None
    if node is not None and _expanded_size(node, {}, source) > MAX_VALUES:
        message = f"expands to more than {MAX_VALUES} values through aliases (*name): write it out plainly"
        raise JourneyInvalid([Problem(source, message, 1)])
    return node


def _check_depth(text: str, source: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):  # events, not recursion: any depth is safe
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise JourneyInvalid([_too_deep(source, event.start_mark.line + 1)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _too_deep(source: str, line: int | None = None) -> Problem:
    message = f"nests lists and mappings more than {MAX_DEPTH} deep: a journey needs a handful"
    return Problem(source, message, line)


def _expanded_size(node: yaml.Node, sizes: dict[int, int | None], source: str) -> int:
    """How many values `node` is once every alias is written out (each node counted once, then reused)."""
    key = id(node)
    if key in sizes:
        if sizes[key] is None:
            raise JourneyInvalid([Problem(source, "an alias refers to the node it is in: write it out",
                                          node.start_mark.line + 1)])
        return sizes[key]
    sizes[key] = None
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    total = 1
    for child in children:
        total += _expanded_size(child, sizes, source)
        if total > MAX_VALUES:
            break
    sizes[key] = total
    return total


def _line_index(node: yaml.Node | None) -> dict[Path, int]:
    lines: dict[Path, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return lines


def _index_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _index_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of `path`, or of the nearest enclosing path that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _step_path(journey: Journey, step_id: str, *rest: str | int) -> Path:
    index = next(i for i, step in enumerate(journey.steps) if step.id == step_id)
    return ("steps", index, *rest)


def _schema_problems(error: ValidationError, document: dict, source: str, lines: dict) -> Iterator[Problem]:
    for item in error.errors():
        path = _strip_tags(tuple(item["loc"]), document)
        step_id = _step_id_at(document, path)
        field = _field_name(path)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown field {path[-1]!r}: remove it or check its spelling"
        yield Problem(source, message, line_of(lines, path), step_id, field)


def _strip_tags(path: Path, document: dict) -> Path:
    """Drop the union tag pydantic puts after a step's, a rule's or a criterion's index
    (`steps.0.send.send.channel`)."""
    tagged = {"steps": step_kind, "escalation": rule_kind, "acceptance": criterion_kind}
    if len(path) > 2 and path[0] in tagged and isinstance(path[1], int):
        items = document.get(path[0])
        raw = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        if path[2] == tagged[path[0]](raw):
            return (*path[:2], *path[3:])
    return path


def _step_id_at(document: dict, path: Path) -> str | None:
    if len(path) > 1 and path[0] == "steps" and isinstance(path[1], int):
        steps = document.get("steps")
        if isinstance(steps, list) and path[1] < len(steps) and isinstance(steps[path[1]], dict):
            found = steps[path[1]].get("id")
            return str(found) if found is not None else f"#{path[1] + 1}"
    return None


def _field_name(path: Path) -> str | None:
    rest = path[2:] if path[:1] == ("steps",) and len(path) > 1 else path
    text = ".".join(str(part) for part in rest)
    return text or None


def _condition_problems(journey: Journey, source: str, lines: dict, document: dict) -> Iterator[Problem]:
    for location, expression in condition_sources(journey).items():
        try:
            compile_condition(expression, variables=variables_at(location))
        except ConditionError as error:
            parts = location.split(".")
            step_id = parts[1] if parts[0] == "steps" else None
            path = _step_path(journey, step_id, *_as_path(parts[2:])) if step_id else tuple(_as_path(parts))
            field = ".".join(parts[2:] if step_id else parts)
            yield Problem(source, error.message, line_of(lines, path), step_id, field)


def _untrained_scores(
    journey: Journey, source: str, lines: dict, scores: Collection[str]
) -> Iterator[Problem]:
    """Conditions that read a score no trained model gives: they could never hold, so say what to train."""
    for location, expression in condition_sources(journey).items():
        condition = compile_condition(expression, variables=variables_at(location))
        for name in sorted(scores_read(condition) - set(scores)):
            parts = location.split(".")
            step_id = parts[1] if parts[0] == "steps" else None
            path = _step_path(journey, step_id, *_as_path(parts[2:])) if step_id else tuple(_as_path(parts))
            field = ".".join(parts[2:] if step_id else parts)
            command = name.replace("_", "-")
            yield Problem(source, f"reads score.{name}, but no {command} model is trained: train one with "
                          f"`onboardflow model train {command}` (it is kept in the models folder, "
                          "ONBOARDFLOW_MODELS_DIR)", line_of(lines, path), step_id, field)


def _raw_condition_problems(document: dict, source: str, lines: dict) -> Iterator[Problem]:
    """Check the CEL of a document that failed its schema, so one run reports both kinds of problem."""
    for path, expression in _raw_conditions(document):
        if not isinstance(expression, str):
            continue
        try:
            compile_condition(expression, variables=variables_at(".".join(map(str, path))))
        except ConditionError as error:
            step_id = _step_id_at(document, path)
            yield Problem(source, error.message, line_of(lines, path), step_id, _field_name(path))


def _raw_conditions(document: dict) -> Iterator[tuple[Path, Any]]:
    def get(value: Any, key: str) -> Any:
        return value.get(key) if isinstance(value, dict) else None

    for key in ("trigger", "goal"):
        if get(get(document, key), "where") is not None:
            yield (key, "where"), document[key]["where"]
    if document.get("audience") is not None:
        yield ("audience",), document["audience"]
    for index, rule in enumerate(document.get("exit_when") or []):
        if get(rule, "where") is not None:
            yield ("exit_when", index, "where"), rule["where"]
    steps = document.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        wait_for = get(step, "wait_for")
        if get(wait_for, "where") is not None:
            yield ("steps", index, "wait_for", "where"), wait_for["where"]
        for arm_index, arm in _items(get(wait_for, "events")):
            if get(arm, "where") is not None:
                yield ("steps", index, "wait_for", "events", arm_index, "where"), arm["where"]
        for arm_index, arm in _items(get(step, "branch")):
            if get(arm, "when") is not None:
                yield ("steps", index, "branch", arm_index, "when"), arm["when"]
        mapping = get(get(step, "webhook"), "map")
        for trait, expression in (mapping.items() if isinstance(mapping, dict) else ()):
            yield ("steps", index, "webhook", "map", str(trait)), expression
    for index, criterion in _items(document.get("acceptance")):
        if get(get(criterion, "escalated"), "where") is not None:
            yield ("acceptance", index, "escalated", "where"), criterion["escalated"]["where"]
        if get(criterion, "every_customer") is not None:
            yield ("acceptance", index, "every_customer"), criterion["every_customer"]


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else iter(())


def _as_path(parts: list[str]) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in parts]


def edges(journey: Journey) -> dict[str, list[tuple[str, str]]]:
    """Each step's ways out, as (field, target step id); a step with none ends the journey."""
    ids = [step.id for step in journey.steps]
    following = dict(zip(ids, [*ids[1:], None], strict=True))
    out: dict[str, list[tuple[str, str]]] = {}
    for step in journey.steps:
        out[step.id] = [(field, target) for field, target in _exits_of(step, following[step.id]) if target]
    return out


def _exits_of(step: Step, following: str | None) -> Iterator[tuple[str, str | None]]:
    if isinstance(step, Exit):
        return
    if isinstance(step, Branch):
        for index, arm in enumerate(step.branch):
            yield f"branch.{index}.goto", arm.goto
        yield ("default", step.default) if step.default else ("(next step)", following)
        return
    if isinstance(step, Split):
        for index, arm in enumerate(step.split):
            yield f"split.{index}.goto", arm.goto
        return
    goto = getattr(step, "goto", None)
    yield ("goto", goto) if goto else ("(next step)", following)
    yield from _side_exits(step)


def _side_exits(step: Step) -> Iterator[tuple[str, str | None]]:
    """The ways out besides the main one: timeouts, errors, outcomes, the wait_for events' own gotos."""
    if isinstance(step, WaitFor):
        yield "on_timeout", step.on_timeout
        for index, arm in enumerate(step.wait_for.events):
            yield f"wait_for.events.{index}.goto", arm.goto
    elif isinstance(step, Send):
        yield "on_undeliverable", step.on_undeliverable
    elif isinstance(step, Webhook):
        yield "on_error", step.on_error
    elif isinstance(step, Escalate):
        for outcome, target in step.escalate.on_outcome.items():
            yield f"escalate.on_outcome.{outcome}", target
        yield "escalate.on_overdue", step.escalate.on_overdue


def _graph_problems(journey: Journey, source: str, lines: dict) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, step in enumerate(journey.steps):
        if step.id in seen:
            yield Problem(source, f"duplicate step id {step.id!r}: step ids must be unique",
                          line_of(lines, ("steps", index, "id")), step.id, "id")
        seen.setdefault(step.id, index)
        if isinstance(step, WaitFor) and step.wait_for.timeout is None:
            yield Problem(source, "wait_for needs a timeout, e.g. timeout: 10d, so nobody waits forever",
                          line_of(lines, ("steps", index, "wait_for")), step.id, "wait_for.timeout")
    if len(seen) < len(journey.steps):
        return  # with two steps of one id, where a goto leads is unknowable: fix the ids first
    graph = edges(journey)
    yield from _missing_targets(journey, graph, source, lines, seen)
    yield from _missing_migration_targets(journey, source, lines, seen)
    yield from _missing_criterion_steps(journey, source, lines, seen)
    yield from _missing_milestone(journey, source, lines, seen)
    yield from _unreachable(journey, graph, source, lines, seen)
    yield from _loops_without_wait(journey, graph, source, lines, seen)


def _missing_targets(journey, graph, source, lines, seen) -> Iterator[Problem]:
    known = ", ".join(seen)
    for step in journey.steps:
        for field, target in graph[step.id]:
            if target not in seen:
                path = ("steps", seen[step.id], *_as_path(field.split(".")))
                yield Problem(source, f"goes to step {target!r}, which does not exist; steps are: {known}",
                              line_of(lines, path), step.id, field)


def _missing_migration_targets(journey, source, lines, seen) -> Iterator[Problem]:
    """Where `migrate` moves customers must be a step of this version (the old ids are checked at publish,
    against the version they come from)."""
    if journey.migrate is None:
        return
    for old_id, new_id in journey.migrate.steps.items():
        if new_id not in seen:
            yield Problem(source, f"moves customers to step {new_id!r}, which does not exist; steps are: "
                          f"{', '.join(seen)}", line_of(lines, ("migrate", "steps", old_id)), None,
                          f"migrate.steps.{old_id}")


def _missing_criterion_steps(journey, source, lines, seen) -> Iterator[Problem]:
    for index, criterion in enumerate(journey.acceptance):
        if isinstance(criterion, Reached) and criterion.reached.step not in seen:
            line = line_of(lines, ("acceptance", index, "reached", "step"))
            yield Problem(source, f"names step {criterion.reached.step!r}, which does not exist; steps are: "
                          f"{', '.join(seen)}", line, None, f"acceptance.{index}.reached.step")


def _missing_milestone(journey, source, lines, seen) -> Iterator[Problem]:
    step = journey.outcomes.milestone
    if step is not None and step not in seen:
        line = line_of(lines, ("outcomes", "milestone"))
        yield Problem(source, f"names step {step!r}, which does not exist; steps are: {', '.join(seen)}",
                      line, None, "outcomes.milestone")


def _unreachable(journey, graph, source, lines, seen) -> Iterator[Problem]:
    reached = _reachable(journey.steps[0].id, graph)
    for step in journey.steps:
        if step.id not in reached:
            yield Problem(source, "no step leads here: add a goto to it, or remove the step",
                          line_of(lines, ("steps", seen[step.id])), step.id, None)


def _reachable(first: str, graph: dict[str, list[tuple[str, str]]]) -> set[str]:
    reached, frontier = {first}, [first]
    while frontier:
        for _, target in graph.get(frontier.pop(), []):
            if target in graph and target not in reached:
                reached.add(target)
                frontier.append(target)
    return reached


def _loops_without_wait(journey, graph, source, lines, seen) -> Iterator[Problem]:
    """A cycle through steps that never wait would run forever within one stimulus."""
    kinds = {step.id: step for step in journey.steps}
    instant = {sid for sid, step in kinds.items() if not isinstance(step, WAITING_KINDS)}
    reported: set[frozenset[str]] = set()
    # In file order, not set order, so a file gives the same report on every run.
    for start in (step.id for step in journey.steps if step.id in instant):
        cycle = _cycle_through(start, graph, instant)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            path = " -> ".join([*cycle, cycle[0]])
            yield Problem(source, f"loop with no wait in it: {path}; add a wait or wait_for to the loop",
                          line_of(lines, ("steps", seen[cycle[0]])), cycle[0], None)


def _cycle_through(start: str, graph: dict, instant: set[str]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, path = stack.pop()
        for _, target in graph.get(node, []):
            if target == start:
                return path
            if target in instant and target not in visited:
                visited.add(target)
                stack.append((target, [*path, target]))
    return None

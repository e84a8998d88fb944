"""The Journeys pages: the list (status, live version, owner, entrants, goal rate) and one journey (its graph
with the traffic on each edge, the YAML editor checked in place, its versions and their diff, pause and
resume, and message previews per channel and locale). The same services as the API's journey routes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Annotated, Literal

import yaml
from fastapi import Depends, Form, Request
from starlette.responses import Response

from onboardflow.api.dependencies import EngineDep, SettingsDep, StoreDep
from onboardflow.api.problems import Problem
from onboardflow.core.validation import JourneyInvalid
from onboardflow.core.validation import Problem as JourneyProblem
from onboardflow.engine.live import stored_journey
from onboardflow.engine.pausing import JourneyNotFound, JourneyNotPaused
from onboardflow.journeys import YAML, JourneyNumbers, journey_numbers, read_journey, validate_journey
from onboardflow.ports import GoalCounts, Store, StoredVersion
from onboardflow.simulation.graph import edges_with_traffic, entrants_by_step, layout
from onboardflow.simulation.svg import graph_svg
from onboardflow.web.auth import Viewer, require_role, web_router
from onboardflow.web.previews import send_steps
from onboardflow.web.rendering import go_to, page
from onboardflow.web.workspace import journey_of, message_templates, version_of

router = web_router()
SOURCE = "editor"


@dataclass(frozen=True)
class JourneyRow:
    id: str
    name: str
    status: str
    live_version: int
    owner: str
    goal: str | None
    active: int
    counts: GoalCounts

    @property
    def entrants(self) -> int:
        return self.counts.entrants + self.counts.holdout


def journey_rows(store: Store) -> list[JourneyRow]:
    numbers, goals = journey_numbers(store), store.goal_counts()
    rows = []
    for state in store.journeys():
        definition = version_of(store, state).definition
        goal = definition.get("goal") or {}
        rows.append(JourneyRow(
            state.journey_id, definition.get("name", state.name), "paused" if state.is_paused else "live",
            state.live_version, definition.get("owner", ""), goal.get("event"),
            numbers.get(state.journey_id, JourneyNumbers()).active,
            goals.get(state.journey_id, GoalCounts()),
        ))
    return rows


@router.get("/journeys")
def journeys_page(request: Request, store: StoreDep, viewer: Viewer) -> Response:
    return page(request, "journeys.html", {"rows": journey_rows(store)})


@router.get("/journeys/{journey_id}")
def journey_page(request: Request, journey_id: str, store: StoreDep, settings: SettingsDep, viewer: Viewer,
                 version: int | None = None) -> Response:
    state = journey_of(store, journey_id)
    shown = version_of(store, state, version)
    compiled = stored_journey(shown)
    paths = store.step_paths(journey_id, shown.version)
    graph = graph_svg(compiled, layout(compiled), edges_with_traffic(compiled, paths),
                      entrants_by_step(compiled, paths))
    versions = store.versions(journey_id)
    return page(request, "journey.html", {
        "state": state, "shown": shown, "journey": compiled.journey, "graph": graph, "versions": versions,
        "document": as_yaml(shown.definition), "sends": send_steps(compiled),
        "numbers": journey_numbers(store).get(journey_id, JourneyNumbers()),
        "counts": store.goal_counts().get(journey_id, GoalCounts()),
        "diff": _diff(versions[-2], versions[-1]) if len(versions) > 1 else None,
    })


@router.post("/journeys/{journey_id}/validate")
def validate(request: Request, journey_id: str, settings: SettingsDep, viewer: Viewer,
             document: Annotated[str, Form()]) -> Response:
    """The editor's check: every problem, shown at its line of the document."""
    checked = validate_journey(document, kind=YAML, source=SOURCE, templates=message_templates(settings),
                               segment_limit=settings.sms_segment_limit)
    problems = list(checked.problems)
    if checked.version is not None and checked.version.id != journey_id:
        problems.append(_mismatch(checked.version.id, journey_id))
    return page(request, "_checked.html", {"lines": annotated(document, problems), "problems": problems,
                                            "warnings": checked.warnings, "valid": not problems})


@router.post("/journeys/{journey_id}/publish", dependencies=[Depends(require_role("owner"))])
def publish(request: Request, journey_id: str, engine: EngineDep, settings: SettingsDep,
            document: Annotated[str, Form()]) -> Response:
    """Make the edited document live as the next version, as `PUT /v1/journeys/{id}` does."""
    try:
        version = read_journey(document, kind=YAML, source=SOURCE)
        if version.id != journey_id:
            raise JourneyInvalid([_mismatch(version.id, journey_id)])
        engine.publish_version(version, source="web editor")
    except JourneyInvalid as invalid:
        context = {"lines": annotated(document, invalid.problems), "problems": invalid.problems,
                   "warnings": [], "valid": False}
        return page(request, "_checked.html", context, status=422)
    return go_to(request, f"/journeys/{journey_id}")


@router.post("/journeys/{journey_id}/{action}", dependencies=[Depends(require_role("owner"))])
def pause_or_resume(request: Request, journey_id: str, action: Literal["pause", "resume"],
                    engine: EngineDep) -> Response:
    """Pause (nobody enters or moves; what would move them is held) or resume (what was held is applied)."""
    try:
        engine.pause(journey_id) if action == "pause" else engine.resume(journey_id)
    except JourneyNotFound as missing:
        raise Problem(404, "Journey not found", str(missing)) from None
    except JourneyNotPaused:
        pass  # resumed already, from another tab
    return go_to(request, f"/journeys/{journey_id}")


@router.get("/journeys/{journey_id}/diff")
def diff(request: Request, journey_id: str, store: StoreDep, viewer: Viewer, a: int, b: int) -> Response:
    """What changed from version `a` to version `b`, line by line."""
    state = journey_of(store, journey_id)
    changes = _diff(version_of(store, state, a), version_of(store, state, b))
    return page(request, "_diff.html", {"diff": changes, "journey_id": journey_id})


def as_yaml(definition: dict) -> str:
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    problems: tuple[str, ...]


def annotated(document: str, problems: list) -> list[Line]:
    """The document's lines, each with the problems found at it (those without a line go on line 1)."""
    at: dict[int, list[str]] = {}
    for problem in problems:
        at.setdefault(problem.line or 1, []).append(_said(problem))
    lines = document.splitlines() or [""]
    last = len(lines)
    for number in [n for n in at if n > last]:  # past the end (a missing field): shown on the last line
        at.setdefault(last, []).extend(at.pop(number))
    return [Line(n, text, tuple(at.get(n, ()))) for n, text in enumerate(lines, start=1)]


def _said(problem) -> str:
    where = [f"step {problem.step_id!r}"] if problem.step_id else []
    where += [f"field {problem.field}"] if problem.field else []
    return ": ".join([*where, problem.message])


def _mismatch(document_id: str, journey_id: str):
    message = (f"the document's id is {document_id!r}, but this is journey {journey_id!r}: keep the id (a "
               "new journey is a new document)")
    return JourneyProblem(SOURCE, message, line=1, field="id")


@dataclass(frozen=True)
class Diff:
    a: StoredVersion
    b: StoredVersion
    lines: list[tuple[str, str]]  # (kind: add, remove, context, hunk; text)


def _diff(old: StoredVersion, new: StoredVersion) -> Diff:
    text = difflib.unified_diff(as_yaml(old.definition).splitlines(), as_yaml(new.definition).splitlines(),
                                f"v{old.version}", f"v{new.version}", lineterm="", n=3)
    return Diff(old, new, [_kind(line) for line in list(text)[2:]])


def _kind(line: str) -> tuple[str, str]:
    kinds = {"+": "add", "-": "remove", "@": "hunk"}
    return kinds.get(line[:1], "context"), line

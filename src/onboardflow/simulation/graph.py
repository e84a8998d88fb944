"""A journey as a graph: its steps, its ways out with the traffic each carried, and a layout to draw it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from onboardflow.core.acceptance import CustomerStory
from onboardflow.core.validation import edges
from onboardflow.core.version import JourneyVersion

EXCEPTION_FIELDS = (
    "on_timeout",
    "on_undeliverable",
    "on_error",
    "escalate.on_overdue",
    "escalate.on_outcome",
)


def is_exception(field: str) -> bool:
    """A way out for when things go wrong: a time-out, an undeliverable message, an error, an overdue task."""
    return field.startswith(EXCEPTION_FIELDS)


def journey_edges(version: JourneyVersion, stories: Iterable[CustomerStory]) -> list[dict[str, Any]]:
    """Every way from step to step, with how many times the stories' enrollments took it."""
    paths = (
        tuple(visit.step_id for visit in enrollment.history)
        for story in stories
        for enrollment in story.enrollments
        if enrollment.journey_id == version.id
    )
    return edges_with_traffic(version, paths)


def edges_with_traffic(version: JourneyVersion, paths: Iterable[Sequence[str]]) -> list[dict[str, Any]]:
    """Every way from step to step, with how many times enrollments took it, from the steps each went
    through (file order, then the rest).

    Two fields leading to the same step are one edge (`goto, on_timeout`); a move no field declares (a
    message found undeliverable later, a migration) is listed as `(other)`.
    """
    taken = Counter()
    for path in paths:
        taken.update(zip(path, path[1:], strict=False))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for step_id, ways in edges(version.journey).items():
        for field, target in ways:
            edge = found.setdefault((step_id, target), {"from": step_id, "to": target, "fields": []})
            edge["fields"].append(field)
    for pair in sorted(set(taken) - set(found)):
        found[pair] = {"from": pair[0], "to": pair[1], "fields": ["(other)"]}
    return [
        {
            "from": edge["from"],
            "to": edge["to"],
            "field": ", ".join(edge["fields"]),
            "exception": all(is_exception(field) for field in edge["fields"]),
            "count": taken.get(pair, 0),
        }
        for pair, edge in found.items()
    ]


def entrants_by_step(version: JourneyVersion, paths: Iterable[Sequence[str]]) -> dict[str, int]:
    """Per step, in file order: how many of the paths went through it (once each, however often)."""
    counts = Counter(step for path in paths for step in set(path))
    return {step.id: counts.get(step.id, 0) for step in version.journey.steps}


@dataclass(frozen=True)
class Layout:
    """Where each step goes: a row (its depth from the first step) and a column within the row."""

    rows: dict[str, int]
    columns: dict[str, int]

    @property
    def depth(self) -> int:
        return max(self.rows.values(), default=0) + 1

    @property
    def width(self) -> int:
        return max(self.columns.values(), default=0) + 1


def layout(version: JourneyVersion) -> Layout:
    """Rows by the shortest way from the first step (breadth first); columns in file order within a row.
    Steps nothing leads to (after a migration, say) go in a last row."""
    graph = edges(version.journey)
    rows = {version.first_step: 0}
    frontier = [version.first_step]
    while frontier:
        following = []
        for step_id in frontier:
            for _, target in graph.get(step_id, []):
                if target in graph and target not in rows:
                    rows[target] = rows[step_id] + 1
                    following.append(target)
        frontier = following
    last = max(rows.values(), default=0) + 1
    order = [step.id for step in version.journey.steps]
    for step_id in order:
        rows.setdefault(step_id, last)
    columns: dict[str, int] = {}
    used: Counter = Counter()
    for step_id in order:
        columns[step_id] = used[rows[step_id]]
        used[rows[step_id]] += 1
    return Layout(rows, columns)

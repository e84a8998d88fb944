"""What a run shows: every customer's story and timeline, the acceptance verdicts, and the counts.

Read back from the store the run used (enrollments, messages, tasks) and from the run's log (the
events fed, what the dispatcher decided for each message); everything is sorted, so the same run gives
the same result, byte for byte, as JSON.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from onboardflow.core.acceptance import CustomerStory, Handoff, Received, Verdict, check_acceptance
from onboardflow.core.model import Customer, Enrollment
from onboardflow.core.version import JourneyVersion
from onboardflow.simulation.graph import journey_edges
from onboardflow.simulation.runner import RunLog
from onboardflow.simulation.timelines import status_of, timeline, when

DAY, WEEK = timedelta(days=1), timedelta(days=7)


@dataclass
class Result:
    """A run's result; `document()` is the JSON the CLI writes, `verdicts` the acceptance criteria."""

    run: dict[str, Any]
    journeys: list[JourneyVersion]
    verdicts: list[Verdict]
    stories: dict[str, CustomerStory]
    timelines: dict[str, list[dict[str, Any]]]
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(verdict.passed for verdict in self.verdicts)

    def document(self, *, timelines: str = "all") -> dict[str, Any]:
        """The JSON result; `timelines` is all, counterexamples (those of failing criteria) or none."""
        shown = self._timeline_ids(timelines)
        return {
            "run": self.run,
            "acceptance": [self._verdict(verdict) for verdict in self.verdicts],
            **self.counts,
            "timelines": {cid: self.timelines[cid] for cid in sorted(shown)},
        }

    def to_json(self, *, timelines: str = "all") -> str:
        return (
            json.dumps(self.document(timelines=timelines), sort_keys=True, ensure_ascii=False, indent=1)
            + "\n"
        )

    def counterexample_ids(self) -> set[str]:
        return {example.customer_id for verdict in self.verdicts for example in verdict.counterexamples}

    def _timeline_ids(self, which: str) -> Iterable[str]:
        if which == "all":
            return self.timelines
        return self.counterexample_ids() if which == "counterexamples" else ()

    def _verdict(self, verdict: Verdict) -> dict[str, Any]:
        return {
            "journey_id": verdict.journey_id,
            "criterion": verdict.criterion,
            "kind": verdict.kind,
            "passed": verdict.passed,
            "detail": verdict.detail,
            "breaking": verdict.breaking,
            "counterexamples": [
                {
                    "customer_id": e.customer_id,
                    "why": e.why,
                    "timeline": self.timelines.get(e.customer_id, []),
                }
                for e in verdict.counterexamples
            ],
        }


@dataclass
class RunParts:
    """What one engine's run reads back as: its customers' stories and timelines, and its tallies.
    Customers are independent, so the parts of runs over different customers add up to one run."""

    stories: dict[str, CustomerStory]
    timelines: dict[str, list[dict[str, Any]]]
    tasks: list[dict[str, Any]]
    outcomes: Counter
    personas: Counter


def read_back(*, store, journeys: list[JourneyVersion], log: RunLog) -> RunParts:
    """Every customer's story and timeline from the store and the run's log."""
    customers = sorted(log.customers | set(log.events))
    messages, tasks = _by_customer(store)
    stories = {cid: _story(store, cid, log, messages.get(cid, []), tasks.get(cid, [])) for cid in customers}
    timelines = {
        cid: timeline(stories[cid], messages.get(cid, []), tasks.get(cid, []), log, journeys)
        for cid in customers
    }
    outcomes = Counter(status_of(o) for outcomes in log.outcomes.values() for o in outcomes)
    task_rows = _tasks(row for rows in tasks.values() for row in rows)
    return RunParts(stories, timelines, task_rows, outcomes, Counter(log.personas.values()))


def build_result(
    *, store, journeys: list[JourneyVersion], log: RunLog, run: dict[str, Any], start: datetime, end: datetime
) -> Result:
    """Read the run back from `store` and `log`, judge every journey's criteria, count what happened."""
    return assemble(
        [read_back(store=store, journeys=journeys, log=log)], journeys=journeys, run=run, start=start, end=end
    )


def assemble(
    parts: list[RunParts],
    *,
    journeys: list[JourneyVersion],
    run: dict[str, Any],
    start: datetime,
    end: datetime,
) -> Result:
    """One result from the parts of a run: criteria judged over every customer, counts over all."""
    stories = dict(sorted((cid, story) for part in parts for cid, story in part.stories.items()))
    timelines = {cid: timeline for part in parts for cid, timeline in part.timelines.items()}
    verdicts = [
        verdict
        for version in journeys
        for verdict in check_acceptance(version, list(stories.values()), end=end)
    ]
    counts = {
        "messages": _messages(stories.values()),
        "tasks": sorted(
            (t for part in parts for t in part.tasks),
            key=lambda t: (t["at"], t["customer_id"], t["journey_id"], t["task_id"]),
        ),
        "steps": {v.id: step_entrants(v, stories.values()) for v in journeys},
        "edges": {v.id: journey_edges(v, stories.values()) for v in journeys},
        "exits": {v.id: _exits(v, stories.values()) for v in journeys},
        "goals": {v.id: goal_conversion(v, stories.values()) for v in journeys},
        "frequency": message_frequency(stories.values(), start=start),
        "daily": daily_messages(stories.values(), start=start, end=end),
        "outcomes": dict(sorted(sum((part.outcomes for part in parts), Counter()).items())),
        "personas": dict(sorted(sum((part.personas for part in parts), Counter()).items())),
    }
    counts["warnings"] = warnings(journeys, counts["steps"], counts["edges"])
    return Result(run, journeys, verdicts, stories, timelines, counts)


def _by_customer(store) -> tuple[dict[str, list], dict[str, list]]:
    messages: dict[str, list] = defaultdict(list)
    for row in store.messages():
        messages[row.message.customer_id].append(row)
    tasks: dict[str, list] = defaultdict(list)
    for row in store.tasks(status=None):
        tasks[row.task.customer_id].append(row)
    return messages, tasks


def _story(store, customer_id: str, log: RunLog, rows: list, task_rows: list) -> CustomerStory:
    delivered = sorted(
        (
            Received(
                row.message.message_id,
                row.message.journey_id,
                row.message.step_id,
                row.channel or "",
                row.message.purpose,
                row.delivered_at,
            )
            for row in rows
            if row.status == "delivered" and row.delivered_at is not None
        ),
        key=lambda m: (m.at, m.message_id),
    )
    handoffs = sorted(
        (
            Handoff(row.task.task_id, row.task.journey_id, row.task.step_id, row.task.reason, row.task.at)
            for row in task_rows
        ),
        key=lambda t: (t.at, t.task_id),
    )
    customer = store.customer(customer_id) or Customer(customer_id)
    return CustomerStory(
        customer,
        tuple(log.events.get(customer_id, ())),
        tuple(store.enrollments_of(customer_id)),
        tuple(delivered),
        tuple(handoffs),
    )


def _messages(stories: Iterable[CustomerStory]) -> list[dict[str, Any]]:
    found = [
        {
            "customer_id": story.id,
            "journey_id": m.journey_id,
            "step_id": m.step_id,
            "channel": m.channel,
            "purpose": m.purpose,
            "at": when(m.at),
        }
        for story in stories
        for m in story.messages
    ]
    return sorted(found, key=lambda m: (m["at"], m["customer_id"], m["journey_id"], m["step_id"]))


def _tasks(task_rows: Iterable) -> list[dict[str, Any]]:
    """Every task opened, with the order its enrollment's trigger names (if it names one)."""
    found = []
    for row in task_rows:
        task = row.task
        trigger = task.context.get("trigger") if isinstance(task.context, dict) else None
        found.append(
            {
                "customer_id": task.customer_id,
                "journey_id": task.journey_id,
                "step_id": task.step_id,
                "reason": task.reason,
                "at": when(task.at),
                "task_id": task.task_id,
                "priority": task.priority,
                "due": when(task.due_at),
                "order_id": (trigger or {}).get("order_id"),
            }
        )
    return sorted(found, key=lambda t: (t["at"], t["customer_id"], t["journey_id"], t["task_id"]))


def _enrollments(version: JourneyVersion, stories: Iterable[CustomerStory]) -> Iterable[Enrollment]:
    for story in stories:
        for enrollment in story.enrollments:
            if enrollment.journey_id == version.id:
                yield enrollment


def step_entrants(version: JourneyVersion, stories: Iterable[CustomerStory]) -> dict[str, int]:
    """Per step, in file order: how many enrollments went through it (once each, however often)."""
    counts = Counter(step for e in _enrollments(version, stories) for step in {v.step_id for v in e.history})
    return {step.id: counts.get(step.id, 0) for step in version.journey.steps}


def _exits(version: JourneyVersion, stories: Iterable[CustomerStory]) -> dict[str, int]:
    counts = Counter("active" if e.is_active else e.exit_reason for e in _enrollments(version, stories))
    return dict(sorted(counts.items()))


def goal_conversion(version: JourneyVersion, stories: Iterable[CustomerStory]) -> dict[str, Any]:
    """Entrants and conversions of the treated and holdout groups, and the uplift in points."""
    groups: dict[str, list[int]] = {"journey": [0, 0], "holdout": [0, 0]}
    for enrollment in _enrollments(version, stories):
        tally = groups[enrollment.group if enrollment.group in groups else "journey"]
        tally[0] += 1
        tally[1] += enrollment.goal_reached_at is not None
    found: dict[str, Any] = {"goal": version.journey.goal.event if version.journey.goal else None}
    for name, (entrants, converted) in groups.items():
        rate = round(100 * converted / entrants, 2) if entrants else None
        found[name] = {"entrants": entrants, "converted": converted, "rate": rate}
    treated, held = found["journey"]["rate"], found["holdout"]["rate"]
    found["uplift"] = None if treated is None or held is None else round(treated - held, 2)
    return found


def message_frequency(stories: Iterable[CustomerStory], *, start: datetime) -> dict[str, Any]:
    """Messages per customer per day and per week of the run: the most, the mean over customer-days with
    a message, and how many customer-days had 1, 2, 3 ... messages."""
    found = {}
    for name, size in (("per_day", DAY), ("per_week", WEEK)):
        buckets = Counter((story.id, (m.at - start) // size) for story in stories for m in story.messages)
        spread = Counter(buckets.values())
        found[name] = {
            "max": max(buckets.values(), default=0),
            "mean": round(sum(buckets.values()) / len(buckets), 3) if buckets else 0,
            "histogram": {str(count): spread[count] for count in sorted(spread)},
        }
    return found


def daily_messages(
    stories: Iterable[CustomerStory], *, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Messages delivered on each day of the run, by channel and by purpose: the report's chart."""
    days = max(1, -(-(end - start) // DAY))
    rows = [
        {"day": when(start + n * DAY)[:10], "messages": 0, "by_channel": Counter(), "by_purpose": Counter()}
        for n in range(days)
    ]
    for story in stories:
        for m in story.messages:
            index = min(days - 1, (m.at - start) // DAY)
            if index >= 0:
                rows[index]["messages"] += 1
                rows[index]["by_channel"][m.channel] += 1
                rows[index]["by_purpose"][m.purpose] += 1
    for row in rows:
        row["by_channel"] = dict(sorted(row["by_channel"].items()))
        row["by_purpose"] = dict(sorted(row["by_purpose"].items()))
    return rows


def warnings(journeys: list[JourneyVersion], steps: dict, edges: dict) -> list[dict[str, Any]]:
    """Steps and ways out that nobody took, exception paths first: a run that never tried them proves
    nothing about them."""
    found = []
    for version in journeys:
        for edge in edges[version.id]:
            if edge["count"] == 0:
                found.append(
                    {
                        "journey_id": version.id,
                        "exception": edge["exception"],
                        "kind": "edge",
                        "step_id": edge["from"],
                        "to": edge["to"],
                        "field": edge["field"],
                        "message": f"{version.id}: nobody took {edge['from']} → {edge['to']} "
                        f"({edge['field']})",
                    }
                )
        for step_id, count in steps[version.id].items():
            if count == 0:
                exception = any(e["to"] == step_id and e["exception"] for e in edges[version.id])
                found.append(
                    {
                        "journey_id": version.id,
                        "exception": exception,
                        "kind": "step",
                        "step_id": step_id,
                        "to": None,
                        "field": None,
                        "message": f"{version.id}: nobody reached step {step_id}",
                    }
                )
    return sorted(
        found, key=lambda w: (not w["exception"], w["journey_id"], w["kind"] != "step", w["message"])
    )

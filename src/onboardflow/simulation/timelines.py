"""One customer's run as a timeline: events, entries into journeys, steps, messages (with what the
policies decided and why), tasks, goals and exits, in time order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboardflow.core.acceptance import CustomerStory
from onboardflow.core.model import Enrollment, Event
from onboardflow.core.version import JourneyVersion
from onboardflow.simulation.runner import RunLog

SHOWN_PROPERTIES = (
    "order_id",
    "total",
    "topic",
    "tone",
    "late",
    "score",
    "plan",
    "reason",
    "template",
    "channel",
    "outcome",
    "renewal",
)


def when(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def status_of(outcome) -> str:
    if outcome.status != "pending":
        return outcome.status
    return "held" if outcome.note and outcome.note.startswith("value before selling") else "put off"


def timeline(
    story: CustomerStory, rows: list, task_rows: list, log: RunLog, journeys: list[JourneyVersion]
) -> list[dict[str, Any]]:
    """One customer's run in time order: events, steps, messages (with what the policies did), tasks."""
    kinds = {(v.id, step.id): step.kind for v in journeys for step in v.journey.steps}
    entries: list[tuple[datetime, int, dict[str, Any]]] = []
    for event in story.events:
        entries.append((event.at, 0, {"kind": "event", "name": event.name, **_shown(event)}))
    for enrollment in story.enrollments:
        entries.extend(_enrollment_entries(enrollment, kinds))
    for row in rows:
        entries.extend(_message_entries(row, log.outcomes.get(row.message.message_id, [])))
    for row in task_rows:
        task = row.task
        entries.append(
            (
                task.at,
                4,
                {
                    "kind": "task",
                    "journey_id": task.journey_id,
                    "step_id": task.step_id,
                    "reason": task.reason,
                    "priority": task.priority,
                    "due": when(task.due_at),
                },
            )
        )
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [{"at": when(at), **entry} for at, _, entry in entries]


def _shown(event: Event) -> dict[str, Any]:
    shown = {key: event.properties[key] for key in SHOWN_PROPERTIES if key in event.properties}
    return {"details": shown} if shown else {}


def _enrollment_entries(enrollment: Enrollment, kinds: dict) -> list[tuple[datetime, int, dict]]:
    journey = enrollment.journey_id
    entries = [
        (enrollment.started_at, 1, {"kind": "enter", "journey_id": journey, "group": enrollment.group})
    ]
    for visit in enrollment.history:
        entries.append(
            (
                visit.at,
                2,
                {
                    "kind": "step",
                    "journey_id": journey,
                    "step_id": visit.step_id,
                    "step_kind": kinds.get((journey, visit.step_id)),
                },
            )
        )
    if enrollment.goal_reached_at is not None:
        entries.append((enrollment.goal_reached_at, 5, {"kind": "goal", "journey_id": journey}))
    if not enrollment.is_active and enrollment.ended_at is not None:
        entries.append(
            (
                enrollment.ended_at,
                6,
                {"kind": "exit", "journey_id": journey, "reason": enrollment.exit_reason},
            )
        )
    return entries


def _message_entries(row, outcomes: list) -> list[tuple[datetime, int, dict]]:
    """A message's decisions in order; the same decision again and again (a promotion held, rechecked
    every hour) is one entry, with how many times and until when."""
    message = row.message
    about = {
        "kind": "message",
        "journey_id": message.journey_id,
        "step_id": message.step_id,
        "template": message.template,
        "purpose": message.purpose,
    }
    if not outcomes:
        return [(message.at, 3, {**about, "status": "queued", "channel": None})]
    entries: list[tuple[datetime, int, dict]] = []
    for outcome in outcomes:
        entry = {**about, "status": status_of(outcome), "channel": outcome.channel}
        if outcome.note:
            entry["why"] = outcome.note
        if outcome.until is not None:
            entry["until"] = when(outcome.until)
        previous = entries[-1][2] if entries else None
        if previous and all(previous.get(key) == entry.get(key) for key in ("status", "channel", "why")):
            previous["times"] = previous.get("times", 1) + 1
            previous["until"] = entry.get("until", previous.get("until"))
            continue
        entries.append((outcome.at, 3, entry))
    return entries

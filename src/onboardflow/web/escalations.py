"""The Escalations page: the task queue with filters (queue, status, priority, reason), a task with what the
agent needs to know of its customer, claim, and resolve with an outcome (which its journey goes on by).
The same services as `onboardflow tasks` and the API's task routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from starlette.responses import Response

from onboardflow.api.dependencies import ClockDep, StoreDep
from onboardflow.api.params import decode_cursor, encode_cursor
from onboardflow.api.problems import Problem
from onboardflow.core.journey_steps import Escalate
from onboardflow.engine.live import stored_journey
from onboardflow.escalation.context import task_context
from onboardflow.escalation.service import claim_task, resolve_task
from onboardflow.ports import TASK_STATUSES, Store, Task, TaskClosed, TaskNotFound, TaskTaken, User
from onboardflow.web.auth import Viewer, require_role, web_router
from onboardflow.web.rendering import go_to, page

router = web_router()
PAGE = 50
PRIORITIES = ("low", "normal", "high", "urgent")
Support = Annotated[User, Depends(require_role("support"))]


@router.get("/escalations")
def queue_page(request: Request, store: StoreDep, clock: ClockDep, viewer: Viewer, queue: str = "",
               status: str = "", priority: str = "", reason: str = "", cursor: str = "") -> Response:
    filters = {"queue": queue.strip(), "status": status, "priority": priority, "reason": reason.strip()}
    if status and status not in TASK_STATUSES:
        raise Problem(422, "Unknown status", f"status is one of {', '.join(TASK_STATUSES)}")
    rows = store.tasks_page(**{name: value or None for name, value in filters.items()},
                            after=decode_cursor(cursor) if cursor else None, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    after = encode_cursor(rows[-1].task.due_at, rows[-1].task.task_id) if more else None
    return page(request, "escalations.html", {
        "rows": rows, "filters": filters, "statuses": TASK_STATUSES, "priorities": PRIORITIES,
        "next": after, "now": clock.now(),
    })


@router.get("/escalations/{task_id}")
def task_page(request: Request, task_id: str, store: StoreDep, clock: ClockDep, viewer: Viewer,
              said: str = "") -> Response:
    row = _task(store, task_id)
    return page(request, "task.html", {
        "row": row, "context": task_context(store, row), "outcomes": _outcomes(store, row),
        "now": clock.now(), "said": said,
    })


@router.post("/escalations/{task_id}/claim")
def claim(request: Request, task_id: str, store: StoreDep, clock: ClockDep, viewer: Support) -> Response:
    try:
        claim_task(store=store, clock=clock, task_id=task_id, assignee=viewer.email)
    except TaskNotFound:
        raise _not_found(task_id) from None
    except (TaskTaken, TaskClosed) as refused:
        raise Problem(409, "Task not claimed", str(refused)) from None
    return go_to(request, f"/escalations/{task_id}")


@router.post("/escalations/{task_id}/resolve")
def resolve(request: Request, task_id: str, store: StoreDep, clock: ClockDep, viewer: Support,
            outcome: Annotated[str, Form(min_length=1, max_length=200)]) -> Response:
    """Resolve with an outcome; a `Task Resolved` event is queued for the journey, as the API does."""
    try:
        resolve_task(store=store, clock=clock, task_id=task_id, outcome=outcome.strip(), by=viewer.email)
    except TaskNotFound:
        raise _not_found(task_id) from None
    except TaskClosed as closed:
        raise Problem(409, "Task closed", str(closed)) from None
    return go_to(request, f"/escalations/{task_id}")


def _task(store: Store, task_id: str) -> Task:
    row = store.task(task_id)
    if row is None:
        raise _not_found(task_id)
    return row


def _not_found(task_id: str) -> Problem:
    return Problem(404, "Task not found", f"no task {task_id!r}: the queue is at /escalations")


def _outcomes(store: Store, row: Task) -> list[str]:
    """The outcomes the task's escalate step goes on by (`on_outcome`), to offer when resolving."""
    stored = store.version(row.task.journey_id, row.task.version)
    if stored is None:
        return []
    step = stored_journey(stored).steps.get(row.task.step_id)
    return list(step.escalate.on_outcome) if isinstance(step, Escalate) else []

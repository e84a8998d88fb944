"""Tasks for people (the `escalate` step) through the API: the queue, one task, and resolving it, which tells
its journey (`onboardflow tasks list|resolve`). Reading needs the `read` scope, resolving `write`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from onboardflow.api.dependencies import EngineDep, StoreDep, keyed_router, require_read, require_write
from onboardflow.api.params import (
    BAD_CURSOR,
    DEFAULT_LIMIT,
    CursorQuery,
    Limit,
    decode_cursor,
    id_path,
    id_query,
    page,
)
from onboardflow.api.problems import Problem, problem_responses
from onboardflow.ports import TASK_STATUSES, Task, TaskClosed, TaskNotFound

router = keyed_router("/v1/tasks", "tasks")

NO_TASK = problem_responses({404: "No such task"})
TaskStatus = Literal[TASK_STATUSES]  # type: ignore[valid-type]
TaskIdPath = Annotated[str, id_path("The task's id", "tsk_9f8e7d6c5b4a39281706f5e4")]

TASK_EXAMPLE = {
    "id": "tsk_9f8e7d6c5b4a39281706f5e4", "customer_id": "c_42", "journey_id": "first-purchase-welcome",
    "version": 1, "step_id": "late-delivery", "enrollment_id": "enr_5c1f0e9a2b7d4e6f8a9b0c1d",
    "queue": "support", "reason": "delivery late", "priority": "high", "status": "open", "assignee": None,
    "outcome": None, "due_at": "2026-03-14T09:00:00Z", "opened_at": "2026-03-12T09:00:00Z",
    "resolved_at": None, "context": {"trigger": {"order_id": "o_9", "total": 120.0}},
}


class TaskRead(BaseModel):
    """A hand-off to people: `open` or `assigned` until resolved (or `cancelled`, when its customer was
    erased); the journey goes on by the `outcome` once it is resolved."""

    model_config = ConfigDict(json_schema_extra={"examples": [TASK_EXAMPLE]})

    id: str
    customer_id: str
    journey_id: str
    version: int
    step_id: str
    enrollment_id: str
    queue: str
    reason: str
    priority: str
    status: str
    assignee: str | None
    outcome: str | None
    due_at: datetime
    opened_at: datetime
    resolved_at: datetime | None
    context: dict[str, Any] = Field(description="What the step gave the people working the task")

    @classmethod
    def of(cls, row: Task) -> TaskRead:
        t = row.task
        return cls(
            id=t.task_id, customer_id=t.customer_id, journey_id=t.journey_id, version=t.version,
            step_id=t.step_id, enrollment_id=t.enrollment_id, queue=t.queue, reason=t.reason,
            priority=t.priority, status=row.status, assignee=row.assignee, outcome=row.outcome,
            due_at=t.due_at, opened_at=t.at, resolved_at=row.resolved_at, context=t.context,
        )


class TaskPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [TASK_EXAMPLE], "next": None}]})

    items: list[TaskRead]
    next: str | None = Field(description="The cursor of the next page; null on the last one")


class TaskResolve(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"outcome": "refunded", "by": "agent@shop.example"},
    ]})

    outcome: str = Field(min_length=1, max_length=200, description="What the journey goes on by: refunded…")
    by: str | None = Field(default=None, min_length=1, max_length=200, description="Who resolved it")


@router.get("", dependencies=[Depends(require_read)], responses=BAD_CURSOR)
def list_tasks(
    store: StoreDep,
    status: Annotated[TaskStatus | None, Query(description="Only tasks in this state")] = None,
    customer_id: Annotated[str | None, id_query("Only this customer's tasks", "c_42")] = None,
    queue: Annotated[str | None, id_query("Only this queue's tasks", "support")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> TaskPage:
    """Tasks, soonest due first (all states unless `status` says which)."""
    rows = store.tasks_page(status=status, customer_id=customer_id, queue=queue, after=decode_cursor(cursor),
                            limit=limit + 1)
    items, after = page(rows, limit, lambda row: (row.task.due_at, row.task.task_id))
    return TaskPage(items=[TaskRead.of(row) for row in items], next=after)


@router.get("/{task_id}", dependencies=[Depends(require_read)], responses=NO_TASK)
def get_task(task_id: TaskIdPath, store: StoreDep) -> TaskRead:
    """One task by id."""
    row = store.task(task_id)
    if row is None:
        raise _not_found(task_id)
    return TaskRead.of(row)


@router.post("/{task_id}/resolve", dependencies=[Depends(require_write)],
             responses={**NO_TASK, **problem_responses({409: "The task is resolved or cancelled already"})})
def resolve(task_id: TaskIdPath, body: TaskResolve, engine: EngineDep) -> TaskRead:
    """Resolve a task; its journey goes on by the outcome when a worker next runs (a `Task Resolved` event
    is queued, as `onboardflow tasks resolve` does)."""
    try:
        return TaskRead.of(engine.resolve_task(task_id, outcome=body.outcome, by=body.by, queue=True))
    except TaskNotFound:
        raise _not_found(task_id) from None
    except TaskClosed as closed:
        raise Problem(409, "Task closed", f"{closed}: a task is resolved once; open a new one if more is "
                      "needed") from None


def _not_found(task_id: str) -> Problem:
    return Problem(404, "Task not found",
                   f"no task {task_id!r}: GET /v1/tasks?status=open lists the open ones")

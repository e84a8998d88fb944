"""`onboardflow tasks ...`: the escalation queue from the command line: list, show, claim, resolve; mark
overdue tasks and hand due ones to the helpdesk now (workers do both every round)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onboardflow.engine.clock import SystemClock
from onboardflow.escalation import service
from onboardflow.ports import TASK_STATUSES, TaskClosed, TaskNotFound, TaskTaken
from onboardflow.settings import Settings

tasks_app = typer.Typer(
    help="Tasks for people, opened by escalate steps and escalation rules: list, show, "
    "claim and resolve them.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
TaskId = Annotated[str, typer.Argument(help="The task's id, as `tasks list` shows it")]


def _store():
    from onboardflow.store.sql import open_store

    return open_store(Settings().database_url)


def _failed(error: Exception) -> typer.Exit:
    errors.print(f"error: {error}", highlight=False, markup=False)
    return typer.Exit(1)


@tasks_app.command("list")
def tasks_list(
    status: Annotated[str, typer.Option(help=f"{', '.join(TASK_STATUSES)} or all")] = "open",
    customer: Annotated[str | None, typer.Option(help="Only this customer's tasks")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open tasks past their due time")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts")] = False,
) -> None:
    """List tasks, soonest due first (the overdue ones are at the top)."""
    if status not in (*TASK_STATUSES, "all"):
        errors.print(f"error: --status is one of {', '.join(TASK_STATUSES)} or all, not {status!r}")
        raise typer.Exit(2)
    store = _store()
    try:
        rows = store.tasks(status=None if status == "all" else status, customer_id=customer)
    finally:
        store.close()
    now = SystemClock().now()
    rows = [row for row in rows if row.is_overdue(now)] if overdue else rows
    if as_json:
        for row in rows:
            fields = {
                **asdict(row.task),
                "status": row.status,
                "outcome": row.outcome,
                "assignee": row.assignee,
                "overdue": row.is_overdue(now),
                "external_id": row.external_id,
            }
            typer.echo(json.dumps(fields, default=str))
        return
    console.print(_table(rows, status, now))


def _table(rows, status: str, now) -> Table:
    table = Table(title=f"tasks ({status})")
    width = max((len(row.task.task_id) for row in rows), default=4)
    table.add_column("task", no_wrap=True, min_width=width)  # whole, to copy into `tasks resolve`
    for name in ("customer", "queue", "reason", "priority", "due", "status"):
        table.add_column(name)
    for row in rows:
        task = row.task
        due = f"{task.due_at:%Y-%m-%d %H:%M}" + (" OVERDUE" if row.is_overdue(now) else "")
        state = row.status if not row.outcome else f"{row.status}: {row.outcome}"
        state += f" ({row.assignee})" if row.status == "assigned" else ""
        table.add_row(task.task_id, task.customer_id, task.queue, task.reason, task.priority, due, state)
    return table


@tasks_app.command("show")
def tasks_show(task_id: TaskId) -> None:
    """Everything an agent needs: the task, the profile, orders, journeys step by step, messages, the text."""
    from onboardflow.escalation.context import task_context

    store = _store()
    try:
        row = store.task(task_id)
        if row is None:
            raise _failed(TaskNotFound(f"no task {task_id!r}"))
        typer.echo(json.dumps(task_context(store, row), indent=2, ensure_ascii=False))
    finally:
        store.close()


@tasks_app.command("claim")
def tasks_claim(
    task_id: TaskId,
    assignee: Annotated[str, typer.Option("--as", help="Who takes it, e.g. ana@shop.example")],
) -> None:
    """Take a task: it is assigned to you; nobody else can claim it."""
    store = _store()
    try:
        task = service.claim_task(store=store, clock=SystemClock(), task_id=task_id, assignee=assignee)
    except (TaskNotFound, TaskTaken, TaskClosed) as error:
        raise _failed(error) from None
    finally:
        store.close()
    console.print(f"claimed {task.task.task_id} ({task.task.reason}) for {task.assignee}", highlight=False)


@tasks_app.command("resolve")
def tasks_resolve(
    task_id: TaskId,
    outcome: Annotated[str, typer.Option(help="The outcome the journey goes on by, e.g. resolved, refunded")],
    by: Annotated[str | None, typer.Option(help="Who resolved it")] = None,
) -> None:
    """Resolve a task; a journey waiting on it goes on by the outcome when a worker (`run`) next runs."""
    store = _store()
    try:
        task = service.resolve_task(store=store, clock=SystemClock(), task_id=task_id, outcome=outcome, by=by)
    except (TaskNotFound, TaskClosed) as error:
        raise _failed(error) from None
    finally:
        store.close()
    console.print(f"resolved {task.task.task_id} ({task.task.reason}): {outcome}", highlight=False)


@tasks_app.command("sweep")
def tasks_sweep() -> None:
    """Mark open tasks past their due time urgent, once each, and queue a `Task Overdue` event for each."""
    store = _store()
    try:
        marked = service.sweep_overdue(store=store, now=SystemClock().now())
    finally:
        store.close()
    for row in marked:
        console.print(
            f"overdue: {row.task.task_id} ({row.task.reason}), due {row.task.due_at:%Y-%m-%d %H:%M}",
            highlight=False,
        )
    console.print(f"{len(marked)} task(s) newly overdue")


@tasks_app.command("handoff")
def tasks_handoff(limit: Annotated[int, typer.Option(min=1, max=1000)] = 100) -> None:
    """Send the tasks due for the helpdesk (ONBOARDFLOW_HELPDESK) now; workers do it every round."""
    import httpx

    from onboardflow.escalation.handoff import hand_off_due
    from onboardflow.escalation.helpdesk import HelpdeskConfigError, build_helpdesk

    store, clock = _store(), SystemClock()
    try:
        with httpx.Client(follow_redirects=False) as http:
            helpdesk = build_helpdesk(Settings(), http=http, clock=clock)
            if helpdesk is None:
                raise _failed(
                    HelpdeskConfigError(
                        "no helpdesk is set up: set ONBOARDFLOW_HELPDESK to webhook or "
                        "zendesk (docs/escalation.md)"
                    )
                )
            result = hand_off_due(store=store, helpdesk=helpdesk, clock=clock, limit=limit)
    except HelpdeskConfigError as error:
        raise _failed(error) from None
    finally:
        store.close()
    console.print(
        f"{result.sent} task(s) handed to {helpdesk.name}, {result.retrying} to retry, "
        f"{result.failed} failed for good"
    )

"""Escalation routes: claim a task (`write` scope), and the helpdesks' resolutions coming back.

`POST /webhooks/helpdesk` takes `{"task_id", "outcome", "by"}` signed per Standard Webhooks with
ONBOARDFLOW_HELPDESK_SECRET; `POST /webhooks/zendesk` takes the body of a Zendesk webhook (its trigger's
JSON, see docs/escalation.md) signed with the webhook's signing secret. Either resolves the task and queues
the `Task Resolved` event a waiting journey goes on by; a redelivery of the same resolution is a 200.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from standardwebhooks import Webhook

from onboardflow.api.dependencies import ClockDep, SettingsDep, StoreDep, require_write
from onboardflow.api.problems import Problem
from onboardflow.escalation import service
from onboardflow.escalation.context import task_context
from onboardflow.ports import Store, Task, TaskClosed, TaskNotFound, TaskTaken

router = APIRouter(tags=["tasks"])
TOLERANCE = timedelta(minutes=5)  # how far a signed timestamp may be from now (replays are refused)
SOLVED = ("solved", "closed")


class TaskClaim(BaseModel):
    assignee: str = Field(min_length=1, max_length=200, examples=["ana@shop.example"])


class Resolution(BaseModel):
    task_id: str = Field(min_length=1)
    outcome: str = Field(default="resolved", min_length=1, max_length=100, examples=["refunded"])
    by: str | None = Field(default=None, max_length=200)


@router.post("/v1/tasks/{task_id}/claim", dependencies=[Depends(require_write)])
def claim_task(task_id: str, body: TaskClaim, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Assign the task to `assignee`: the task with its customer's context. 409 if someone else has it."""
    try:
        task = service.claim_task(store=store, clock=clock, task_id=task_id, assignee=body.assignee)
    except TaskNotFound:
        raise _not_found(task_id) from None
    except (TaskTaken, TaskClosed) as error:
        raise Problem(409, "Task not claimable", str(error), task_id=task_id) from None
    return task_context(store, task)


@router.post("/webhooks/helpdesk")
async def helpdesk_resolution(
    request: Request, store: StoreDep, settings: SettingsDep, clock: ClockDep
) -> dict:
    body = await request.body()
    if settings.helpdesk_secret is None:
        raise Problem(
            503,
            "Helpdesk resolutions are not set up",
            "the server has no helpdesk secret: set ONBOARDFLOW_HELPDESK_SECRET to the helpdesk's one",
        )
    _verify_standard(body, request.headers, settings.helpdesk_secret.get_secret_value(), clock.now())
    try:
        resolution = Resolution.model_validate(_json(body))
    except ValueError as error:
        raise Problem(422, "Resolution not usable", f"send task_id and outcome: {error}") from None
    return _resolve(store, clock, resolution.task_id, resolution.outcome, resolution.by)


@router.post("/webhooks/zendesk")
async def zendesk_resolution(
    request: Request, store: StoreDep, settings: SettingsDep, clock: ClockDep
) -> dict:
    body = await request.body()
    if settings.zendesk_webhook_secret is None:
        raise Problem(
            503,
            "Zendesk webhooks are not set up",
            "the server has no webhook secret: set "
            "ONBOARDFLOW_ZENDESK_WEBHOOK_SECRET to the Zendesk webhook's signing secret",
        )
    _verify_zendesk(body, request.headers, settings.zendesk_webhook_secret.get_secret_value())
    payload = _json(body)
    task_id = str(payload.get("external_id") or "").strip() if isinstance(payload, dict) else ""
    if not task_id:
        raise Problem(
            422,
            "Resolution not usable",
            "send the ticket's external_id ({{ticket.external_id}}): the task id onboardflow gave the ticket",
        )
    status = str(payload.get("status") or "").lower()
    if status not in SOLVED:
        return {
            "task_id": task_id,
            "ignored": True,
            "detail": f"status {status or '(none)'!r} does not resolve a task; {' and '.join(SOLVED)} do",
        }
    outcome = str(payload.get("outcome") or "resolved").strip() or "resolved"
    return _resolve(store, clock, task_id, outcome, payload.get("assignee") or None)


def _resolve(store: Store, clock, task_id: str, outcome: str, by: str | None) -> dict:
    try:
        task = service.resolve_task(store=store, clock=clock, task_id=task_id, outcome=outcome, by=by)
    except TaskNotFound:
        raise _not_found(task_id) from None
    except TaskClosed as error:
        return _already(store.task(task_id), outcome, error)
    return {"task_id": task_id, "status": task.status, "outcome": task.outcome}


def _already(task: Task | None, outcome: str, error: TaskClosed) -> dict:
    """A redelivered resolution is a 200; a different outcome for a closed task is a conflict."""
    if task is not None and task.status == "resolved" and task.outcome == outcome:
        return {"task_id": task.task.task_id, "status": task.status, "outcome": task.outcome, "already": True}
    raise Problem(409, "Task already closed", str(error), task_id=task.task.task_id if task else None)


def _not_found(task_id: str) -> Problem:
    return Problem(
        404,
        "No such task",
        f"no task {task_id!r}: `onboardflow tasks list --status all` lists them",
        task_id=task_id,
    )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Problem(400, "Body is not JSON", f"the body must be a JSON object: {error}") from None


def _verify_standard(body: bytes, headers, secret: str, now: datetime) -> None:
    """Standard Webhooks: `webhook-signature` is HMAC-SHA256 of id.timestamp.body; the timestamp near now."""
    message_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    try:
        moment = datetime.fromtimestamp(int(stamp), tz=UTC)
        expected = Webhook(secret).sign(message_id, moment, body.decode()).split(",", 1)[1]
    except (ValueError, UnicodeDecodeError):
        raise _unsigned("webhook-id, webhook-timestamp and webhook-signature") from None
    given = [
        part.split(",", 1)[1]
        for part in headers.get("webhook-signature", "").split()
        if part.startswith("v1,")
    ]
    if not any(hmac.compare_digest(expected, signature) for signature in given):
        raise _unsigned("webhook-signature")
    if abs(now - moment) > TOLERANCE:
        raise Problem(
            401,
            "Stale webhook",
            f"webhook-timestamp is {abs(now - moment)} from now; sign each "
            "delivery when it is sent (5 minutes either way are accepted)",
        )


def _verify_zendesk(body: bytes, headers, secret: str) -> None:
    """Zendesk: base64 HMAC-SHA256 of the timestamp header followed by the raw body."""
    stamp = headers.get("x-zendesk-webhook-signature-timestamp", "")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    if not hmac.compare_digest(
        base64.b64encode(digest).decode(), headers.get("x-zendesk-webhook-signature", "")
    ):
        raise _unsigned("X-Zendesk-Webhook-Signature")


def _unsigned(header: str) -> Problem:
    return Problem(
        401,
        "Bad webhook signature",
        f"{header} is missing or does not match the body: sign it with the secret this server was given",
    )

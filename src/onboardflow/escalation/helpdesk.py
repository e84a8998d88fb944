"""Helpdesk adapters: tasks go out to where support agents work, each with its customer's context.

- `WebhookHelpdesk` POSTs `{"type": "task.opened", "task": ..., "context": ...}` to a URL, signed
  per Standard Webhooks (the `webhook` step's signing); the receiver's JSON `id`, if any, is kept as
  the ticket id.
- `ZendeskHelpdesk` opens a ticket through Zendesk's ticket API (`POST /api/v2/tickets.json`, token auth),
  the task id as the ticket's `external_id`; before creating, it looks the id up, so a hand-off retried
  after a crash finds the ticket it made instead of making a second one.

Resolutions come back through `/webhooks/helpdesk` and `/webhooks/zendesk` (api/escalation.py).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from onboardflow.engine.webhook_request import signed
from onboardflow.ports import Task
from onboardflow.settings import Settings

TIMEOUT = httpx.Timeout(10.0)


class HandoffError(Exception):
    """A hand-off that failed; `permanent` when sending again cannot help (a bad token, a refused body)."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.permanent, self.retry_after = reason, permanent, retry_after


class HelpdeskConfigError(ValueError):
    """Helpdesk settings that do not make a helpdesk; says which variable to set."""


def _answer(response: httpx.Response, what: str) -> Any:
    """The response's JSON, or HandoffError: 408, 429 and 5xx are worth a retry, other 4xx are not."""
    if response.is_success:
        try:
            return response.json() if response.content else {}
        except ValueError:
            return {}
    retry_after = response.headers.get("retry-after")
    transient = response.status_code in (408, 429) or response.status_code >= 500
    detail = response.text[:200].strip()
    raise HandoffError(
        f"{what} answered {response.status_code}: {detail}",
        permanent=not transient,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
    )


def _sent(http: httpx.Client, request: httpx.Request, what: str) -> Any:
    try:
        return _answer(http.send(request), what)
    except httpx.TimeoutException:
        raise HandoffError(f"{what} did not answer in time") from None
    except httpx.TransportError as error:
        raise HandoffError(f"cannot reach {what}: {error}") from None


class WebhookHelpdesk:
    name = "webhook"

    def __init__(self, url: str, secret: str, *, http: httpx.Client, clock) -> None:
        self.url, self.http, self.clock = url, http, clock
        self._webhook = Webhook(secret)

    def open_ticket(self, task: Task, context: dict[str, Any]) -> str:
        body = json.dumps({"type": "task.opened", "task": context["task"], "context": context})
        headers = {
            "content-type": "application/json",
            **signed(task.task.task_id, self._webhook, body, self.clock.now()),
        }
        request = self.http.build_request(
            "POST", self.url, content=body.encode(), headers=headers, timeout=TIMEOUT
        )
        answer = _sent(self.http, request, self.url)
        found = answer.get("id") or answer.get("ticket_id") if isinstance(answer, dict) else None
        return str(found or task.task.task_id)


class ZendeskHelpdesk:
    name = "zendesk"

    def __init__(self, base_url: str, email: str, token: str, *, http: httpx.Client) -> None:
        self.base = base_url.rstrip("/")
        self.http = http
        pair = base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self.headers = {"authorization": f"Basic {pair}", "accept": "application/json"}

    def open_ticket(self, task: Task, context: dict[str, Any]) -> str:
        existing = self._find(task.task.task_id)
        if existing is not None:
            return existing
        request = self.http.build_request(
            "POST",
            f"{self.base}/api/v2/tickets.json",
            json=ticket_body(task, context),
            headers=self.headers,
            timeout=TIMEOUT,
        )
        answer = _sent(self.http, request, "Zendesk")
        try:
            return str(answer["ticket"]["id"])
        except (KeyError, TypeError):
            raise HandoffError(
                f"Zendesk answered without a ticket id: {str(answer)[:200]}", permanent=True
            ) from None

    def _find(self, task_id: str) -> str | None:
        request = self.http.build_request(
            "GET",
            f"{self.base}/api/v2/tickets.json",
            params={"external_id": task_id},
            headers=self.headers,
            timeout=TIMEOUT,
        )
        tickets = (_sent(self.http, request, "Zendesk") or {}).get("tickets") or []
        return str(tickets[0]["id"]) if tickets else None


def ticket_body(task: Task, context: dict[str, Any]) -> dict[str, Any]:
    opened = task.task
    customer = context.get("customer") or {}
    ticket: dict[str, Any] = {
        "subject": f"[{opened.queue}] {opened.reason}: customer {opened.customer_id}",
        "comment": {"body": ticket_text(context), "public": False},
        "priority": opened.priority,
        "type": "task",
        "due_at": _iso(opened.due_at),
        "external_id": opened.task_id,
        "tags": ["onboardflow", _tag(opened.queue), *([_tag(opened.rule)] if opened.rule else [])],
    }
    if customer.get("email"):
        ticket["requester"] = {"email": customer["email"], "name": customer.get("id") or customer["email"]}
    return {"ticket": ticket}


def ticket_text(context: dict[str, Any]) -> str:
    """The context as an agent reads it in a ticket: why, the words that triggered it, orders, journeys."""
    task, customer = context["task"], context.get("customer") or {}
    lines = [
        f"Why: {task['reason']}" + (f" ({context['detail']})" if context.get("detail") else ""),
        f"Due: {task['due_at']} (priority {task['priority']})",
    ]
    if context.get("text"):
        lines += ["", "They wrote:", *[f"> {line}" for line in context["text"].splitlines()]]
    lines += [
        "",
        f"Customer {task['customer_id']}: {customer.get('email') or 'no email'}, "
        f"{customer.get('orders_count', 0)} order(s), {customer.get('total_spent', 0)} spent",
    ]
    lines += [
        f"- order {o.get('order_id')} at {o['at']}: {o.get('total')} {o.get('currency') or ''}".rstrip()
        for o in context.get("orders") or []
    ]
    lines += [
        f"- journey {j['journey_id']} v{j['version']}: {j['status']} at step {j['step_id']}"
        for j in context.get("journeys") or []
    ]
    sent = context.get("messages") or []
    if sent:
        lines.append(f"Messages sent: {len(sent)} (last: {sent[-1]['template']}, {sent[-1]['status']})")
    return "\n".join(lines)


def _tag(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower())


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def build_helpdesk(
    settings: Settings, *, http: httpx.Client, clock
) -> WebhookHelpdesk | ZendeskHelpdesk | None:
    """The helpdesk the settings name (None for `none`); HelpdeskConfigError says what is missing."""
    if settings.helpdesk == "none":
        return None
    if settings.helpdesk == "webhook":
        if not settings.helpdesk_url or settings.helpdesk_secret is None:
            raise HelpdeskConfigError(
                "ONBOARDFLOW_HELPDESK=webhook needs ONBOARDFLOW_HELPDESK_URL and "
                "ONBOARDFLOW_HELPDESK_SECRET (a Standard Webhooks secret, whsec_...)"
            )
        try:
            return WebhookHelpdesk(
                settings.helpdesk_url, settings.helpdesk_secret.get_secret_value(), http=http, clock=clock
            )
        except Exception:  # noqa: BLE001 - the library's own error for a bad secret
            raise HelpdeskConfigError(
                "ONBOARDFLOW_HELPDESK_SECRET is not a Standard Webhooks secret: whsec_ "
                "followed by base64 of 24 to 64 random bytes"
            ) from None
    missing = [
        name
        for name, value in (
            ("ONBOARDFLOW_ZENDESK_URL", settings.zendesk_url),
            ("ONBOARDFLOW_ZENDESK_EMAIL", settings.zendesk_email),
            ("ONBOARDFLOW_ZENDESK_API_TOKEN", settings.zendesk_api_token),
        )
        if not value
    ]
    if missing:
        raise HelpdeskConfigError(f"ONBOARDFLOW_HELPDESK=zendesk needs {', '.join(missing)}")
    return ZendeskHelpdesk(
        settings.zendesk_url,
        settings.zendesk_email,  # type: ignore[arg-type]
        settings.zendesk_api_token.get_secret_value(),
        http=http,
    )  # type: ignore[union-attr]

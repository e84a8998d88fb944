"""Outbound webhooks, the pure part: onboardflow's own events, the subscriptions that want them, the
deliveries a change fans out to, and the retry schedule.

Each event has a stable id made from what it is about (a message, a task, an enrollment, a journey
version), and each delivery's id, the `webhook-id` a receiver sees, is made from the subscription's and
the event's: writing the same event again writes no second delivery.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from onboardflow.core.effects import OpenTask, SendMessage, stable_id
from onboardflow.core.model import Enrollment

MESSAGE_SENT = "message.sent"
MESSAGE_FAILED = "message.failed"
TASK_OPENED = "task.opened"
TASK_RESOLVED = "task.resolved"
ENROLLMENT_COMPLETED = "enrollment.completed"
ENROLLMENT_CONVERTED = "enrollment.converted"
JOURNEY_PUBLISHED = "journey.published"
EVENT_TYPES = (MESSAGE_SENT, MESSAGE_FAILED, TASK_OPENED, TASK_RESOLVED, ENROLLMENT_COMPLETED,
               ENROLLMENT_CONVERTED, JOURNEY_PUBLISHED)
WEBHOOK_TEST = "webhook.test"  # sent by `onboardflow webhooks test`, to one subscription, whatever it wants
EVERY_EVENT = "*"

DELIVERY_STATUSES = ("pending", "delivered", "failed")
# the waits after each failed attempt, as Svix has them: eight attempts over about 28 hours, then failed
RETRY_SCHEDULE = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=10),
)
FAILED_STATUSES = ("undeliverable", "parked")  # a message's ends that count as failed for good


@dataclass(frozen=True, slots=True)
class OutboundEvent:
    """One of onboardflow's own events, as receivers get it: `{"type", "timestamp", "data"}`."""

    id: str
    type: str
    at: datetime
    data: dict[str, Any]
    customer_id: str | None = None  # whom it is about, if anyone: for listing and erasure

    def body(self) -> str:
        """The JSON text sent, the same bytes on every attempt (the signature covers them)."""
        document = {"type": self.type, "timestamp": iso(self.at), "data": self.data}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class Subscription:
    """An endpoint that wants some of onboardflow's events, signed with its own secret."""

    id: str
    url: str
    events: tuple[str, ...]  # event types, or ("*",) for every one
    secret: str  # whsec_ and base64, as Standard Webhooks has it
    created_at: datetime
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    previous_secret: str | None = None  # the secret a rotation replaced, still signing until…
    previous_secret_until: datetime | None = None

    def wants(self, event_type: str) -> bool:
        return self.enabled and (EVERY_EVENT in self.events or event_type in self.events)

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets a request made at `now` is signed with: the current one, and during the grace period
        after a rotation the one it replaced (receivers still verifying with it keep accepting)."""
        until = self.previous_secret_until
        if self.previous_secret is None or until is None or now >= until:
            return (self.secret,)
        return (self.secret, self.previous_secret)

    def rotated(self, new_secret: str, *, now: datetime, grace: timedelta) -> Subscription:
        """This subscription signing with `new_secret` from now on, and with its current one as well until
        `now + grace` (no grace: the current one stops at once)."""
        keep = grace > timedelta(0)
        return replace(self, secret=new_secret, previous_secret=self.secret if keep else None,
                       previous_secret_until=now + grace if keep else None)


@dataclass(frozen=True, slots=True)
class OutboundDelivery:
    """One event on its way to one subscription: `pending` until delivered, or failed for good.

    `attempts` counts requests made; `next_attempt_at` is when the next is due; `response_status` and
    `error` say how the last one went.
    """

    id: str  # the webhook-id
    subscription_id: str
    event_id: str
    event_type: str
    body: str
    created_at: datetime
    customer_id: str | None = None
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    response_status: int | None = None
    error: str | None = None
    finished_at: datetime | None = None


def delivery_id(subscription_id: str, event_id: str) -> str:
    return stable_id("msg", subscription_id, event_id)


def deliveries_for(
    events: Iterable[OutboundEvent], subscriptions: Iterable[Subscription]
) -> list[OutboundDelivery]:
    """A delivery for each event and each enabled subscription that wants its type."""
    subscriptions = list(subscriptions)
    found = []
    for event in events:
        wanting = [s for s in subscriptions if s.wants(event.type)]
        if wanting:
            body = event.body()  # once, whoever many want it
            found.extend(delivery_of(event, s.id, body=body) for s in wanting)
    return found


def delivery_of(event: OutboundEvent, subscription_id: str, *, body: str | None = None) -> OutboundDelivery:
    return OutboundDelivery(
        id=delivery_id(subscription_id, event.id), subscription_id=subscription_id, event_id=event.id,
        event_type=event.type, body=event.body() if body is None else body, created_at=event.at,
        customer_id=event.customer_id, next_attempt_at=event.at,
    )


def next_retry(attempts: int) -> timedelta | None:
    """The wait after `attempts` failed attempts (1, 2, …), or None when they are all used up."""
    return RETRY_SCHEDULE[attempts - 1] if 1 <= attempts <= len(RETRY_SCHEDULE) else None


def unknown_event_types(names: Iterable[str]) -> list[str]:
    return [name for name in names if name != EVERY_EVENT and name not in EVENT_TYPES]


# the events, made where the change happens


def message_sent(message: SendMessage, *, channel: str | None, provider_id: str | None,
                 at: datetime) -> OutboundEvent:
    data = {**_message(message), "channel": channel, "provider_id": provider_id, "sent_at": iso(at)}
    return OutboundEvent(f"{message.message_id}:sent", MESSAGE_SENT, at, data, message.customer_id)


def message_failed(message: SendMessage, *, status: str, channel: str | None, error: str | None,
                   attempts: int, at: datetime) -> OutboundEvent:
    """`status` is undeliverable (no way to reach the customer, or a permanent refusal) or parked
    (retries used up); a parked message sent again and failing again is a new event (`attempts`)."""
    data = {**_message(message), "channel": channel, "status": status, "error": error, "attempts": attempts,
            "failed_at": iso(at)}
    return OutboundEvent(f"{message.message_id}:failed:{attempts}", MESSAGE_FAILED, at, data,
                         message.customer_id)


def task_opened(task: OpenTask) -> OutboundEvent:
    data = {**_task(task), "due_at": iso(task.due_at), "opened_at": iso(task.at),
            "context": plain(task.context)}
    return OutboundEvent(f"{task.task_id}:opened", TASK_OPENED, task.at, data, task.customer_id)


def task_resolved(task: OpenTask, *, outcome: str, by: str | None, at: datetime) -> OutboundEvent:
    data = {**_task(task), "outcome": outcome, "resolved_by": by, "resolved_at": iso(at)}
    return OutboundEvent(f"{task.task_id}:resolved", TASK_RESOLVED, at, data, task.customer_id)


def enrollment_events(before: Enrollment | None, after: Enrollment) -> list[OutboundEvent]:
    """What a change of an enrollment tells subscribers: it reached its goal (converted), it completed."""
    found = []
    if after.goal_reached_at is not None and (before is None or before.goal_reached_at is None):
        data = {**_enrollment(after), "converted_at": iso(after.goal_reached_at)}
        found.append(OutboundEvent(f"{after.id}:converted", ENROLLMENT_CONVERTED, after.goal_reached_at, data,
                                   after.customer_id))
    if after.exit_reason == "completed" and not after.is_active and (before is None or before.is_active):
        at = after.ended_at or after.started_at
        data = {**_enrollment(after), "completed_at": iso(at), "step_id": after.step_id}
        found.append(OutboundEvent(f"{after.id}:completed", ENROLLMENT_COMPLETED, at, data,
                                   after.customer_id))
    return found


def journey_published(*, journey_id: str, version: int, name: str, owner: str, digest: str,
                      at: datetime) -> OutboundEvent:
    data = {"journey_id": journey_id, "journey_version": version, "name": name, "owner": owner,
            "digest": digest, "published_at": iso(at)}
    return OutboundEvent(f"{journey_id}:v{version}:published", JOURNEY_PUBLISHED, at, data)


def webhook_test_event(event_id: str, subscription_id: str, *, at: datetime) -> OutboundEvent:
    data = {"subscription_id": subscription_id,
            "message": "a test from onboardflow: this endpoint is reached"}
    return OutboundEvent(event_id, WEBHOOK_TEST, at, data)


def _message(message: SendMessage) -> dict[str, Any]:
    return {"message_id": message.message_id, "customer_id": message.customer_id,
            "journey_id": message.journey_id, "journey_version": message.version, "step_id": message.step_id,
            "enrollment_id": message.enrollment_id, "template": message.template, "purpose": message.purpose}


def _task(task: OpenTask) -> dict[str, Any]:
    return {"task_id": task.task_id, "customer_id": task.customer_id, "journey_id": task.journey_id,
            "journey_version": task.version, "step_id": task.step_id, "enrollment_id": task.enrollment_id,
            "queue": task.queue, "reason": task.reason, "priority": task.priority}


def _enrollment(enrollment: Enrollment) -> dict[str, Any]:
    return {"enrollment_id": enrollment.id, "customer_id": enrollment.customer_id,
            "journey_id": enrollment.journey_id, "journey_version": enrollment.version,
            "group": enrollment.group, "started_at": iso(enrollment.started_at)}


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z: 2026-03-01T10:00:00Z (microseconds only when there are some)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """A value as JSON can carry it: datetimes in ISO 8601 (UTC), tuples as lists."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value

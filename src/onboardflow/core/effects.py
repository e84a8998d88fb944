"""Effects: what the state machine decides should happen, as frozen records the engine carries out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from onboardflow.core.model import Enrollment


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id: the same parts always give the same id, so a replay writes nothing new."""
    digest = hashlib.blake2b("\x1f".join(str(part) for part in parts).encode(), digest_size=12)
    return f"{prefix}_{digest.hexdigest()}"


def child_id(prefix: str, parent_id: str, seq: int) -> str:
    """The id of the `seq`-th thing an enrollment made: deterministic, and cheaper than a new hash."""
    return f"{prefix}_{parent_id.partition('_')[2]}.{seq}"


@dataclass(frozen=True, slots=True)
class SendMessage:
    message_id: str
    enrollment_id: str
    journey_id: str
    version: int
    customer_id: str
    step_id: str
    channels: tuple[str, ...]
    template: str
    purpose: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    timer_id: str
    enrollment_id: str
    customer_id: str
    due_at: datetime
    journey_id: str  # so the timers of a paused journey can be left out of the due ones


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class EndEnrollment:
    enrollment_id: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class UpdateCustomer:
    """Set or remove traits and tags on the customer (the `update` step, a webhook's mapped response)."""

    customer_id: str
    at: datetime
    set_traits: dict[str, Any] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OpenTask:
    """A hand-off to people: an `escalate` step's, or an escalation rule's (`rule` names its kind; a global
    rule's task has no journey, enrollment or step). Its resolution comes back as a `Task Resolved` event."""

    task_id: str
    enrollment_id: str | None
    journey_id: str | None
    version: int | None
    customer_id: str
    step_id: str | None
    queue: str
    reason: str
    priority: str
    due_at: datetime
    at: datetime
    context: dict[str, Any] = field(default_factory=dict)
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class CallWebhook:
    """An HTTP call for the `webhook` step, carried out by the webhook runner, which reports back with a
    `Webhook Succeeded` or `Webhook Failed` event. `scope` is what the body's Liquid template sees."""

    call_id: str
    enrollment_id: str
    journey_id: str
    version: int
    customer_id: str
    step_id: str
    url: str
    method: str
    headers: dict[str, str]
    body: str | None
    secret: str | None
    timeout: timedelta
    retries: int
    scope: dict[str, Any]
    at: datetime


Effect = SendMessage | ScheduleTimer | CancelTimer | EndEnrollment | UpdateCustomer | OpenTask | CallWebhook


@dataclass(frozen=True, slots=True)
class Decision:
    """The enrollment after a stimulus and the effects to apply with it, in one transaction."""

    enrollment: Enrollment
    effects: tuple[Effect, ...] = ()

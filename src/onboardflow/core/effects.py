"""Effects: what the state machine decides should happen, as frozen records the engine carries out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class EndEnrollment:
    enrollment_id: str
    reason: str
    at: datetime


Effect = SendMessage | ScheduleTimer | CancelTimer | EndEnrollment


@dataclass(frozen=True, slots=True)
class Decision:
    """The enrollment after a stimulus and the effects to apply with it, in one transaction."""

    enrollment: Enrollment
    effects: tuple[Effect, ...] = ()

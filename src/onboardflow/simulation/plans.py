"""What a customer's plan is made of: events to emit (`Emit`) and chances decided when their time comes
(`Chance`), with the random streams and times they are drawn with."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from onboardflow.core.model import Event
from onboardflow.simulation.personas import Span

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Emit:
    at: datetime
    event: Event


@dataclass(frozen=True, slots=True)
class Chance:
    """What a customer may do at `at`: it happens when `roll` is under the odds then."""

    at: datetime
    customer_id: str
    intention: str  # one of personas.INTENTIONS
    odds: float  # the persona's, before reactions
    roll: float
    then: Callable[[], list[Action]] = field(compare=False)


Action = Emit | Chance


def random_stream(*parts: object) -> random.Random:
    """A random stream fixed by `parts` (seed, customer ...): the same parts, the same draws."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def span_of(rng: random.Random, span: Span) -> timedelta:
    return timedelta(seconds=rng.uniform(span.low.total_seconds(), span.high.total_seconds()))

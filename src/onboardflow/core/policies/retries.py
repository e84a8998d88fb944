"""Delivery retries: exponential back-off with full jitter, capped, then parked.

After the n-th failed attempt the next one waits a random share of `min(max_delay, base * 2**(n-1))`
("full jitter": retries of many messages spread out instead of hitting a recovering provider together),
but never less than `min_delay`. When the provider said when to come back (a 429 or 503 with
Retry-After), that wait replaces the back-off, longer or shorter: the provider knows when it will take the
message; it is still kept between `min_delay` and `max_delay`, so a provider cannot park a message for a
week, nor have it hammered. After `max_attempts` failures the message is parked for a person to look at.

The random share is drawn from a hash of the message id and the attempt number, not from a random
generator: a replay, a simulation and a test see the very same delays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from onboardflow.core.policies.errors import PolicyError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    max_attempts: int = 8
    min_delay: timedelta = timedelta(seconds=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise PolicyError(f"retry max_attempts is {self.max_attempts}: allow at least 1 attempt")
        if not timedelta(0) < self.min_delay <= self.base <= self.max_delay:
            raise PolicyError(
                f"retry delays must grow: 0 < min_delay ({self.min_delay}) <= base ({self.base}) "
                f"<= max_delay ({self.max_delay})"
            )


DEFAULT_RETRY = RetryPolicy()


def backoff_ceiling(attempt: int, policy: RetryPolicy = DEFAULT_RETRY) -> timedelta:
    """The longest wait after the `attempt`-th failure: the base doubled each time, up to max_delay."""
    _check_attempt(attempt)
    doubling = 2.0 ** min(attempt - 1, 64)  # past 64 doublings every ceiling is max_delay anyway
    seconds = min(policy.max_delay.total_seconds(), policy.base.total_seconds() * doubling)
    return timedelta(seconds=seconds)


def jitter_share(message_id: str, attempt: int) -> float:
    """A share in [0, 1), the same for the same message and attempt on every machine and run."""
    digest = hashlib.blake2b(f"{message_id}\x1f{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def next_attempt(
    attempt: int,
    message_id: str,
    retry_after: float | timedelta | None = None,
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> timedelta | None:
    """How long to wait after the `attempt`-th failed attempt (1 = the first), or None: park the message.

    `retry_after` is the provider's Retry-After, in seconds or as a timedelta.
    """
    _check_attempt(attempt)
    if attempt >= policy.max_attempts:
        return None
    wait = _retry_after(retry_after)
    if wait is not None:
        return min(max(wait, policy.min_delay), policy.max_delay)
    return max(policy.min_delay, backoff_ceiling(attempt, policy) * jitter_share(message_id, attempt))


def _check_attempt(attempt: int) -> None:
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise PolicyError(f"attempt is {attempt!r}: count failed attempts from 1")


def _retry_after(value: float | timedelta | None) -> timedelta | None:
    if value is None:
        return None
    try:
        wait = value if isinstance(value, timedelta) else timedelta(seconds=value)
    except (OverflowError, ValueError, TypeError):
        wait = None
    if wait is None or wait < timedelta(0):
        raise PolicyError(f"Retry-After is {value!r}: a provider's wait is a number of seconds, zero or more")
    return wait

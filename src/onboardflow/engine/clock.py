"""Clocks: the system clock for production, a virtual clock for simulation, tests and the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    """The only place in onboardflow that reads the wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that moves only when told to: jump to a time, or forward by a duration."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a virtual clock needs a time with a zone, e.g. 2026-03-01T00:00:00+00:00")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def jump_to(self, moment: datetime) -> datetime:
        if moment > self._now:
            self._now = moment
        return self._now

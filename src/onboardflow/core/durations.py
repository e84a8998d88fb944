"""Durations as journey authors write them: `90m`, `36h`, `10d`, `2w`, or `1d12h`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"^(?:\d+[smhdw])+$")
# Longer than this is a typo; it also keeps `now + duration` inside what a datetime can hold.
MAX_DURATION = timedelta(days=36525)


class DurationError(ValueError):
    """A duration string that cannot be read."""


def parse_duration(text: object) -> timedelta:
    """Read `90m`, `36h`, `10d`, `2w` or combinations like `1d12h` into a timedelta."""
    if isinstance(text, timedelta):
        return text
    if not isinstance(text, str) or not _WHOLE.match(text.strip()):
        raise DurationError(
            f"{text!r} is not a duration: write a number and a unit (s, m, h, d, w), e.g. 90m, 36h, 10d"
        )
    parts = _PART.findall(text.strip())
    try:
        delta = sum((timedelta(**{_UNITS[unit]: int(amount)}) for amount, unit in parts), timedelta(0))
    except OverflowError:
        delta = timedelta.max
    if delta > MAX_DURATION:
        raise DurationError(f"{text!r} is longer than 100 years: check the number and the unit")
    if delta <= timedelta(0):
        raise DurationError(f"{text!r} is zero: a duration must be longer than nothing")
    return delta


def format_duration(delta: timedelta) -> str:
    """Write a timedelta back in the shortest journey-file form (`36h`, `10d`, `1d12h`)."""
    seconds = int(delta.total_seconds())
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            out.append(f"{amount}{unit}")
    return "".join(out) or "0s"

"""Quiet hours: wall-clock windows in the recipient's time zone when no message goes out.

A message that falls inside one is deferred to the first minute after it, never dropped. Windows are
wall-clock times (`21:00` to `08:00`) and may cross midnight; they are turned into instants day by day,
so a daylight-saving change inside a window moves its end by the right hour:

- an end that falls in a spring-forward gap (02:30 on the night New York skips 02:00–03:00) ends the
  window at the first instant after the gap (03:00 local);
- an end that occurs twice on a fall-back night ends the window at its first occurrence.

A window whose start equals its end is empty: no quiet hours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from onboardflow.core.policies.errors import PolicyError

SMS = "sms"


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """Local wall-clock quiet hours from `start` (inclusive) to `end` (exclusive)."""

    start: time
    end: time

    @classmethod
    def parse(cls, start: str, end: str) -> QuietWindow:
        """A window from two `HH:MM` strings, as journey files and settings write them."""
        return cls(_clock_time(start, "from"), _clock_time(end, "to"))

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class SmsQuietHours:
    """Quiet hours for SMS: a default, replaced by a country's, replaced in turn by a state's.

    Keys are ISO codes: countries `US`, `FR`; states `US-FL`, `CA-QC`. `None` as the default means no
    SMS quiet hours beyond the journey's own.
    """

    default: QuietWindow | None = QuietWindow(time(21, 0), time(8, 0))
    by_country: Mapping[str, QuietWindow] = field(default_factory=dict)
    by_state: Mapping[str, QuietWindow] = field(default_factory=dict)

    def window_for(self, country: str | None, state: str | None) -> QuietWindow | None:
        if state and state in self.by_state:
            return self.by_state[state]
        if country and country in self.by_country:
            return self.by_country[country]
        return self.default


def _clock_time(text: str, name: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except (AttributeError, ValueError):
        raise PolicyError(f"quiet hours `{name}` is {text!r}: write a 24-hour time like 21:00") from None


def quiet_windows(
    channel: str, *, journey_window: QuietWindow | None, sms: SmsQuietHours, country: str | None,
    state: str | None,
) -> tuple[QuietWindow, ...]:
    """Every window a message on `channel` must avoid: the journey's (all channels), and SMS's own."""
    windows = [journey_window] if journey_window is not None else []
    if channel == SMS:
        sms_window = sms.window_for(country, state)
        if sms_window is not None and sms_window not in windows:
            windows.append(sms_window)
    return tuple(windows)


def _aware_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise PolicyError(f"`now` must carry its time zone (got {now.isoformat()}): pass an aware datetime")
    return now.astimezone(UTC)


def _gap_end(local: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after the daylight-saving gap that swallows the wall time `local`."""
    lo, hi = sorted(int(local.replace(fold=fold).astimezone(UTC).timestamp()) for fold in (0, 1))
    after = datetime.fromtimestamp(hi, UTC).astimezone(zone).utcoffset()
    while hi - lo > 1:  # the offset at lo is the one before the gap, at hi the one after
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@lru_cache(maxsize=16384)  # pure, and asked again for the same days and zones by every message sent
def first_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in `zone` shows `wall` on `day`, or has passed it."""
    local = datetime.combine(day, wall, tzinfo=zone)  # fold=0: the first of two occurrences
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    return _gap_end(local, zone)


def quiet_period(now: datetime, window: QuietWindow, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The quiet period (start, end) in UTC that `now` falls in, or None outside quiet hours."""
    now = _aware_utc(now)
    today = now.astimezone(zone).date()
    for day in (today - timedelta(days=1), today):
        start = first_instant(day, window.start, zone)
        end_day = day + timedelta(days=1) if window.crosses_midnight else day
        end = first_instant(end_day, window.end, zone)
        if start <= now < end:
            return start, end
    return None


def is_quiet_hours(now: datetime, window: QuietWindow, zone: ZoneInfo) -> bool:
    return quiet_period(now, window, zone) is not None


def next_allowed_time(now: datetime, window: QuietWindow, zone: ZoneInfo) -> datetime:
    """`now` (in UTC) when outside quiet hours, else the first minute after them, in UTC."""
    period = quiet_period(now, window, zone)
    return _aware_utc(now) if period is None else period[1]


def next_allowed_under(now: datetime, windows: Sequence[QuietWindow], zone: ZoneInfo) -> datetime:
    """The first instant from `now` that is outside every window (they may overlap or abut)."""
    at = _aware_utc(now)
    for _ in range(2 * len(windows) + 2):
        moved = at
        for window in windows:
            moved = next_allowed_time(moved, window, zone)
        if moved == at:
            return at
        at = moved
    names = ", ".join(str(window) for window in windows)
    raise PolicyError(f"quiet hours {names} in {zone.key} together cover the whole day: shorten one")

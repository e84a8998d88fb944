"""Uplift over the holdout: the goal-conversion rate of the treated group minus the holdout's, over
enrollments of the same entry weeks only, with Newcombe's 95% interval (docs/outcomes.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from onboardflow.analytics.stats import newcombe
from onboardflow.core.model import Enrollment

MIN_GROUP = 30  # enrollments each group needs before the difference is worth a number
TOO_SMALL = "too small to tell"


@dataclass(frozen=True, slots=True)
class Uplift:
    treated: int
    treated_converted: int
    holdout: int
    holdout_converted: int
    weeks: tuple[str, ...]  # the entry weeks both groups come from
    difference: float | None = None  # treated rate − holdout rate; None when too small to tell
    low: float | None = None
    high: float | None = None
    verdict: str = TOO_SMALL  # up, down, no clear difference, too small to tell

    @property
    def sample(self) -> int:
        return self.treated + self.holdout


def uplift(
    enrollments: Sequence[Enrollment],
    as_of: datetime,
    *,
    window: Callable[[Enrollment], timedelta | None],
    minimum: int = MIN_GROUP,
) -> Uplift:
    """Only enrollments whose goal window (`window`, None: no window) has closed by `as_of` count, and only
    from entry weeks that have both treated and held-out enrollments."""
    from onboardflow.analytics.kpis import converted_by, entry_week

    matured = [e for e in enrollments if e.started_at + (window(e) or timedelta()) <= as_of]
    weeks_of = {False: set(), True: set()}
    for enrollment in matured:
        weeks_of[enrollment.is_holdout].add(entry_week(enrollment.started_at))
    weeks = weeks_of[False] & weeks_of[True]
    chosen = [e for e in matured if entry_week(e.started_at) in weeks]
    treated = [e for e in chosen if not e.is_holdout]
    holdout = [e for e in chosen if e.is_holdout]
    x1 = sum(converted_by(e, as_of) for e in treated)
    x2 = sum(converted_by(e, as_of) for e in holdout)
    counts = Uplift(len(treated), x1, len(holdout), x2, tuple(sorted(weeks)))
    interval = newcombe(x1, len(treated), x2, len(holdout))
    if interval is None or min(len(treated), len(holdout)) < minimum:
        return counts
    difference = x1 / len(treated) - x2 / len(holdout)
    verdict = "up" if interval.low > 0 else "down" if interval.high < 0 else "no clear difference"
    return Uplift(
        len(treated), x1, len(holdout), x2, counts.weeks, difference, interval.low, interval.high, verdict
    )

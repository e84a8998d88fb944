"""Decision closure and open blockers, from the review trail's decisions and risks (docs/outcomes.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from onboardflow.analytics.records import Blocker, Decision
from onboardflow.analytics.stats import rate


@dataclass(frozen=True, slots=True)
class DecisionClosure:
    decisions: int  # taken up by `as_of`
    closed: int  # of those, closed by `as_of`
    closed_recently: list[Decision]  # closed in the week before `as_of`
    open_blockers: list[Blocker]  # soonest due first; those without a due date last

    @property
    def rate(self) -> float | None:
        return rate(self.closed, self.decisions)


def decision_closure(
    decisions: Sequence[Decision],
    blockers: Sequence[Blocker],
    as_of: datetime,
    *,
    since: datetime | None = None,
    journey_id: str | None = None,
) -> DecisionClosure:
    """Closure rate: decisions closed by `as_of` over decisions opened by then. Blockers open at `as_of`."""
    mine = [d for d in decisions if d.opened_at <= as_of and journey_id in (None, d.journey_id)]
    closed = [d for d in mine if d.closed_at is not None and d.closed_at <= as_of]
    recent = [d for d in closed if since is None or d.closed_at > since]
    still_open = [
        b
        for b in blockers
        if b.opened_at <= as_of
        and journey_id in (None, b.journey_id)
        and (b.closed_at is None or b.closed_at > as_of)
    ]
    still_open.sort(key=lambda b: (b.due_at is None, b.due_at or as_of, b.id))
    return DecisionClosure(len(mine), len(closed), sorted(recent, key=lambda d: d.closed_at), still_open)

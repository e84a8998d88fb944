"""`GET /v1/kpis`: the KPIs of one journey or of every journey, whole or cut (the `read` scope); the same
document as `onboardflow kpis --json` (docs/outcomes.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query

from onboardflow.analytics import service
from onboardflow.analytics.cuts import CUTS
from onboardflow.analytics.reading import UnknownJourney
from onboardflow.api.dependencies import ClockDep, StoreDep, keyed_router, require_read
from onboardflow.api.problems import Problem, problem_responses

router = keyed_router("/v1/kpis", "kpis")
CutName = Literal[tuple(CUTS)]  # type: ignore[valid-type]


@router.get("", dependencies=[Depends(require_read)],
            responses=problem_responses({404: "No journey of this id is published"}))
def read_kpis(
    store: StoreDep, clock: ClockDep,
    journey_id: Annotated[str | None, Query(max_length=80, description="Only this journey")] = None,
    by: Annotated[CutName | None, Query(description="Cut by version, path, cohort, segment, source…")] = None,
    as_of: Annotated[datetime | None, Query(description="Read the numbers as of this time (default: now)")]
    = None,
) -> dict[str, Any]:
    """Entries, completion, goal conversion, uplift over the holdout (95% CI, or too small to tell), time
    to first value, early completion, repeat purchase, escalations, consistency, exception completion and
    the message funnel; and decision closure with the open blockers."""
    if as_of is not None and as_of.tzinfo is None:
        raise Problem(422, "Invalid request", "as_of needs a time zone, e.g. 2026-03-09T08:00:00Z")
    try:
        return service.kpis(store, as_of=as_of or clock.now(), journey_id=journey_id, by=by)
    except UnknownJourney as error:
        raise Problem(404, "Unknown journey", str(error)) from None

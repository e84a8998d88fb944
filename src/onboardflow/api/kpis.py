"""`GET /v1/kpis`: the KPIs of one journey or of every journey, whole or cut (the `read` scope); the same
document as `onboardflow kpis --json` (docs/outcomes.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

from onboardflow.analytics import service
from onboardflow.analytics.cuts import CUTS
from onboardflow.analytics.reading import UnknownJourney
from onboardflow.api.dependencies import ClockDep, StoreDep, keyed_router, require_read
from onboardflow.api.problems import Problem, problem_responses

router = keyed_router("/v1/kpis", "kpis")
SHARE = {"count": 12, "of": 40, "rate": 0.3}
EXAMPLE = {
    "as_of": "2026-03-09T08:00:00Z", "journey_id": "first-purchase-welcome", "by": None,
    "groups": [{"key": "first-purchase-welcome", "kpis": {
        "entered": 44, "holdout": 4, "active": 9, "completed": 30,
        "exited": {"completed": 18, "goal_reached": 12},
        "goal_conversion": SHARE,
        "uplift": {"verdict": "too small to tell", "difference": None, "ci95": None,
                   "method": "Newcombe hybrid score (Wilson)", "treated": {"count": 12, "of": 40},
                   "holdout": {"count": 1, "of": 4}, "weeks": ["2026-W09"]},
        "time_to_first_value": {"count": 30, "median_hours": 52.0, "p90_hours": 130.0, "reached": SHARE},
        "early_completion": SHARE, "repeat_purchase": {"30d": SHARE, "60d": SHARE, "90d": SHARE},
        "escalations": {"customers": 40, "tasks": 3, "per_100_customers": 7.5,
                        "per_100_by_reason": {"delivery late": 7.5},
                        "time_to_resolution": {"count": 2, "median_hours": 5.0, "p90_hours": 20.0}},
        "adoption_consistency": {"cohorts": {"2026-W09": 0.7}, "range": None, "stdev": None},
        "exception_completion": {"count": 1, "of": 3, "rate": 0.333},
        "funnel": [{"step_id": "welcome", "channel": "email", "sent": 40, "delivered": 39, "opened": 25,
                    "clicked": 9, "bounced": 1, "unsubscribed": 0, "complained": 0,
                    "deferred": {"quiet_hours": 6}, "skipped": {}}],
    }}],
    "decisions": {"decisions": 0, "closed": 0, "rate": None, "open_blockers": []},
}


class KpisRead(BaseModel):
    """The KPIs of each group (journey, or each value of the cut); every definition in docs/outcomes.md."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    as_of: datetime
    journey_id: str | None
    by: str | None
    groups: list[dict[str, Any]]
    decisions: dict[str, Any]
CutName = Literal[tuple(CUTS)]  # type: ignore[valid-type]


@router.get(
    "",
    dependencies=[Depends(require_read)],
    responses=problem_responses({404: "No journey of this id is published"}),
)
def read_kpis(
    store: StoreDep,
    clock: ClockDep,
    journey_id: Annotated[str | None, Query(max_length=80, description="Only this journey")] = None,
    by: Annotated[CutName | None, Query(description="Cut by version, path, cohort, segment, source…")] = None,
    as_of: Annotated[
        datetime | None, Query(description="Read the numbers as of this time (default: now)")
    ] = None,
) -> KpisRead:
    """Entries, completion, goal conversion, uplift over the holdout (95% CI, or too small to tell), time
    to first value, early completion, repeat purchase, escalations, consistency, exception completion and
    the message funnel; and decision closure with the open blockers."""
    if as_of is not None and as_of.tzinfo is None:
        raise Problem(422, "Invalid request", "as_of needs a time zone, e.g. 2026-03-09T08:00:00Z")
    try:
        document = service.kpis(store, as_of=as_of or clock.now(), journey_id=journey_id, by=by)
    except UnknownJourney as error:
        raise Problem(404, "Unknown journey", str(error)) from None
    return KpisRead.model_validate(document)

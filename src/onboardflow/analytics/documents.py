"""KPIs as plain JSON documents: what `onboardflow kpis --json` prints and `GET /v1/kpis` answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from onboardflow.analytics.cuts import Cut
from onboardflow.analytics.decisions import DecisionClosure
from onboardflow.analytics.funnel import FunnelRow
from onboardflow.analytics.kpis import Distribution, Kpis, Share


def share(value: Share) -> dict[str, Any]:
    return {"count": value.part, "of": value.whole, "rate": value.rate}


def distribution(value: Distribution) -> dict[str, Any]:
    return {"count": value.count, "median_hours": value.median_hours, "p90_hours": value.p90_hours}


def funnel_row(row: FunnelRow) -> dict[str, Any]:
    return {
        "step_id": row.step_id,
        "channel": row.channel,
        **row.counts,
        "deferred": dict(sorted(row.deferred.items())),
        "skipped": dict(sorted(row.skipped.items())),
    }


def kpis_document(kpis: Kpis) -> dict[str, Any]:
    lift, esc, spread = kpis.uplift, kpis.escalations, kpis.consistency
    return {
        "entered": kpis.entered,
        "holdout": kpis.holdout,
        "active": kpis.active,
        "completed": kpis.completed,
        "exited": kpis.exited,
        "goal_conversion": share(kpis.goal),
        "uplift": {
            "verdict": lift.verdict,
            "difference": lift.difference,
            "ci95": [lift.low, lift.high] if lift.low is not None else None,
            "method": "Newcombe hybrid score (Wilson)",
            "treated": {"count": lift.treated_converted, "of": lift.treated},
            "holdout": {"count": lift.holdout_converted, "of": lift.holdout},
            "weeks": list(lift.weeks),
        },
        "time_to_first_value": {**distribution(kpis.time_to_value), "reached": share(kpis.value_reached)},
        "early_completion": share(kpis.early_completion),
        "repeat_purchase": {f"{days}d": share(value) for days, value in kpis.repeat_purchase.items()},
        "escalations": {
            "customers": esc.customers,
            "tasks": esc.tasks,
            "per_100_customers": esc.per_100,
            "per_100_by_reason": esc.by_reason,
            "time_to_resolution": distribution(esc.resolution),
        },
        "adoption_consistency": {"cohorts": spread.cohorts, "range": spread.range, "stdev": spread.stdev},
        "exception_completion": share(kpis.exception_completion),
        "funnel": [funnel_row(row) for row in kpis.funnel],
    }


def closure_document(closure: DecisionClosure) -> dict[str, Any]:
    return {
        "decisions": closure.decisions,
        "closed": closure.closed,
        "rate": closure.rate,
        "open_blockers": [
            {
                "id": b.id,
                "journey_id": b.journey_id,
                "title": b.title,
                "owner": b.owner,
                "due_at": b.due_at,
                "fallback": b.fallback,
            }
            for b in closure.open_blockers
        ],
    }


def cuts_document(
    cuts: Sequence[Cut], *, as_of: datetime, journey_id: str | None, by: str | None, closure: DecisionClosure
) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "journey_id": journey_id,
        "by": by,
        "groups": [{"key": c.key, "kpis": kpis_document(c.kpis)} for c in cuts],
        "decisions": closure_document(closure),
    }

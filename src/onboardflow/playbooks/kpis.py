"""The KPI sets of the playbooks, by role: each KPI of `catalogue.KPIS` computed from onboardflow's own
records, for one journey since its launch. Pure: the records and the times come in.

The customer-success and RevOps KPIs read the outcome records (`analytics.records.OutcomeData`), the
agency KPIs read the review trail (`ReviewFacts`); docs/playbooks.md defines each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from statistics import pstdev

from onboardflow.analytics.decisions import decision_closure
from onboardflow.analytics.kpis import (
    Escalations,
    consistency,
    converted_by,
    escalations,
    exception_completion,
    hours,
    weekly_cohorts,
)
from onboardflow.analytics.records import CONFIDENCE_EVENTS, ORDER, SIGNED_UP, JourneyFacts, OutcomeData
from onboardflow.analytics.stats import percentile, rate
from onboardflow.core.model import Enrollment
from onboardflow.playbooks.catalogue import KPIS

POSITIVE_SCORE = 4  # review stars (or a satisfaction score) at or above: a confident customer
POSITIVE_SENTIMENT = 0.05  # a ticket's or review's sentiment score (-1 to 1) at or above: positive (VADER's cut)
SCOPE_WINDOW = timedelta(days=14)  # a change request this soon after launch reopens the approved scope


@dataclass(frozen=True, slots=True)
class Reading:
    """One KPI's value (None when there is nothing to read yet), its unit, what it rests on, and detail."""

    kpi: str
    value: float | None
    unit: str
    sample: int
    detail: str = ""

    @property
    def name(self) -> str:
        return KPIS[self.kpi].name


@dataclass(frozen=True, slots=True)
class VersionReviewFacts:
    version: int
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    launched_at: datetime | None = None
    change_requests: int = 0
    reopened_at: datetime | None = None  # first change request raised on the journey after this launch
    confidence: int | None = None  # 1-5, recorded by the owner at the approval gate


@dataclass(frozen=True, slots=True)
class ReviewFacts:
    """What the agency KPIs read of one journey's review trail: one entry per version reviewed."""

    versions: tuple[VersionReviewFacts, ...] = ()


@dataclass(frozen=True)
class Since:
    """One journey's records from its launch on; its enrollments split once into treated and holdout."""

    data: OutcomeData
    journey: JourneyFacts
    launched_at: datetime
    review: ReviewFacts = field(default_factory=ReviewFacts)

    @cached_property
    def _entered(self) -> list[Enrollment]:
        return [e for e in self.data.enrollments if e.journey_id == self.journey.journey_id
                and self.launched_at <= e.started_at <= self.data.as_of]

    @cached_property
    def treated(self) -> list[Enrollment]:
        return [e for e in self._entered if not e.is_holdout]

    @cached_property
    def holdout(self) -> list[Enrollment]:
        return [e for e in self._entered if e.is_holdout]

    @cached_property
    def escalations(self) -> Escalations:
        """The tasks opened since launch for the treated customers (two KPIs read them)."""
        return escalations([t for t in self.data.tasks if t.task.at >= self.launched_at], self.treated,
                           self.data.as_of)


def _time_to_resolution(s: Since) -> Reading:
    spread = s.escalations.resolution
    detail = f"p90 {spread.p90_hours:.1f} h" if spread.p90_hours is not None else "no task resolved yet"
    return Reading("time_to_resolution_after_release", spread.median_hours, "hours (median)", spread.count, detail)


def _adoption_consistency(s: Since) -> Reading:
    found = consistency(s.treated, s.data.as_of)
    points = None if found.range is None else 100 * found.range
    return Reading("adoption_consistency", points, "pp spread", len(found.cohorts),
                   ", ".join(f"{week} {100 * share:.0f}%" for week, share in found.cohorts.items()))


def _escalation_frequency(s: Since) -> Reading:
    found = s.escalations
    return Reading("escalation_frequency", found.per_100, "tasks per 100 customers", found.customers,
                   ", ".join(f"{reason} {per:.1f}" for reason, per in found.by_reason.items()))


def _customer_confidence(s: Since) -> Reading:
    customers = {e.customer_id for e in s.treated}
    positive = total = 0
    for customer in customers:
        for event in s.data.events.get(customer, ()):
            if event.name not in CONFIDENCE_EVENTS or not s.launched_at <= event.at <= s.data.as_of:
                continue
            score, sentiment = event.properties.get("score"), event.properties.get("sentiment")
            if isinstance(score, int | float) and not isinstance(score, bool):
                total += 1
                positive += score >= POSITIVE_SCORE
            elif sentiment in ("positive", "neutral", "negative"):
                total += 1
                positive += sentiment == "positive"
            elif isinstance(sentiment, int | float) and not isinstance(sentiment, bool):  # -1 to 1, as scored
                total += 1
                positive += sentiment >= POSITIVE_SENTIMENT
    share = rate(positive, total)
    return Reading("customer_confidence", None if share is None else 100 * share, "% positive", total,
                   f"{positive} of {total} reviews and answers positive")


def _decision_closure(s: Since) -> Reading:
    found = decision_closure(s.data.decisions, s.data.blockers, s.data.as_of, journey_id=s.journey.journey_id)
    share = found.rate
    return Reading("decision_closure_rate", None if share is None else 100 * share, "% closed", found.decisions,
                   f"{found.closed} of {found.decisions} closed; {len(found.open_blockers)} blockers open")


def _exception_completion(s: Since) -> Reading:
    found = exception_completion(s.data, s.treated, lambda enrollment: s.journey)
    share = found.rate
    return Reading("exception_state_completion", None if share is None else 100 * share, "% completed",
                   found.whole, f"{found.part} of {found.whole} exception-path enrollments completed")


def _pipeline_stability(s: Since) -> Reading:
    rates = {week: sum(converted_by(e, s.data.as_of) for e in members) / len(members)
             for week, members in weekly_cohorts(s.treated).items()}
    deviation = 100 * pstdev(rates.values()) if len(rates) >= 2 else None
    return Reading("pipeline_conversion_stability", deviation, "pp standard deviation", len(rates),
                   ", ".join(f"{week} {100 * share:.0f}%" for week, share in rates.items()))


def _handoff_quality(s: Since) -> Reading:
    customers = {e.customer_id for e in s.treated}  # a treated enrollment's tasks are its customer's
    due = [t for t in s.data.tasks if t.task.at >= s.launched_at and t.task.due_at <= s.data.as_of
           and t.task.customer_id in customers]
    in_time = [t for t in due if t.status == "resolved" and t.outcome and t.resolved_at is not None
               and t.resolved_at <= t.task.due_at]
    share = rate(len(in_time), len(due))
    return Reading("handoff_completion_quality", None if share is None else 100 * share, "% resolved in time",
                   len(due), f"{len(in_time)} of {len(due)} due tasks resolved with an outcome before due")


def _qualified_demand(s: Since) -> Reading:
    signed: dict[str, datetime] = {}
    for customer, events in s.data.events.items():
        for event in events:
            if (event.name == SIGNED_UP and event.properties.get("utm_source")
                    and s.launched_at <= event.at <= s.data.as_of and customer not in signed):
                signed[customer] = event.at
    ordered = sum(any(e.name == ORDER and at <= e.at <= s.data.as_of for e in s.data.events.get(customer, ()))
                  for customer, at in signed.items())
    share = rate(ordered, len(signed))
    detail = f"{ordered} ordered" + (f" ({100 * share:.0f}%)" if share is not None else "")
    return Reading("qualified_demand_influence", float(len(signed)), "attributed signups", len(signed), detail)


def _cycle_time(s: Since) -> Reading:
    def days_to_goal(group: Sequence[Enrollment]) -> list[float]:
        return [hours(e.goal_reached_at - e.started_at) / 24 for e in group if converted_by(e, s.data.as_of)]

    treated, holdout = percentile(days_to_goal(s.treated), 0.5), percentile(days_to_goal(s.holdout), 0.5)
    sample = len(days_to_goal(s.treated)) + len(days_to_goal(s.holdout))
    if treated is None or holdout is None:
        return Reading("revenue_cycle_time_reduction", None, "days", sample,
                       "needs conversions in both the journey and the holdout")
    share = f" ({100 * (holdout - treated) / holdout:.0f}% shorter)" if holdout else ""
    return Reading("revenue_cycle_time_reduction", holdout - treated, "days faster than the holdout", sample,
                   f"median {treated:.1f} d against {holdout:.1f} d{share}")


def _approval_turnaround(s: Since) -> Reading:
    waits = [hours(v.approved_at - v.submitted_at) for v in s.review.versions
             if v.submitted_at and v.approved_at and v.approved_at <= s.data.as_of]
    return Reading("approval_turnaround", percentile(waits, 0.5), "hours (median)", len(waits),
                   f"{len(waits)} approvals")


def _change_requests(s: Since) -> Reading:
    reviewed = [v for v in s.review.versions if v.submitted_at and v.submitted_at <= s.data.as_of]
    total = sum(v.change_requests for v in reviewed)
    per = total / len(reviewed) if reviewed else None
    return Reading("change_request_volume", per, "per version reviewed", len(reviewed),
                   f"{total} change requests over {len(reviewed)} versions")


def _scope_adherence(s: Since) -> Reading:
    launched = [v for v in s.review.versions if v.launched_at and v.launched_at <= s.data.as_of]
    held = [v for v in launched if v.reopened_at is None or v.reopened_at - v.launched_at > SCOPE_WINDOW]
    share = rate(len(held), len(launched))
    return Reading("scope_adherence_ratio", None if share is None else 100 * share, "% held", len(launched),
                   f"{len(held)} of {len(launched)} launches not reopened within 14 days")


def _launch_confidence(s: Since) -> Reading:
    scores = [(v.approved_at, v.confidence) for v in s.review.versions
              if v.confidence is not None and v.approved_at and v.approved_at <= s.data.as_of]
    if not scores:
        return Reading("launch_confidence", None, "of 5", 0, "no confidence recorded at the gate yet")
    latest = max(scores)[1]
    mean = sum(score for _, score in scores) / len(scores)
    return Reading("launch_confidence", float(latest), "of 5 (latest)", len(scores), f"mean {mean:.1f}")


READERS: dict[str, Callable[[Since], Reading]] = {
    "time_to_resolution_after_release": _time_to_resolution,
    "adoption_consistency": _adoption_consistency,
    "escalation_frequency": _escalation_frequency,
    "customer_confidence": _customer_confidence,
    "decision_closure_rate": _decision_closure,
    "exception_state_completion": _exception_completion,
    "pipeline_conversion_stability": _pipeline_stability,
    "handoff_completion_quality": _handoff_quality,
    "qualified_demand_influence": _qualified_demand,
    "revenue_cycle_time_reduction": _cycle_time,
    "approval_turnaround": _approval_turnaround,
    "change_request_volume": _change_requests,
    "scope_adherence_ratio": _scope_adherence,
    "launch_confidence": _launch_confidence,
}


def read_kpis(kpis: Sequence[str], since: Since) -> list[Reading]:
    """The readings of `kpis` (a playbook's set) for one journey since its launch."""
    return [READERS[kpi](since) for kpi in kpis]

"""KPIs cut by version, path, weekly entry cohort, customer segment or signup attribution.

A segment is read from what was known at entry: the trigger event (its order's value and first product
category), the customer's orders before it (first-time or returning), their profile (type, country), and
their first `Signed Up` event (utm_source, utm_medium, utm_campaign: first-touch attribution).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onboardflow.analytics.kpis import Kpis, compute, entry_week
from onboardflow.analytics.records import ORDER, SIGNED_UP, OutcomeData
from onboardflow.core.model import Enrollment

NONE = "(none)"
VALUE_BANDS = ((50.0, "under 50"), (100.0, "50-100"), (250.0, "100-250"))


@dataclass(frozen=True, slots=True)
class Cut:
    key: str
    kpis: Kpis


def _version(data: OutcomeData, enrollment: Enrollment) -> str:
    return f"v{enrollment.version}"


def _path(data: OutcomeData, enrollment: Enrollment) -> str:
    return ", ".join(f"{step}={path}" for step, path in sorted(enrollment.paths.items())) or NONE


def _cohort(data: OutcomeData, enrollment: Enrollment) -> str:
    return entry_week(enrollment.started_at)


def _trait(name: str) -> Callable[[OutcomeData, Enrollment], str]:
    def key(data: OutcomeData, enrollment: Enrollment) -> str:
        customer = data.customers.get(enrollment.customer_id)
        value = (
            None
            if customer is None
            else (customer.country if name == "country" else customer.traits.get(name))
        )
        return str(value) if value not in (None, "") else NONE

    return key


def _buyer(data: OutcomeData, enrollment: Enrollment) -> str:
    trigger = enrollment.trigger.get("id")
    earlier = [
        e
        for e in data.events.get(enrollment.customer_id, ())
        if e.name == ORDER and e.at <= enrollment.started_at and e.id != trigger
    ]
    return "returning" if earlier else "first-time"


def _order_value(data: OutcomeData, enrollment: Enrollment) -> str:
    total = enrollment.trigger.get("total")
    if not isinstance(total, int | float):
        return NONE
    return next((label for limit, label in VALUE_BANDS if total < limit), "250 and over")


def _category(data: OutcomeData, enrollment: Enrollment) -> str:
    products = enrollment.trigger.get("products") or []
    found = next(
        (line.get("category") for line in products if isinstance(line, dict) and line.get("category")), None
    )
    return str(found) if found else NONE


def attribution(data: OutcomeData, customer_id: str) -> dict:
    """The properties of the customer's first `Signed Up` event (first touch), or {}."""
    first = next((e for e in data.events.get(customer_id, ()) if e.name == SIGNED_UP), None)
    return first.properties if first is not None else {}


def _utm(name: str) -> Callable[[OutcomeData, Enrollment], str]:
    def key(data: OutcomeData, enrollment: Enrollment) -> str:
        value = attribution(data, enrollment.customer_id).get(name)
        return str(value) if value else NONE

    return key


def _journey(data: OutcomeData, enrollment: Enrollment) -> str:
    return enrollment.journey_id


CUTS: dict[str, Callable[[OutcomeData, Enrollment], str]] = {
    "journey": _journey,
    "version": _version,
    "path": _path,
    "cohort": _cohort,
    "segment": _trait("type"),
    "type": _trait("type"),
    "country": _trait("country"),
    "buyer": _buyer,
    "order_value": _order_value,
    "category": _category,
    "source": _utm("utm_source"),
    "medium": _utm("utm_medium"),
    "campaign": _utm("utm_campaign"),
}


def cut(data: OutcomeData, journey_id: str | None, by: str | None) -> list[Cut]:
    """The KPIs of one journey, whole or cut `by` one of CUTS; of every journey (`journey_id` None), one
    journey a row unless cut otherwise."""
    if journey_id is None and by is None:
        by = "journey"
    if by is not None and by not in CUTS:
        raise ValueError(f"cannot cut by {by!r}: choose one of {', '.join(CUTS)}")
    journey = data.journeys.get(journey_id) if journey_id else None
    chosen = [e for e in data.enrollments if journey_id is None or e.journey_id == journey_id]
    if by is None:
        return [Cut(journey_id or "all", compute(data, journey, chosen))]
    groups: dict[str, list[Enrollment]] = {}
    for enrollment in chosen:
        groups.setdefault(CUTS[by](data, enrollment), []).append(enrollment)
    facts = (lambda key: data.journeys.get(key)) if by == "journey" else (lambda key: journey)
    return [Cut(key, compute(data, facts(key), members)) for key, members in sorted(groups.items())]

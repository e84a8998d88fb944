"""What the store's own history says, journeys aside: orders per week, deliveries against their estimated
date, and review scores. Dates are the store's local dates (`zone`), as the shop reads them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from onboardflow.analytics.kpis import entry_week
from onboardflow.core.model import Event

ORDER, DELIVERED, REVIEW = "Order Completed", "Order Delivered", "Review Submitted"
NAMES = (ORDER, DELIVERED, REVIEW)
DELAY_BANDS = ("early", "on time", "1-3 days late", "4-7 days late", "8+ days late")


def delay_band(days: int) -> str:
    if days < 0:
        return "early"
    if days == 0:
        return "on time"
    return "1-3 days late" if days <= 3 else "4-7 days late" if days <= 7 else "8+ days late"


@dataclass(frozen=True, slots=True)
class Activity:
    orders: int
    orders_by_week: dict[str, int]
    delays: dict[int, int]  # days after the estimated date (negative: early) -> deliveries
    review_scores: dict[int, int]  # 1..5 -> reviews

    @property
    def delay_bands(self) -> dict[str, int]:
        bands = dict.fromkeys(DELAY_BANDS, 0)
        for days, count in self.delays.items():
            bands[delay_band(days)] += count
        return bands

    @property
    def late_share(self) -> float | None:
        total = sum(self.delays.values())
        return sum(c for d, c in self.delays.items() if d > 0) / total if total else None


def activity(events: Iterable[Event], *, as_of: datetime, zone: ZoneInfo) -> Activity:
    """Orders, delivery delays (delivered date − estimated date, in days) and review scores up to `as_of`."""
    orders, delays, scores = Counter(), Counter(), Counter()
    for event in events:
        if event.at > as_of:
            continue
        if event.name == ORDER:
            orders[entry_week(event.at.astimezone(zone))] += 1
        elif event.name == DELIVERED and event.properties.get("estimated_delivery_at"):
            estimated = datetime.fromisoformat(str(event.properties["estimated_delivery_at"]))
            delays[(event.at.astimezone(zone).date() - estimated.astimezone(zone).date()).days] += 1
        elif event.name == REVIEW and isinstance(event.properties.get("score"), int):
            scores[event.properties["score"]] += 1
    return Activity(
        sum(orders.values()),
        dict(sorted(orders.items())),
        dict(sorted(delays.items())),
        {score: scores.get(score, 0) for score in range(1, 6)},
    )

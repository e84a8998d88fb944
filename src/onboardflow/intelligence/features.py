"""What the repeat-purchase model knows of a customer after their first order, as of a moment: the order's
value, size and category, its delivery against the estimate, its review, how they engaged with messages,
their country, and the days since. Pure: the same history and moment give the same features, in training
and when a journey asks for `score.repeat_purchase`.

Training takes snapshots: a customer who has not ordered again `offset` days after their first order,
labelled by whether they order again within `window` days of the first one. Customers whose window has not
closed by the end of the history are left out (their label is not known yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ORDER_COMPLETED = "Order Completed"
ORDER_DELIVERED = "Order Delivered"
REVIEW_SUBMITTED = "Review Submitted"
ENGAGEMENT = ("Email Opened", "Email Clicked", "Link Clicked", "Push Opened", "In-App Message Opened")
FEATURE_EVENTS = frozenset({ORDER_COMPLETED, ORDER_DELIVERED, REVIEW_SUBMITTED, *ENGAGEMENT})
OFFSETS = (7, 14, 30)  # days after the first order at which training takes snapshots
WINDOW = 90  # days after the first order within which a second one counts


@dataclass(frozen=True, slots=True)
class Snapshot:
    customer_id: str
    first_order_at: datetime
    features: dict[str, Any]
    label: int  # 1: ordered again within the window


def orders_of(history: Iterable[Any]) -> list[Any]:
    return sorted((event for event in history if event.name == ORDER_COMPLETED), key=lambda event: event.at)


def features(history: list[Any], *, as_of: datetime, country: str | None = None) -> dict[str, Any] | None:
    """The features after the first order, from what had happened by `as_of`; None before any order."""
    seen = [event for event in history if event.at <= as_of]
    orders = orders_of(seen)
    if not orders:
        return None
    first = orders[0]
    order_id = first.properties.get("order_id")
    found: dict[str, Any] = {
        **_order(first.properties),
        **_delivery(seen, order_id),
        **_review(seen, order_id),
        "engagement": sum(1 for event in seen if event.name in ENGAGEMENT and event.at >= first.at),
        "days_since_purchase": round((as_of - first.at).total_seconds() / 86400, 2),
        "country": country or _country(seen) or "unknown",
    }
    return found


def _order(properties: Mapping[str, Any]) -> dict[str, Any]:
    products = [p for p in properties.get("products") or [] if isinstance(p, Mapping)]
    total = _number(properties.get("total"))
    if total is None:
        total = sum((_number(p.get("price")) or 0) * (_number(p.get("quantity")) or 1) for p in products)
    priciest = max(products, key=lambda p: _number(p.get("price")) or 0, default={})
    return {
        "first_order_value": round(total, 2),
        "items": sum(int(_number(p.get("quantity")) or 1) for p in products) or 1,
        "category": priciest.get("category") or "unknown",
    }


def _delivery(seen: list[Any], order_id: Any) -> dict[str, Any]:
    delivered = next(
        (e for e in seen if e.name == ORDER_DELIVERED and e.properties.get("order_id") == order_id), None
    )
    if delivered is None:
        return {"delivered": 0, "delivery_delay_days": 0.0, "late": 0}
    estimated = _time(delivered.properties.get("estimated_delivery_at"))
    delay = 0.0 if estimated is None else (delivered.at - estimated).total_seconds() / 86400
    late = delivered.properties.get("late")
    return {"delivered": 1, "delivery_delay_days": round(delay, 2), "late": int(late is True or delay > 0)}


def _review(seen: list[Any], order_id: Any) -> dict[str, Any]:
    reviews = [
        e for e in seen if e.name == REVIEW_SUBMITTED and e.properties.get("order_id") in (order_id, None)
    ]
    score = _number(reviews[-1].properties.get("score")) if reviews else None
    if score is None:
        return {"reviewed": 0, "review_score": 0.0}
    return {"reviewed": 1, "review_score": score}


def _country(seen: list[Any]) -> str | None:
    for event in reversed(seen):
        block = event.customer or {}
        if block.get("country"):
            return block["country"]
    return None


def snapshots(
    histories: Mapping[str, list[Any]],
    *,
    end: datetime,
    offsets: Iterable[int] = OFFSETS,
    window: int = WINDOW,
) -> list[Snapshot]:
    """Labelled snapshots of every customer whose window closed by `end` (the last event of the history)."""
    found = []
    for customer_id, history in histories.items():
        orders = orders_of(history)
        if not orders or orders[0].at + timedelta(days=window) > end:
            continue
        first, second = orders[0].at, orders[1].at if len(orders) > 1 else None
        for offset in offsets:
            as_of = first + timedelta(days=offset)
            if second is not None and second <= as_of:
                break  # they ordered again already: nothing left to predict
            label = int(second is not None and second <= first + timedelta(days=window))
            found.append(Snapshot(customer_id, first, features(history, as_of=as_of), label))  # type: ignore[arg-type]
    return found


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else None

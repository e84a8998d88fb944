"""The Olist Brazilian e-commerce dataset as canonical events: a built-in mapping of its five files.

Per order: purchase → Order Completed (with its items, their categories and the total), approval →
Payment Confirmed, carrier hand-off → Order Shipped, delivery → Order Delivered (with the estimated date
and whether it came late); per review: Review Submitted (score, title, text). Olist times are local to
São Paulo. Orders and reviews stream; the small files (customers, products, items) are indexed first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from onboardflow.core.model import Event
from onboardflow.integrations.mapping import RowError, numbered_rows, read_time

ZONE = ZoneInfo("America/Sao_Paulo")
FILES = {
    "orders": "olist_orders_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "products": "olist_products_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "reviews": "olist_order_reviews_dataset.csv",
}
MILESTONES = (  # order column → the event it marks
    ("order_approved_at", "Payment Confirmed"),
    ("order_delivered_carrier_date", "Order Shipped"),
    ("order_delivered_customer_date", "Order Delivered"),
)


def olist_files(folder: Path) -> dict[str, Path]:
    """The five files in `folder`; raises FileNotFoundError naming any that is missing."""
    found = {kind: folder / name for kind, name in FILES.items()}
    missing = [path.name for path in found.values() if not path.exists()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks the Olist file(s): {', '.join(missing)}")
    return found


def olist_events(folder: Path) -> Iterator[Event | RowError]:
    """Every event the dataset holds, order by order, then review by review."""
    files = olist_files(folder)
    categories = {row["product_id"]: row["product_category_name"] or None for row in _rows(files["products"])}
    customers = {row["customer_id"]: row for row in _rows(files["customers"])}
    items = _items_by_order(files["items"], categories)
    buyers: dict[str, str] = {}  # order id → the customer id its events carry, for the reviews
    for line, row in _numbered(files["orders"]):
        try:
            events = order_events(row, customers.get(row["customer_id"]), items.get(row["order_id"], []))
        except ValueError as error:
            yield RowError(line, f"{files['orders'].name}: {error}")
            continue
        buyers[row["order_id"]] = events[0].customer_id
        yield from events
    for line, row in _numbered(files["reviews"]):
        buyer = buyers.get(row["order_id"])
        if buyer is None:
            yield RowError(line, f"{files['reviews'].name}: review of order {row['order_id']}, not in the orders file")
            continue
        try:
            yield review_event(row, buyer)
        except ValueError as error:
            yield RowError(line, f"{files['reviews'].name}: {error}")


def order_events(order: dict[str, str], customer: dict[str, str] | None, items: list[dict[str, Any]]) -> list[Event]:
    order_id = order["order_id"]
    customer_id = customer["customer_unique_id"] if customer else order["customer_id"]
    purchased = _time(order, "order_purchase_timestamp")
    estimated = _time(order, "order_estimated_delivery_date", required=False)
    total = round(sum(item["price"] * item["quantity"] for item in items), 2)
    properties = {"order_id": order_id, "status": order["order_status"], "total": total, "currency": "BRL",
                  "products": items, "estimated_delivery_at": _iso(estimated)}
    events = [Event(f"olist:{order_id}:purchase", "Order Completed", customer_id, purchased, properties,
                    _profile(customer))]
    for column, name in MILESTONES:
        at = _time(order, column, required=False)
        if at is None:
            continue
        details: dict[str, Any] = {"order_id": order_id}
        if name == "Order Delivered":
            details.update(estimated_delivery_at=_iso(estimated), late=is_late(at, estimated))
        events.append(Event(f"olist:{order_id}:{column}", name, customer_id, at, details))
    return events


def is_late(delivered: datetime, estimated: datetime | None) -> bool:
    """Delivered on a later day (in São Paulo) than the estimate said."""
    return estimated is not None and delivered.astimezone(ZONE).date() > estimated.astimezone(ZONE).date()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def review_event(review: dict[str, str], customer_id: str) -> Event:
    at = _time(review, "review_creation_date")
    try:
        score = int(review["review_score"])
    except ValueError:
        raise ValueError(f"review_score {review['review_score']!r} is not a number from 1 to 5") from None
    properties = {"order_id": review["order_id"], "review_id": review["review_id"], "score": score,
                  "title": review["review_comment_title"] or None, "text": review["review_comment_message"] or None}
    return Event(f"olist:review:{review['review_id']}:{review['order_id']}", "Review Submitted", customer_id, at,
                 properties)


def _profile(customer: dict[str, str] | None) -> dict[str, Any]:
    block: dict[str, Any] = {"country": "BR", "timezone": "America/Sao_Paulo", "locale": "pt-BR"}
    if customer:
        block["traits"] = {"state": customer["customer_state"], "city": customer["customer_city"],
                           "zip_prefix": customer["customer_zip_code_prefix"]}
    return block


def _items_by_order(path: Path, categories: dict[str, str | None]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in _rows(path):
        product = row["product_id"]
        line = found[row["order_id"]].setdefault(
            product, {"product_id": product, "category": categories.get(product), "price": float(row["price"]),
                      "quantity": 0})
        line["quantity"] += 1  # Olist writes one row per unit
    return {order: list(lines.values()) for order, lines in found.items()}


def _time(row: dict[str, str], column: str, *, required: bool = True) -> datetime | None:
    text = (row.get(column) or "").strip()
    if not text:
        if required:
            raise ValueError(f"column {column!r} is empty")
        return None
    return read_time(text, "%Y-%m-%d %H:%M:%S", ZONE, column=column)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    for _, row in _numbered(path):
        yield row


def _numbered(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from numbered_rows(handle)

"""A year of a made-up shop's history, deterministic from a seed, for the models where real history is thin.

The Olist sample has no customer with two orders, so repeat purchase and recommendations cannot be
measured on it. This shop's customers order again for reasons the models can find (a good review, a
delivery on time, opening the emails, the category), and buy within product lines, so co-purchases mean
something. Figures measured on it say that the models work; they say nothing of any real shop.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from onboardflow.core.model import Event

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
COUNTRIES = (("US", 0.0), ("GB", 0.1), ("DE", -0.2), ("BR", -0.4), ("CA", 0.1))
LINES = (  # product line, category, base price, how loyal its buyers are (log-odds)
    ("cleanse", "skincare", 18.0, 0.5),
    ("hydrate", "skincare", 32.0, 0.5),
    ("protect", "skincare", 24.0, 0.3),
    ("brew", "coffee", 14.0, 0.8),
    ("grind", "coffee", 45.0, 0.2),
    ("run", "apparel", 60.0, -0.3),
    ("yoga", "apparel", 48.0, -0.1),
    ("charge", "electronics", 25.0, -0.5),
    ("listen", "electronics", 120.0, -0.7),
    ("bake", "kitchen", 22.0, 0.0),
)
PRODUCTS_PER_LINE = 5


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str
    category: str
    price: float
    line: str

    def line_item(self, quantity: int) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "name": self.name,
            "category": self.category,
            "price": self.price,
            "quantity": quantity,
            "url": f"https://shop.example/p/{self.product_id}",
            "image_url": f"https://shop.example/img/{self.product_id}.jpg",
        }


def catalog() -> list[Product]:
    return [
        Product(f"p_{line}_{n}", f"{line.title()} no. {n}", category, round(price * (0.8 + 0.1 * n), 2), line)
        for line, category, price, _ in LINES
        for n in range(1, PRODUCTS_PER_LINE + 1)
    ]


def sample_history(*, customers: int = 3000, seed: int = 7, days: int = 365) -> list[Event]:
    """Every event of the shop's first `days` days, in time order."""
    rng = random.Random(seed)
    products = catalog()
    events = [
        event
        for number in range(1, customers + 1)
        for event in _customer(rng, f"s_{number:05d}", products, days)
    ]
    end = START + timedelta(days=days)
    return sorted((event for event in events if event.at <= end), key=lambda event: (event.at, event.id))


def _customer(rng: random.Random, cid: str, products: list[Product], days: int) -> Iterator[Event]:
    country, country_effect = rng.choice(COUNTRIES)
    engaged = rng.random()  # how much they read what the shop sends
    at = START + timedelta(days=rng.uniform(0, days - 30), hours=rng.uniform(0, 12))
    line = rng.choices(LINES, weights=[4, 3, 2, 4, 1, 2, 2, 3, 1, 2])[0]
    basket = _basket(rng, products, line[0])
    profile = {"email": f"{cid}@example.com", "country": country, "locale": "en-US"}
    yield _order_event(cid, "o1", at, basket, profile)
    late, delay = _delivery_delay(rng)
    yield from _fulfilment(cid, "o1", at, delay)
    score = _review_score(rng, late)
    if rng.random() < 0.6:
        yield Event(
            f"{cid}-review-o1",
            "Review Submitted",
            cid,
            at + timedelta(days=8 + delay, hours=3),
            {"order_id": f"{cid}-o1", "score": score},
        )
    yield from _engagement(rng, cid, at, engaged)
    odds = -1.6 + line[3] + country_effect + 0.55 * (score - 3) - 0.9 * late + 2.2 * (engaged - 0.5)
    if rng.random() < 1 / (1 + math.exp(-odds)):
        again = at + timedelta(days=min(85.0, 8 + rng.expovariate(1 / 25)))
        yield _order_event(cid, "o2", again, _next_basket(rng, products, basket), None)
        if rng.random() < 0.35:
            yield _order_event(
                cid,
                "o3",
                again + timedelta(days=rng.uniform(20, 120)),
                _next_basket(rng, products, basket),
                None,
            )


def _basket(rng: random.Random, products: list[Product], line: str) -> list[tuple[Product, int]]:
    in_line = [p for p in products if p.line == line]
    chosen = rng.sample(in_line, k=rng.choice((1, 1, 2, 2, 3)))
    return [(product, rng.choice((1, 1, 2))) for product in chosen]


def _next_basket(rng: random.Random, products: list[Product], before: list[tuple[Product, int]]):
    """Mostly more of the same line, sometimes a neighbouring line of the same category."""
    owned = {product.product_id for product, _ in before}
    line = before[0][0].line
    if rng.random() < 0.3:
        category = before[0][0].category
        line = rng.choice([name for name, cat, _, _ in LINES if cat == category])
    fresh = [p for p in products if p.line == line and p.product_id not in owned] or [
        p for p in products if p.product_id not in owned
    ]
    return [(product, 1) for product in rng.sample(fresh, k=min(len(fresh), rng.choice((1, 2))))]


def _order_event(cid: str, oid: str, at: datetime, basket, profile) -> Event:
    items = [product.line_item(quantity) for product, quantity in basket]
    total = round(sum(item["price"] * item["quantity"] for item in items), 2)
    properties = {
        "order_id": f"{cid}-{oid}",
        "total": total,
        "currency": "USD",
        "products": items,
        "estimated_delivery_at": _iso(at + timedelta(days=5)),
    }
    return Event(f"{cid}-{oid}", "Order Completed", cid, at, properties, profile)


def _delivery_delay(rng: random.Random) -> tuple[int, int]:
    if rng.random() < 0.22:
        return 1, rng.randint(1, 8)
    return 0, rng.randint(-2, 0)


def _fulfilment(cid: str, oid: str, at: datetime, delay: int) -> Iterator[Event]:
    order_id = f"{cid}-{oid}"
    estimated = at + timedelta(days=5)
    yield Event(f"{order_id}-shipped", "Order Shipped", cid, at + timedelta(days=1), {"order_id": order_id})
    yield Event(
        f"{order_id}-delivered",
        "Order Delivered",
        cid,
        estimated + timedelta(days=delay, hours=2),
        {"order_id": order_id, "estimated_delivery_at": _iso(estimated), "late": delay > 0},
    )


def _review_score(rng: random.Random, late: int) -> int:
    weights = (3, 2, 3, 6, 6) if late else (1, 1, 2, 6, 12)
    return rng.choices((1, 2, 3, 4, 5), weights=weights)[0]


def _engagement(rng: random.Random, cid: str, at: datetime, engaged: float) -> Iterator[Event]:
    for number in range(4):  # the shop sends four emails in the month after the first order
        sent = at + timedelta(days=2 + 7 * number, hours=1)
        if rng.random() < engaged:
            yield Event(f"{cid}-open-{number}", "Email Opened", cid, sent + timedelta(hours=2), {})
            if rng.random() < engaged:
                yield Event(f"{cid}-click-{number}", "Link Clicked", cid, sent + timedelta(hours=3), {})


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")

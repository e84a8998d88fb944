"""Item-to-item recommendations from co-purchases: two products are close when the same customers bought
both (cosine of their buyer sets). For a customer, the products closest to what they bought, then the
best-sellers of the categories they bought from, then the shop's best-sellers; never what they bought.

Measured on held-out orders: the orders after the split time by customers who had ordered before it; a
hit when one of the top N is among the new products of that order. The baseline: the best-sellers.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ORDER_COMPLETED = "Order Completed"
NEIGHBOURS = 30  # kept per product
TRAIN_SHARE = 0.8  # orders by time: the earlier four fifths train, the rest is held out
TOP = 4


class NothingToRecommend(ValueError):
    """The history has no products to learn from; says what to import."""


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str | None = None
    url: str | None = None
    image: str | None = None
    price: float | None = None
    category: str | None = None

    def card(self) -> dict[str, Any]:
        """What a message template sees: `{{ item.name }}`, `{{ item.url }}`, `{{ item.image }}`, ..."""
        return {
            "product_id": self.product_id,
            "name": self.name or self.product_id,
            "url": self.url,
            "image": self.image,
            "price": self.price,
            "category": self.category,
        }


@dataclass
class Recommender:
    neighbours: dict[str, list[tuple[str, float]]]
    by_category: dict[str, list[str]]
    best_sellers: list[str]
    products: dict[str, Product] = field(default_factory=dict)
    trained_until: datetime | None = None  # orders after this were held out

    def recommend(self, bought: Iterable[str], *, top: int = TOP) -> list[Product]:
        owned = set(bought)
        scores: dict[str, float] = defaultdict(float)
        for product_id in owned:
            for other, similarity in self.neighbours.get(product_id, ()):
                if other not in owned:
                    scores[other] += similarity
        chosen = [pid for pid, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))][:top]
        categories = Counter(self.products[pid].category for pid in owned if pid in self.products)
        fallbacks = [
            pid for category, _ in categories.most_common() for pid in self.by_category.get(category, ())
        ]
        for pid in [*fallbacks, *self.best_sellers]:
            if len(chosen) >= top:
                break
            if pid not in owned and pid not in chosen:
                chosen.append(pid)
        return [self.products.get(pid, Product(pid)) for pid in chosen]

    def popular(self, bought: Iterable[str], *, top: int = TOP) -> list[str]:
        """The baseline: the shop's best-sellers the customer does not have."""
        owned = set(bought)
        return [pid for pid in self.best_sellers if pid not in owned][:top]


def orders_in(histories: Mapping[str, list[Any]]) -> list[tuple[datetime, str, list[dict[str, Any]]]]:
    """Every order as (time, customer, its product lines), in time order."""
    found = [
        (
            event.at,
            customer,
            [
                p
                for p in event.properties.get("products") or []
                if isinstance(p, Mapping) and p.get("product_id")
            ],
        )
        for customer, history in histories.items()
        for event in history
        if event.name == ORDER_COMPLETED
    ]
    return sorted(found, key=lambda order: (order[0], order[1]))


def train_recommendations(orders: list[tuple[datetime, str, list[dict[str, Any]]]]) -> Recommender:
    lines = [line for _, _, items in orders for line in items]
    if not lines:
        raise NothingToRecommend(
            "the history has no orders with products (properties.products[].product_id) "
            "to learn from: import orders first (`onboardflow import`)"
        )
    bought: dict[str, set[str]] = defaultdict(set)
    for _, customer, items in orders:
        bought[customer].update(str(line["product_id"]) for line in items)
    return Recommender(
        _neighbours(bought),
        *_best_sellers(lines),
        products=_products(lines),
        trained_until=orders[-1][0] if orders else None,
    )


def _neighbours(bought: Mapping[str, set[str]]) -> dict[str, list[tuple[str, float]]]:
    buyers: Counter[str] = Counter()
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for products in bought.values():
        buyers.update(products)
        for product in products:
            together[product].update(other for other in products if other != product)
    return {
        product: [
            (other, round(count / math.sqrt(buyers[product] * buyers[other]), 4))
            for other, count in sorted(others.items(), key=lambda item: (-item[1], item[0]))[:NEIGHBOURS]
        ]
        for product, others in together.items()
    }


def _best_sellers(lines: list[dict[str, Any]]) -> tuple[dict[str, list[str]], list[str]]:
    sold: Counter[str] = Counter()
    category_of: dict[str, str] = {}
    for line in lines:
        product_id = str(line["product_id"])
        sold[product_id] += int(line.get("quantity") or 1)
        if line.get("category"):
            category_of[product_id] = line["category"]
    ranked = [pid for pid, _ in sorted(sold.items(), key=lambda item: (-item[1], item[0]))]
    by_category: dict[str, list[str]] = defaultdict(list)
    for pid in ranked:
        if pid in category_of and len(by_category[category_of[pid]]) < NEIGHBOURS:
            by_category[category_of[pid]].append(pid)
    return dict(by_category), ranked[: NEIGHBOURS * 10]


def _products(lines: list[dict[str, Any]]) -> dict[str, Product]:
    """Each product as its latest order line describes it (Segment's name, url, image_url, price)."""
    found = {}
    for line in lines:
        price = line.get("price")
        found[str(line["product_id"])] = Product(
            str(line["product_id"]),
            line.get("name"),
            line.get("url"),
            line.get("image_url") or line.get("image"),
            float(price) if isinstance(price, int | float) and not isinstance(price, bool) else None,
            line.get("category"),
        )
    return found


@dataclass(frozen=True)
class HitRates:
    held_out_orders: int
    hit_rate: float | None
    popularity_hit_rate: float | None
    top: int

    def metrics(self) -> dict[str, Any]:
        return {
            "held_out_orders": self.held_out_orders,
            "top": self.top,
            "hit_rate": self.hit_rate,
            "popularity_hit_rate": self.popularity_hit_rate,
        }


def split(orders: list[tuple[datetime, str, list[dict[str, Any]]]]):
    """The earlier orders (to train on) and the later ones (held out)."""
    cut = int(len(orders) * TRAIN_SHARE)
    return orders[:cut], orders[cut:]


def evaluate_recommendations(recommender: Recommender, orders, *, top: int = TOP) -> HitRates:
    """Hit rates on the orders after `recommender.trained_until` by customers it knows from before."""
    before: dict[str, set[str]] = defaultdict(set)
    hits = popular_hits = counted = 0
    for at, customer, items in orders:
        new = {str(line["product_id"]) for line in items} - before[customer]
        if (
            recommender.trained_until is not None
            and at > recommender.trained_until
            and before[customer]
            and new
        ):
            counted += 1
            hits += bool(new & {p.product_id for p in recommender.recommend(before[customer], top=top)})
            popular_hits += bool(new & set(recommender.popular(before[customer], top=top)))
        before[customer].update(str(line["product_id"]) for line in items)
    if not counted:
        return HitRates(0, None, None, top)
    return HitRates(counted, round(hits / counted, 4), round(popular_hits / counted, 4), top)

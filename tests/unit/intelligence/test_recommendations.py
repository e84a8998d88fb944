"""Recommendations: products bought by the same customers, then the category's best-sellers; never what the
customer has; a hit rate on held-out orders above the best-sellers'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.intelligence.recommendations import (
    NothingToRecommend,
    evaluate_recommendations,
    orders_in,
    split,
    train_recommendations,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def order(customer: str, day: int, *products: tuple[str, str]) -> tuple:
    lines = [
        {
            "product_id": pid,
            "category": category,
            "price": 10.0,
            "quantity": 1,
            "name": pid.upper(),
            "url": f"https://shop.example/{pid}",
            "image_url": f"https://shop.example/{pid}.jpg",
        }
        for pid, category in products
    ]
    return (T0 + timedelta(days=day), customer, lines)


ORDERS = [
    order("a", 1, ("serum", "skin"), ("toner", "skin")),
    order("b", 2, ("serum", "skin"), ("toner", "skin"), ("mask", "skin")),
    order("c", 3, ("serum", "skin")),
    order("c", 4, ("mask", "skin")),
    order("d", 5, ("kettle", "kitchen")),
    order("e", 6, ("kettle", "kitchen")),
    order("f", 7, ("mug", "kitchen")),
    order("g", 8, ("kettle", "kitchen")),
    order("h", 9, ("grinder", "coffee")),
    order("i", 10, ("serum", "skin"), ("toner", "skin")),
]


def test_co_purchases_come_first_and_what_was_bought_never_comes():
    recommender = train_recommendations(ORDERS)

    found = recommender.recommend(["serum"], top=3)

    assert [item.product_id for item in found][:2] == ["toner", "mask"]
    assert "serum" not in [item.product_id for item in found]
    assert found[0].card() == {
        "product_id": "toner",
        "name": "TONER",
        "url": "https://shop.example/toner",
        "image": "https://shop.example/toner.jpg",
        "price": 10.0,
        "category": "skin",
    }


def test_without_co_purchases_the_categorys_best_sellers_fill_in_then_the_shops():
    recommender = train_recommendations(ORDERS)

    found = [item.product_id for item in recommender.recommend(["mug"], top=3)]

    assert found[0] == "kettle"  # the kitchen's best-seller: nobody bought a mug with anything
    assert "mug" not in found
    assert [item.product_id for item in recommender.recommend([], top=2)] == ["serum", "kettle"]  # 4 sold, 3


def test_an_empty_history_says_what_to_import():
    with pytest.raises(NothingToRecommend, match="import orders first"):
        train_recommendations([])


def test_on_held_out_orders_co_purchases_beat_the_best_sellers(shop_histories):
    orders = orders_in(shop_histories)
    earlier, _ = split(orders)

    rates = evaluate_recommendations(train_recommendations(earlier), orders)

    assert rates.held_out_orders > 50
    assert rates.hit_rate > rates.popularity_hit_rate + 0.2


def test_the_olist_sample_has_no_held_out_order_to_measure(olist_histories):
    orders = orders_in(olist_histories)
    earlier, _ = split(orders)

    rates = evaluate_recommendations(train_recommendations(earlier), orders)

    assert (rates.held_out_orders, rates.hit_rate) == (0, None)

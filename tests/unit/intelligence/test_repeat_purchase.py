"""Repeat-purchase propensity: features from the first order as of a moment, snapshots labelled by a second
order within the window, a model that beats the review-score baseline on held-out customers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.model import Customer, Event
from onboardflow.intelligence.calibration import calibration_table
from onboardflow.intelligence.features import features, snapshots
from onboardflow.intelligence.propensity import NotEnoughHistory, RepeatPurchaseScorer, train_repeat_purchase

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def event(name: str, days: float, **properties) -> Event:
    return Event(f"{name}-{days}", name, "c1", T0 + timedelta(days=days), properties)


FIRST = event(
    "Order Completed",
    0,
    order_id="o1",
    total=80.0,
    products=[
        {"product_id": "p1", "category": "coffee", "price": 30.0, "quantity": 2},
        {"product_id": "p2", "category": "kitchen", "price": 20.0, "quantity": 1},
    ],
)
HISTORY = [
    FIRST,
    event("Order Delivered", 6, order_id="o1", estimated_delivery_at="2026-01-08T10:00:00Z"),
    event("Review Submitted", 7, order_id="o1", score=2),
    event("Email Opened", 3),
    event("Link Clicked", 3.1),
    event("Email Opened", 20),
]


def test_features_are_what_had_happened_by_the_moment():
    early = features(HISTORY, as_of=T0 + timedelta(days=5), country="PT")
    later = features(HISTORY, as_of=T0 + timedelta(days=10), country="PT")

    assert early == {
        "first_order_value": 80.0,
        "items": 3,
        "category": "coffee",
        "delivered": 0,
        "delivery_delay_days": 0.0,
        "late": 0,
        "reviewed": 0,
        "review_score": 0.0,
        "engagement": 2,
        "days_since_purchase": 5.0,
        "country": "PT",
    }
    assert (later["delivered"], later["delivery_delay_days"], later["late"]) == (1, 3.0, 1)
    assert (later["reviewed"], later["review_score"]) == (1, 2.0)
    assert features(HISTORY, as_of=T0 - timedelta(days=1)) is None  # no order yet


def test_snapshots_stop_once_the_customer_orders_again_and_wait_for_the_window_to_close():
    again = [*HISTORY, event("Order Completed", 10, order_id="o2", total=20.0)]

    repeat = snapshots({"c1": again}, end=T0 + timedelta(days=200))
    open_window = snapshots({"c1": again}, end=T0 + timedelta(days=60))

    assert [(snap.features["days_since_purchase"], snap.label) for snap in repeat] == [(7.0, 1)]
    assert open_window == []  # 90 days have not passed: the label is not known yet


@pytest.fixture(scope="module")
def trained(shop_histories):
    return train_repeat_purchase(shop_histories)


def test_the_model_beats_the_review_score_baseline_on_held_out_customers(trained):
    _, evaluation = trained

    assert evaluation.customers > 300
    assert 0.1 < evaluation.positives / evaluation.snapshots < 0.5
    assert evaluation.auc > evaluation.baseline_auc + 0.05
    assert evaluation.auc > 0.65
    assert evaluation.brier < evaluation.baseline_brier


def test_the_model_is_calibrated_within_a_few_points_per_bin(trained):
    _, evaluation = trained

    assert len(evaluation.table) == 10
    assert sum(row.count for row in evaluation.table) == evaluation.snapshots
    assert max(abs(row.predicted - row.observed) for row in evaluation.table) < 0.1


def test_the_scorer_gives_a_probability_after_one_order_and_one_after_two(trained):
    model, _ = trained
    scorer = RepeatPurchaseScorer(model)
    customer = Customer("c1", country="US")

    [score] = scorer.score(customer, HISTORY, T0 + timedelta(days=10)).values()
    twice = scorer.score(
        customer, [*HISTORY, event("Order Completed", 9, order_id="o2")], T0 + timedelta(days=10)
    )

    assert 0 < score < 1
    assert twice == {"repeat_purchase": 1.0}
    assert scorer.score(customer, [], T0) == {"repeat_purchase": None}


def test_a_late_delivery_and_a_bad_review_lower_the_score(trained):
    model, _ = trained
    scorer = RepeatPurchaseScorer(model)
    happy = [
        FIRST,
        event("Order Delivered", 2, order_id="o1", estimated_delivery_at="2026-01-08T10:00:00Z"),
        event("Review Submitted", 3, order_id="o1", score=5),
    ]

    unhappy_score = scorer.score(Customer("c1", country="US"), HISTORY[:3], T0 + timedelta(days=14))
    happy_score = scorer.score(Customer("c1", country="US"), happy, T0 + timedelta(days=14))

    assert happy_score["repeat_purchase"] > unhappy_score["repeat_purchase"]


def test_the_olist_sample_has_no_repeat_customers_and_says_so(olist_histories):
    with pytest.raises(NotEnoughHistory) as raised:
        train_repeat_purchase(olist_histories)

    assert "who ordered again within 90 days" in str(raised.value)
    assert "0 ordered more than once" in str(raised.value)


def test_ties_stay_in_one_calibration_bin():
    rows = calibration_table([0, 1, 0, 1, 1, 0, 0, 0], [0.2, 0.2, 0.2, 0.2, 0.6, 0.6, 0.1, 0.1], bins=4)

    assert [(row.predicted, row.count, row.observed) for row in rows] == [
        (0.1, 2, 0.0),
        (0.2, 4, 0.5),
        (0.6, 2, 0.5),
    ]

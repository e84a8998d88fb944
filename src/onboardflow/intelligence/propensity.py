"""Repeat-purchase propensity: the chance that a customer with one order orders again within the window.

A logistic regression over the first-order features (`features.py`), one-hot for category and country,
fitted on the customers whose first order came before the split time; the later quarter is held out. The
baseline it must beat: the repeat rate of the training customers with the same review score.
`score.repeat_purchase` in conditions is this model's probability; a customer who has ordered twice already
scores 1.0, one with no order has no score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboardflow.intelligence.calibration import CalibrationRow, auc, brier, calibration_table
from onboardflow.intelligence.features import (
    FEATURE_EVENTS,
    OFFSETS,
    WINDOW,
    Snapshot,
    features,
    orders_of,
    snapshots,
)

TRAIN_SHARE = 0.75  # customers by first-order time: the earlier three quarters train, the rest is held out
MIN_CUSTOMERS = 10  # of each kind (reordered, did not) among the training customers


class NotEnoughHistory(ValueError):
    """The history cannot teach the model (too short, or nobody ordered again); says what there is."""


@dataclass
class RepeatPurchaseModel:
    pipeline: Any
    rates: dict[str, float]  # the baseline: repeat rate by review score
    base_rate: float
    cutoff: datetime  # customers whose first order is at or after it were held out
    window: int = WINDOW
    offsets: tuple[int, ...] = OFFSETS

    def predict(self, rows: list[dict[str, Any]]) -> list[float]:
        return [round(float(p), 4) for p in self.pipeline.predict_proba(rows)[:, 1]]

    def baseline(self, rows: list[dict[str, Any]]) -> list[float]:
        return [self.rates.get(review_key(row), self.base_rate) for row in rows]


def review_key(row: Mapping[str, Any]) -> str:
    return f"{row['review_score']:g} stars" if row.get("reviewed") else "no review"


@dataclass
class Evaluation:
    customers: int
    snapshots: int
    positives: int
    auc: float | None
    baseline_auc: float | None
    brier: float
    baseline_brier: float
    table: list[CalibrationRow] = field(default_factory=list)
    baseline_table: list[CalibrationRow] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {
            "held_out_customers": self.customers,
            "held_out_snapshots": self.snapshots,
            "held_out_repeat_rate": round(self.positives / self.snapshots, 4) if self.snapshots else None,
            "auc": self.auc,
            "baseline_auc": self.baseline_auc,
            "brier": self.brier,
            "baseline_brier": self.baseline_brier,
        }


def history_end(histories: Mapping[str, list[Any]]) -> datetime:
    return max(event.at for history in histories.values() for event in history)


def split_time(snaps: list[Snapshot]) -> datetime:
    firsts = sorted({snap.first_order_at for snap in snaps})
    return firsts[min(len(firsts) - 1, int(len(firsts) * TRAIN_SHARE))]


def train_repeat_purchase(
    histories: Mapping[str, list[Any]], *, window: int = WINDOW, step: Callable[[str], None] = lambda _: None
) -> tuple[RepeatPurchaseModel, Evaluation]:
    """Fit on the earlier customers, measure on the later ones: the model and its held-out evaluation."""
    if not histories:
        raise NotEnoughHistory("the history is empty: import orders first (`onboardflow import`)")
    step("building snapshots")
    snaps = snapshots(histories, end=history_end(histories), window=window)
    _check(snaps, histories, window)
    cutoff = split_time(snaps)
    train = [snap for snap in snaps if snap.first_order_at < cutoff]
    _check(train, histories, window, part="training customers (the earlier three quarters)")
    step("fitting")
    pipeline = new_pipeline()
    pipeline.fit([snap.features for snap in train], [snap.label for snap in train])
    rates, base = _baseline(train)
    model = RepeatPurchaseModel(pipeline, rates, base, cutoff, window)
    step("measuring")
    return model, evaluate_repeat_purchase(model, histories)


def _check(
    snaps: list[Snapshot], histories: Mapping[str, list[Any]], window: int, part: str = "customers"
) -> None:
    repeaters = {snap.customer_id for snap in snaps if snap.label}
    others = {snap.customer_id for snap in snaps} - repeaters
    if len(repeaters) < MIN_CUSTOMERS or len(others) < MIN_CUSTOMERS:
        buyers = sum(1 for history in histories.values() if orders_of(history))
        twice = sum(1 for history in histories.values() if len(orders_of(history)) > 1)
        raise NotEnoughHistory(
            f"repeat purchase needs at least {MIN_CUSTOMERS} {part} who ordered again within {window} "
            f"days and {MIN_CUSTOMERS} who did not; this history has {len(repeaters)} and {len(others)} "
            f"(of {buyers} customers with an order, {twice} ordered more than once, and only customers "
            f"whose {window} days have passed count). Train on a longer history, or a shorter --window"
        )


def new_pipeline() -> Any:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline(
        [
            ("vectorise", DictVectorizer(sparse=False)),
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression(C=1.0, max_iter=2000)),
        ]
    )


def _baseline(train: list[Snapshot]) -> tuple[dict[str, float], float]:
    groups: dict[str, list[int]] = defaultdict(list)
    for snap in train:
        groups[review_key(snap.features)].append(snap.label)
    base = sum(snap.label for snap in train) / len(train)
    return {key: round(sum(labels) / len(labels), 4) for key, labels in groups.items()}, round(base, 4)


def evaluate_repeat_purchase(model: RepeatPurchaseModel, histories: Mapping[str, list[Any]]) -> Evaluation:
    """The model and the baseline on the customers held out at training (first order from the cutoff on)."""
    snaps = [
        snap
        for snap in snapshots(histories, end=history_end(histories), window=model.window)
        if snap.first_order_at >= model.cutoff
    ]
    if not snaps:
        raise NotEnoughHistory(
            f"no held-out customers: none has a first order after {model.cutoff:%Y-%m-%d} whose "
            f"{model.window} days have passed in this history; evaluate on the history the model was "
            "trained on, or a later one"
        )
    rows, truth = [snap.features for snap in snaps], [snap.label for snap in snaps]
    predicted, baseline = model.predict(rows), model.baseline(rows)
    return Evaluation(
        customers=len({snap.customer_id for snap in snaps}),
        snapshots=len(snaps),
        positives=sum(truth),
        auc=auc(truth, predicted),
        baseline_auc=auc(truth, baseline),
        brier=brier(truth, predicted),
        baseline_brier=brier(truth, baseline),
        table=calibration_table(truth, predicted),
        baseline_table=calibration_table(truth, baseline),
    )


class RepeatPurchaseScorer:
    """The engine's scorer for `score.repeat_purchase`, over a trained model."""

    names = frozenset({"repeat_purchase"})
    events = FEATURE_EVENTS

    def __init__(self, model: RepeatPurchaseModel) -> None:
        self.model = model

    def score(self, customer: Any, history: list[Any], now: datetime) -> dict[str, float | None]:
        orders = orders_of(history)
        if len(orders) > 1:
            return {"repeat_purchase": 1.0}  # they have purchased again
        row = features(history, as_of=now, country=customer.country)
        return {"repeat_purchase": None if row is None else self.model.predict([row])[0]}

"""Training and evaluating the store's models: read the history, learn, measure on the held-out part, keep
the model with its card. Keyword-only services that the CLI's `model` commands call; `progress` hears of
each event read and each step, so long runs can show a bar."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from onboardflow.core.model import Event
from onboardflow.intelligence.history import (
    REVIEW_SUBMITTED,
    Review,
    Source,
    by_customer,
    olist_reviews,
    read_history,
    reviews_in,
)
from onboardflow.intelligence.models import ModelFolder, card_for
from onboardflow.ports import Store

ORDER_COMPLETED = "Order Completed"


class Progress(Protocol):
    def read(self, count: int) -> None: ...
    def step(self, description: str) -> None: ...


class Quiet:
    def read(self, count: int) -> None:
        return None

    def step(self, description: str) -> None:
        return None


QUIET = Quiet()


@dataclass
class Outcome:
    """A trained or evaluated model's figures; `evaluation` holds the details (a calibration table)."""

    name: str
    metrics: dict[str, Any]
    rows: int
    path: Path | None = None
    evaluation: Any = None
    plot: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _counted(items: Iterable[Any], progress: Progress, every: int = 500) -> Iterator[Any]:
    count = 0
    for item in items:
        count += 1
        if count % every == 0:
            progress.read(every)
        yield item
    progress.read(count % every)


def _reviews(source: Source, store: Store | None, progress: Progress) -> list[Review]:
    if source.olist is not None:  # every review of the file, its order in the sample or not
        return list(_counted(olist_reviews(source.olist), progress))
    return list(reviews_in(_counted(read_history(source, store, names=[REVIEW_SUBMITTED]), progress)))


def _histories(source: Source, store: Store | None, progress: Progress, names=None) -> dict[str, list[Event]]:
    return by_customer(_counted(read_history(source, store, names=names), progress))


def train_model(
    *,
    name: str,
    source: Source,
    store: Store | None,
    folder: ModelFolder,
    now: datetime,
    progress: Progress = QUIET,
    window: int | None = None,
) -> Outcome:
    trainer = TRAINERS[name]
    model, outcome = trainer(source, store, progress, window)
    outcome.details["source"] = source.describe("(the store)")
    outcome.path = folder.save(
        name,
        model,
        card_for(name, rows=outcome.rows, metrics=outcome.metrics, details=outcome.details, now=now),
    )
    return outcome


def _train_sentiment(source, store, progress, window):
    from onboardflow.intelligence.sentiment import train_sentiment

    reviews = _reviews(source, store, progress)
    model, metrics = train_sentiment(reviews, step=progress.step)
    return model, Outcome(
        "sentiment",
        metrics,
        rows=metrics["train_reviews"],
        details={
            "labels": "4-5 stars positive, 1-2 negative, 3 left out",
            "held_out": "one review in five, by a hash of its id",
        },
    )


def _train_repeat_purchase(source, store, progress, window):
    from onboardflow.intelligence.features import FEATURE_EVENTS, WINDOW
    from onboardflow.intelligence.propensity import train_repeat_purchase

    histories = _histories(source, store, progress, names=FEATURE_EVENTS)
    model, evaluation = train_repeat_purchase(histories, window=window or WINDOW, step=progress.step)
    details = {
        "window_days": model.window,
        "snapshot_days": list(model.offsets),
        "held_out": f"customers whose first order is on or after {model.cutoff.isoformat()}",
        "baseline": "the repeat rate of training customers with the same review score",
    }
    return model, Outcome(
        "repeat-purchase", evaluation.metrics(), rows=len(histories), evaluation=evaluation, details=details
    )


def _train_recommendations(source, store, progress, window):
    from onboardflow.intelligence.recommendations import (
        evaluate_recommendations,
        orders_in,
        split,
        train_recommendations,
    )

    orders = orders_in(_histories(source, store, progress, names=[ORDER_COMPLETED]))
    earlier, _ = split(orders)
    progress.step("counting co-purchases")
    model = train_recommendations(earlier)
    progress.step("measuring")
    rates = evaluate_recommendations(model, orders)
    details = {
        "held_out": f"orders after {model.trained_until.isoformat() if model.trained_until else '-'}",
        "baseline": "the best-sellers the customer does not have",
    }
    return model, Outcome(
        "recommendations", rates.metrics(), rows=len(earlier), evaluation=rates, details=details
    )


TRAINERS = {
    "sentiment": _train_sentiment,
    "repeat-purchase": _train_repeat_purchase,
    "recommendations": _train_recommendations,
}


def evaluate_model(
    *,
    name: str,
    source: Source,
    store: Store | None,
    folder: ModelFolder,
    progress: Progress = QUIET,
    plot: Path | None = None,
) -> Outcome:
    """The saved model on the held-out part of this history (the part its training left out)."""
    model = folder.load(name)
    if name == "sentiment":
        from onboardflow.intelligence.sentiment import evaluate_sentiment

        metrics = evaluate_sentiment(model, _reviews(source, store, progress))
        return Outcome(name, metrics, rows=metrics["held_out_reviews"])
    if name == "repeat-purchase":
        return _evaluate_repeat_purchase(
            model, source, store, progress, plot or folder.path / "repeat-purchase.png"
        )
    from onboardflow.intelligence.recommendations import evaluate_recommendations, orders_in

    rates = evaluate_recommendations(
        model, orders_in(_histories(source, store, progress, names=[ORDER_COMPLETED]))
    )
    return Outcome(name, rates.metrics(), rows=rates.held_out_orders, evaluation=rates)


def _evaluate_repeat_purchase(model, source, store, progress, plot: Path) -> Outcome:
    from onboardflow.intelligence.calibration import save_calibration_plot
    from onboardflow.intelligence.features import FEATURE_EVENTS
    from onboardflow.intelligence.propensity import evaluate_repeat_purchase

    evaluation = evaluate_repeat_purchase(model, _histories(source, store, progress, names=FEATURE_EVENTS))
    progress.step("plotting")
    title = (f"Repeat purchase within {model.window} days: AUC {evaluation.auc} "
             f"vs baseline {evaluation.baseline_auc}")
    save_calibration_plot(
        plot,
        {"model": evaluation.table, "baseline (rate by review score)": evaluation.baseline_table},
        title=title,
    )
    return Outcome(
        "repeat-purchase", evaluation.metrics(), rows=evaluation.snapshots, evaluation=evaluation, plot=plot
    )

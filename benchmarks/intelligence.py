"""The models' held-out figures against their baselines, as docs/intelligence.md reports them.

    .venv/bin/python benchmarks/intelligence.py [--olist ../shared/data/olist-sample] [--customers 3000]

- sentiment: learnt from the Olist sample's Portuguese reviews (labelled by stars), accuracy on the one in
  five held out, against the majority class and against VADER;
- repeat purchase: AUC and Brier score on the later quarter of the sample shop's customers, against the
  repeat rate by review score; and on the Olist sample, which has no repeat customer (said, not measured);
- recommendations: hit rate in the top 4 on the sample shop's held-out orders, against the best-sellers.

Steps show on a progress bar; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from onboardflow.core.model import Event
from onboardflow.integrations.olist import olist_events
from onboardflow.intelligence.history import by_customer, olist_reviews
from onboardflow.intelligence.propensity import NotEnoughHistory, train_repeat_purchase
from onboardflow.intelligence.recommendations import (
    evaluate_recommendations,
    orders_in,
    split,
    train_recommendations,
)
from onboardflow.intelligence.sample_shop import sample_history
from onboardflow.intelligence.sentiment import train_sentiment

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from shared_data import SHARED_DATA  # noqa: E402  (where the tests find the shared data)


def sentiment(olist: Path) -> dict:
    started = time.perf_counter()
    _, metrics = train_sentiment(olist_reviews(olist))
    return {**metrics, "seconds": round(time.perf_counter() - started, 1)}


def repeat_purchase(histories: dict) -> dict:
    started = time.perf_counter()
    try:
        _, evaluation = train_repeat_purchase(histories)
    except NotEnoughHistory as error:
        return {"measured": False, "why": str(error)}
    return {**evaluation.metrics(), "seconds": round(time.perf_counter() - started, 1)}


def recommendations(histories: dict) -> dict:
    orders = orders_in(histories)
    earlier, _ = split(orders)
    return evaluate_recommendations(train_recommendations(earlier), orders).metrics()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--olist", type=Path, default=SHARED_DATA / "olist-sample")
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    console = Console(stderr=True)
    figures: dict = {}
    with Progress(console=console) as progress:
        task = progress.add_task("sentiment on Olist reviews", total=5)
        figures["sentiment_olist"] = sentiment(args.olist)
        progress.update(task, advance=1, description="reading the Olist sample")
        olist = by_customer(e for e in olist_events(args.olist) if isinstance(e, Event))
        progress.update(task, advance=1, description="repeat purchase and recommendations on Olist")
        figures["repeat_purchase_olist"] = repeat_purchase(olist)
        figures["recommendations_olist"] = recommendations(olist)
        progress.update(task, advance=1, description="the sample shop's history")
        shop = by_customer(sample_history(customers=args.customers, seed=args.seed))
        progress.update(task, advance=1, description="repeat purchase and recommendations on the sample shop")
        figures["repeat_purchase_sample_shop"] = repeat_purchase(shop)
        figures["recommendations_sample_shop"] = recommendations(shop)
        progress.update(task, advance=1)
    s, r, c = (
        figures["sentiment_olist"],
        figures["repeat_purchase_sample_shop"],
        figures["recommendations_sample_shop"],
    )
    console.print(
        f"sentiment (Olist, Portuguese): accuracy {s['accuracy']} vs majority "
        f"{s['majority_baseline_accuracy']} and VADER {s['vader_accuracy']} "
        f"on {s['held_out_reviews']} reviews"
    )
    console.print(f"repeat purchase (sample shop): AUC {r['auc']} vs baseline {r['baseline_auc']}")
    console.print(
        f"recommendations (sample shop): hit rate {c['hit_rate']} vs best-sellers "
        f"{c['popularity_hit_rate']} on {c['held_out_orders']} orders"
    )
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()

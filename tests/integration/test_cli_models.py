"""`onboardflow model ...` on the shipped Olist sample and the sample shop: train, evaluate against the
baselines, the calibration plot, models read back from disk with no network, and `score.*` in journeys."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)
from typer.testing import CliRunner

from onboardflow.cli import app
from onboardflow.core.model import Customer
from onboardflow.intelligence.loading import LazyScorer, LazySentiment
from onboardflow.intelligence.models import ModelFolder
from onboardflow.store.sql import open_store
from shared_data import SHARED_DATA

OLIST = SHARED_DATA / "olist-sample"
SCORED_JOURNEY = """\
id: second-order-nudge
name: Second order nudge
owner: growth@shop.example
trigger: {event: Order Completed}
reentry: always
steps:
  - id: route
    branch:
      - when: score.repeat_purchase >= 1.0
        goto: loyal
      - when: score.repeat_purchase < 1.0
        goto: nudge
    default: unscored
  - {id: nudge, exit: completed}
  - {id: loyal, exit: completed}
  - {id: unscored, exit: completed}
"""


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


def figures(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """The three models trained once for the module: sentiment on Olist, the rest on the sample shop."""
    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("ONBOARDFLOW_DATABASE_URL", f"sqlite:///{folder}/onboardflow.db")
        invoke("model", "sample-history", "--customers", "1500", "--seed", "5", "--out", "shop.jsonl")
        found = {
            "folder": folder,
            "sentiment": figures(invoke("model", "train", "sentiment", "--olist", OLIST, "--json")),
            "repeat-purchase": figures(
                invoke("model", "train", "repeat-purchase", "--events", "shop.jsonl", "--json")
            ),
            "recommendations": figures(
                invoke("model", "train", "recommendations", "--events", "shop.jsonl", "--json")
            ),
            "evaluation": invoke("model", "evaluate", "repeat-purchase", "--events", "shop.jsonl").stdout,
            "list": invoke("model", "list").stdout,
        }
    return found


def test_the_portuguese_sentiment_model_beats_the_majority_on_held_out_olist_reviews(trained):
    found = trained["sentiment"]

    assert found["held_out_reviews"] > 300
    assert found["accuracy"] > found["majority_baseline_accuracy"] + 0.1


def test_repeat_purchase_beats_its_baseline_and_evaluation_shows_auc_table_and_plot(trained):
    found = trained["repeat-purchase"]
    evaluation = trained["evaluation"]

    assert found["auc"] > found["baseline_auc"] + 0.05
    assert f"│ auc                  │ {found['auc']:>6} │" in evaluation
    assert "calibration on the held-out customers" in evaluation
    plot = trained["folder"] / "var" / "models" / "repeat-purchase.png"
    assert f"calibration plot: {Path('var/models/repeat-purchase.png')}" in evaluation.replace("./", "")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.stat().st_size > 10_000


def test_recommendations_beat_the_best_sellers_on_held_out_orders(trained):
    found = trained["recommendations"]

    assert found["held_out_orders"] > 30
    assert found["hit_rate"] > found["popularity_hit_rate"]


def test_the_list_shows_each_model_with_its_card(trained):
    listed = trained["list"]

    for name in ("sentiment", "repeat-purchase", "recommendations"):
        assert name in listed
    card = json.loads((trained["folder"] / "var" / "models" / "sentiment.json").read_text())
    assert card["rows"] > 1000
    assert card["metrics"]["accuracy"] == trained["sentiment"]["accuracy"]
    assert card["details"]["source"] == f"Olist folder {OLIST}"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_models_load_from_disk_and_score_with_no_network(trained, no_network):
    folder = ModelFolder(trained["folder"] / "var" / "models")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    first = [{"product_id": "p_brew_1", "category": "coffee", "price": 14.0, "quantity": 1}]
    from onboardflow.core.model import Event

    history = [
        Event(
            "o1",
            "Order Completed",
            "c1",
            now - timedelta(days=9),
            {"order_id": "o1", "total": 14.0, "products": first},
        )
    ]

    trained_text = LazySentiment(folder, "trained").score("Produto chegou quebrado, péssimo")
    english = LazySentiment(folder, "vader").score("Broken on arrival. Awful.")
    score = LazyScorer(folder).score(Customer("c1", country="US"), history, now)["repeat_purchase"]
    recommended = folder.load("recommendations").recommend(["p_brew_1"], top=3)

    assert trained_text < 0 and english < 0
    assert 0 < score < 1
    assert len(recommended) == 3 and "p_brew_1" not in [item.product_id for item in recommended]


def test_a_history_without_repeat_customers_is_refused_with_what_it_has(cli: Cli):  # noqa: F811
    refused = cli("model", "train", "repeat-purchase", "--olist", OLIST, code=1)

    assert "0 ordered more than once" in refused.output
    empty = cli("model", "train", "repeat-purchase", code=1)  # the store: nothing imported yet
    assert "the history is empty" in empty.output
    missing = cli("model", "evaluate", "sentiment", "--olist", OLIST, code=1)
    assert (
        "no sentiment model in var/models: train one with `onboardflow model train sentiment`"
        in missing.output
    )


def test_a_journey_reading_a_score_needs_its_model_and_then_routes_by_it(cli: Cli, trained):  # noqa: F811
    (cli.folder / "nudge.yaml").write_text(SCORED_JOURNEY, encoding="utf-8")
    refused = cli("validate", "nudge.yaml", code=1)
    assert "reads score.repeat_purchase, but no repeat-purchase model is trained" in refused.output

    (cli.folder / "var").mkdir()
    (cli.folder / "var" / "models").symlink_to(trained["folder"] / "var" / "models")
    cli("validate", "nudge.yaml")
    cli.live("nudge.yaml")
    at = datetime.now(UTC) - timedelta(days=1)
    lines = [
        {
            "id": f"e{n}",
            "name": "Order Completed",
            "customer_id": customer,
            "at": (at + timedelta(hours=n)).isoformat(),
            "properties": {"order_id": f"o{n}", "total": 30.0},
            "customer": {"country": "US"},
        }
        for n, customer in enumerate(["c1", "c2", "c2"])
    ]
    (cli.folder / "orders.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8"
    )
    cli("ingest", "orders.jsonl")

    store = open_store(cli.url)
    try:
        paths = {
            e.customer_id + ":" + e.trigger["order_id"]: [v.step_id for v in e.history]
            for customer in ("c1", "c2")
            for e in store.enrollments_of(customer)
        }
    finally:
        store.close()
    assert paths == {"c1:o0": ["route", "nudge"], "c2:o1": ["route", "nudge"], "c2:o2": ["route", "loyal"]}


def test_training_from_the_store_reads_its_history(cli: Cli):  # noqa: F811
    cli("model", "sample-history", "--customers", "600", "--seed", "3", "--out", "shop.jsonl")
    cli("ingest", "shop.jsonl")

    trained_here = json.loads(
        cli("model", "train", "recommendations", "--json").stdout.strip().splitlines()[-1]
    )

    assert trained_here["held_out_orders"] > 5
    card = json.loads((cli.folder / "var" / "models" / "recommendations.json").read_text())
    assert card["details"]["source"] == "store (the store)"

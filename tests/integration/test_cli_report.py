"""`onboardflow kpis` and `onboardflow report weekly` from the command line: on journeys run by the engine,
and on the Olist sample, whose order counts, delivery delays and review scores the report must show as an
independent computation from the CSV files gives them."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from tests.integration.test_cli import (
    Cli,
    cli,  # noqa: F401  (the fixture)
    first_orders,
    write_events,
)
from tests.shared_data import SHARED_DATA

OLIST = SHARED_DATA / "olist-sample"
AS_OF = "2018-11-01T00:00:00+00:00"


def rows(name: str) -> list[dict[str, str]]:
    with (OLIST / name).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def band(days: int) -> str:
    if days < 0:
        return "early"
    if days == 0:
        return "on time"
    return "1-3 days late" if days <= 3 else "4-7 days late" if days <= 7 else "8+ days late"


def expected_from_the_csv_files() -> tuple[int, Counter, Counter]:
    """Straight from the CSVs: orders; delivered date − estimated date (São Paulo dates, as written);
    review scores of the reviews whose order is in the sample."""
    orders = rows("olist_orders_dataset.csv")
    delays = Counter()
    for order in orders:
        delivered, estimated = order["order_delivered_customer_date"], order["order_estimated_delivery_date"]
        if delivered and estimated:
            days = (datetime.fromisoformat(delivered).date() - datetime.fromisoformat(estimated).date()).days
            delays[band(days)] += 1
    known = {order["order_id"] for order in orders}
    scores = Counter(
        int(r["review_score"]) for r in rows("olist_order_reviews_dataset.csv") if r["order_id"] in known
    )
    return len(orders), delays, scores


def table_rows(markdown: str, title: str) -> dict[str, str]:
    section = markdown.split(f"### {title}\n\n", 1)[1].split("\n\n", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 2 and cells[1] not in ("count", "---"):
            found[cells[0]] = cells[1]
    return found


def test_the_weekly_report_on_olist_agrees_with_the_csv_files(cli: Cli, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    monkeypatch.setenv("ONBOARDFLOW_STORE_TIMEZONE", "America/Sao_Paulo")
    cli("init")
    cli("import", str(OLIST), "--olist", code=1)  # reviews of orders outside the sample are rejected
    result = cli("report", "weekly", "--as-of", AS_OF, "--out", "reports")
    assert "wrote" in result.output
    markdown = (cli.folder / "reports" / "weekly-2018-11-01.md").read_text(encoding="utf-8")
    html = (cli.folder / "reports" / "weekly-2018-11-01.html").read_text(encoding="utf-8")
    orders, delays, scores = expected_from_the_csv_files()

    assert table_rows(markdown, "Orders")["orders to date"] == str(orders)
    shown = table_rows(markdown, "Deliveries against the estimate")
    assert {name: int(count) for name, count in shown.items() if int(count)} == dict(delays)
    shown = table_rows(markdown, "Review scores")
    assert {int(name.split()[0]): int(count) for name, count in shown.items()} == {
        s: scores[s] for s in range(1, 6)
    }
    for chart in ("orders", "deliveries", "reviews"):
        assert (cli.folder / "reports" / f"weekly-2018-11-01-{chart}.png").read_bytes()[:4] == b"\x89PNG"
        assert f"weekly-2018-11-01-{chart}.png" in markdown
    assert html.count("data:image/png;base64,") == 3 and "<script" not in html


def test_kpis_of_journeys_run_by_the_engine(cli: Cli):  # noqa: F811
    cli("init")
    cli.live("journeys")
    cli("ingest", str(write_events(cli.folder / "orders.jsonl", first_orders(6))))
    cli("run", "--until-idle", "--quiet")
    table = cli("kpis").output
    assert "first-purchase-welcome" in table and "too small to tell" in table
    document = json.loads(cli("kpis", "--journey", "first-purchase-welcome", "--json").output)
    kpis = document["groups"][0]["kpis"]
    assert kpis["entered"] == 6 and kpis["entered"] - kpis["holdout"] == kpis["goal_conversion"]["of"]
    assert kpis["uplift"]["verdict"] == "too small to tell"
    assert sum(row["delivered"] for row in kpis["funnel"]) >= 1
    cut = json.loads(cli("kpis", "--journey", "first-purchase-welcome", "--by", "country", "--json").output)
    assert [group["key"] for group in cut["groups"]] == ["US"]


def test_kpis_say_what_to_fix(cli: Cli):  # noqa: F811
    cli("init")
    assert "no journey 'nope' is published" in cli("kpis", "--journey", "nope", code=1).output
    cli.live("journeys")
    assert "cannot cut by 'colour'" in cli("kpis", "--by", "colour", code=1).output
    assert re.search(r"is not an ISO time", cli("kpis", "--as-of", "last week", code=2).output)


def test_the_weekly_report_per_journey_has_its_trend_chart(cli: Cli):  # noqa: F811
    cli("init")
    cli.live("journeys")
    cli("ingest", str(write_events(cli.folder / "orders.jsonl", first_orders(3))))
    cli("run", "--until-idle", "--quiet")
    cli("report", "weekly", "--journey", "first-purchase-welcome", "--as-of", "2026-03-20", "--out", "r")
    markdown = next(Path(cli.folder / "r").glob("*.md")).read_text(encoding="utf-8")
    assert "## First purchase welcome (first-purchase-welcome, owner" in markdown
    assert "Active blockers" in markdown and "customers reached" in markdown
    assert (cli.folder / "r" / "weekly-2026-03-20-trends-first-purchase-welcome.png").exists()

"""`onboardflow import`: history from the Olist dataset and from any CSV with a column mapping."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from shared_data import SHARED_DATA
from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)

from onboardflow.integrations.mapping import Mapping, RowError, map_rows, read_rows
from onboardflow.integrations.olist import olist_events
from onboardflow.store.sql import open_store

DATA = SHARED_DATA
OLIST = DATA / "olist-sample"
UCI = DATA / "uci-online-retail"


def olist_rows(name: str) -> list[dict[str, str]]:
    with (OLIST / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_olist_orders_become_their_milestone_events_as_counted_from_the_csv():
    orders = olist_rows("olist_orders_dataset.csv")
    events = [item for item in olist_events(OLIST) if not isinstance(item, RowError)]
    names = [event.name for event in events]

    assert names.count("Order Completed") == len(orders)
    assert names.count("Payment Confirmed") == sum(1 for o in orders if o["order_approved_at"])
    assert names.count("Order Shipped") == sum(1 for o in orders if o["order_delivered_carrier_date"])
    assert names.count("Order Delivered") == sum(1 for o in orders if o["order_delivered_customer_date"])
    late = sum(1 for o in orders if o["order_delivered_customer_date"]
               and o["order_delivered_customer_date"][:10] > o["order_estimated_delivery_date"][:10])
    assert sum(1 for e in events if e.name == "Order Delivered" and e.properties["late"]) == late > 0


def test_olist_times_are_sao_paulo_local_and_reviews_join_their_order():
    orders = {o["order_id"]: o for o in olist_rows("olist_orders_dataset.csv")}
    reviews = [r for r in olist_rows("olist_order_reviews_dataset.csv") if r["order_id"] in orders]
    events = [item for item in olist_events(OLIST) if not isinstance(item, RowError)]
    first = orders[next(iter(orders))]
    purchase = next(e for e in events if e.id == f"olist:{first['order_id']}:purchase")
    local = datetime.strptime(first["order_purchase_timestamp"], "%Y-%m-%d %H:%M:%S")
    assert purchase.at == local.replace(tzinfo=ZoneInfo("America/Sao_Paulo")).astimezone(UTC)

    submitted = [e for e in events if e.name == "Review Submitted"]
    assert len(submitted) == len(reviews) == 251
    by_order = {e.properties["order_id"]: e for e in events if e.name == "Order Completed"}
    assert all(e.customer_id == by_order[e.properties["order_id"]].customer_id for e in submitted)
    assert {e.properties["score"] for e in submitted} <= {1, 2, 3, 4, 5}


def test_olist_items_carry_their_category_and_make_the_total():
    events = [item for item in olist_events(OLIST) if not isinstance(item, RowError)]
    with_items = [e for e in events if e.name == "Order Completed" and e.properties["products"]]
    assert len(with_items) == 175  # the sample's orders that have items (see shared/data/README.md)
    order = with_items[0]
    assert order.properties["total"] == round(sum(p["price"] * p["quantity"] for p in order.properties["products"]), 2)
    assert any(p["category"] for e in with_items for p in e.properties["products"])


def test_import_of_olist_into_the_store_backfills_profiles_without_starting_journeys(cli: Cli):
    cli("init")
    cli.live("journeys")  # the example journeys are triggered by Order Completed
    result = cli("import", str(OLIST), "--olist", code=1)  # reviews of orders not in the sample are rejected
    assert "review of order …, not in the orders file" in result.output

    store = open_store(cli.url)
    try:
        counts = store.counts()
        customer = store.customer(next(iter(olist_rows("olist_customers_dataset.csv")))["customer_unique_id"])
    finally:
        store.close()
    assert counts["events"] == 4071 + 4063 + 4011 + 3965 + 251  # the sample's counts, as the first test checks
    assert counts["enrollments"] == 0 and counts["messages"] == 0
    assert customer is None or customer.country == "BR"

    again = cli("import", str(OLIST), "--olist", code=1)
    assert "0 event(s) stored" in again.output  # ids are the dataset's own: nothing twice


ANY_ORDER = """\
id: thanks
name: Thanks
owner: cs@shop.example
trigger: {event: Order Completed}
steps:
  - {id: hello, send: {channel: email, template: thanks}}
"""


@pytest.mark.parametrize(("flag", "enrollments"), [([], 0), (["--journeys"], 2)])
def test_imported_history_moves_journeys_only_when_asked(cli: Cli, tmp_path: Path, flag, enrollments):
    (tmp_path / "thanks.yaml").write_text(ANY_ORDER)
    cli.live("thanks.yaml")
    path = tmp_path / "orders.csv"
    path.write_text("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                    "1,A,2,12/1/10 8:26,2.5,17850,United Kingdom\n1,B,1,12/1/10 8:26,4.0,17851,France\n")
    mapping = tmp_path / "uci.yaml"
    mapping.write_text(UCI_MAPPING)
    cli("import", str(path), "--mapping", str(mapping), *flag)

    counts = cli.counts()
    assert (counts["events"], counts["customers"], counts["enrollments"]) == (2, 2, enrollments)


UCI_MAPPING = """\
event: Order Completed
id: "{InvoiceNo}-{StockCode}"
customer_id: CustomerID
at: InvoiceDate
at_format: "%m/%d/%y %H:%M"
timezone: Europe/London
properties:
  order_id: InvoiceNo
  product_id: StockCode
  quantity: {column: Quantity, type: int}
  price: {column: UnitPrice, type: float}
customer:
  country: Country
"""


def uci_file() -> Path:
    return next(UCI.glob("*.csv"))


def test_a_column_mapping_reads_another_shops_invoices():
    mapping = Mapping.model_validate(__import__("yaml").safe_load(UCI_MAPPING))
    items = list(map_rows(read_rows(uci_file()), mapping))
    events = [item for item in items if not isinstance(item, RowError)]
    rejected = [item for item in items if isinstance(item, RowError)]

    with uci_file().open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(events) == sum(1 for row in rows if row["CustomerID"].strip())
    assert all("column 'CustomerID' is empty" in error.message for error in rejected)
    first = events[0]
    assert first.id == f"{rows[0]['InvoiceNo']}-{rows[0]['StockCode']}"
    assert first.at == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)  # London in winter is UTC
    assert (first.properties["quantity"], first.properties["price"]) == (int(rows[0]["Quantity"]),
                                                                        float(rows[0]["UnitPrice"]))
    assert first.customer == {"country": "United Kingdom"}


def test_bad_rows_are_rejected_with_their_line_and_reason_and_the_rest_taken(tmp_path: Path):
    path = tmp_path / "orders.csv"
    path.write_text('InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n'
                    '1,A,2,12/1/10 8:26,2.5,17850,United Kingdom\n'
                    '2,B,two,12/1/10 8:27,2.5,17850,United Kingdom\n'
                    '3,C,1,2010-12-01,2.5,17850,United Kingdom\n'
                    '4,"D\nE",1,12/1/10 8:29,2.5,,United Kingdom\n'
                    '5,F,1,12/1/10 8:30,2.5,17851,France\n')
    mapping = Mapping.model_validate(__import__("yaml").safe_load(UCI_MAPPING))
    items = list(map_rows(read_rows(path), mapping))

    assert [item.id for item in items if not isinstance(item, RowError)] == ["1-A", "5-F"]
    assert [str(item) for item in items if isinstance(item, RowError)] == [
        "line 3: column 'Quantity' has 'two', which is not a int",
        "line 4: column 'InvoiceDate' has '2010-12-01', which is not a time in the format '%m/%d/%y %H:%M'",
        "line 5: column 'CustomerID' is empty",
    ]


def test_a_bad_mapping_says_what_to_fix(cli: Cli, tmp_path: Path):
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("event: Order Completed\nat: InvoiceDate\ntimezone: Mars/Base\n")
    result = cli("import", str(uci_file()), "--mapping", str(mapping), code=2)
    assert "customer_id: Field required" in result.output
    assert "unknown time zone 'Mars/Base'" in result.output


@pytest.mark.parametrize("args", [[], ["--olist", "--mapping", "m.yaml"]])
def test_import_needs_exactly_one_way_to_read_the_source(cli: Cli, args):
    result = cli("import", str(OLIST), *args, code=2)
    assert "--mapping FILE, or --olist" in result.output

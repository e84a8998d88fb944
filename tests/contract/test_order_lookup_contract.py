"""`customer_of_order` on every store: fulfillment and refund webhooks name only the order, so its customer
is found through the `Order Completed` event, processed or still queued."""

from __future__ import annotations

from datetime import UTC, datetime

from onboardflow.core.model import Event
from onboardflow.ports import Changes

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
BIG = "820982911946154508"  # past 2**53: a float would change it


def order(event_id: str, customer_id: str, order_id: str, name: str = "Order Completed") -> Event:
    return Event(event_id, name, customer_id, T0, {"order_id": order_id, "source": "shopify"})


def process(store, *events: Event) -> None:
    with store.transaction() as tx:
        tx.apply(Changes(events=[(e, n) for n, e in enumerate(events, start=1)]))


def test_an_unknown_order_has_no_customer(store):
    store.enqueue([order("o1", "c1", "1")], now=T0)

    assert store.customer_of_order("2") is None


def test_a_queued_order_names_its_customer_before_any_worker_ran(store):
    store.enqueue([order("o1", "shopify:1", BIG), order("o2", "shopify:2", "7")], now=T0)

    assert store.customer_of_order(BIG) == "shopify:1"
    assert store.customer_of_order("7") == "shopify:2"
    assert store.customer_of_order(BIG[:-1] + "9") is None  # exact, not a numeric neighbour


def test_a_processed_order_names_its_customer(store):
    process(store, order("o1", "shopify:1", BIG))

    assert store.counts()["queued"] == 0
    assert store.customer_of_order(BIG) == "shopify:1"


def test_only_order_completed_events_count(store):
    store.enqueue([order("p1", "shopify:9", "5", name="Payment Confirmed")], now=T0)
    process(store, order("r1", "shopify:8", "5", name="Refund Requested"))

    assert store.customer_of_order("5") is None

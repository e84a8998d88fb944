"""Shopify's own webhook bodies (shared/data/shopify-webhooks) as canonical events, topic by topic."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from onboardflow.integrations.shopify import PayloadError, shopify_events, verify_signature
from shared_data import SHARED_DATA

FIXTURES = SHARED_DATA / "shopify-webhooks"


def body(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_a_signature_made_with_the_secret_verifies_and_any_change_fails():
    raw = (FIXTURES / "orders_create.json").read_bytes()
    signature = base64.b64encode(hmac.new(b"s3cret", raw, hashlib.sha256).digest()).decode()

    assert verify_signature(raw, signature, "s3cret")
    assert not verify_signature(raw + b" ", signature, "s3cret")
    assert not verify_signature(raw, signature, "other")
    assert not verify_signature(raw, None, "s3cret")


def test_an_order_created_is_an_order_completed_with_exact_ids_items_and_profile():
    order = body("orders_create")
    [event] = shopify_events("orders/create", order)

    assert event.name == "Order Completed"
    assert event.properties["order_id"] == str(order["id"])  # exact: a string, never a float
    assert event.customer_id == f"shopify:{order['customer']['id']}"
    assert event.at == datetime.fromisoformat(order["created_at"]).astimezone(UTC)
    assert event.properties["total"] == float(order["total_price"])
    first = event.properties["products"][0]
    assert (first["product_id"], first["sku"], first["price"]) == (str(order["line_items"][0]["product_id"]),
                                                                  "IPOD2008PINK", 199.0)
    assert event.customer["email"] == order["customer"]["email"]
    assert event.customer["consent"]["email"]["status"] == "granted"  # buyer_accepts_marketing: true


def test_ids_past_2_to_the_53_stay_exact():
    order = body("orders_create")
    order["id"] = 2**53 + 1
    [event] = shopify_events("orders/create", order)
    assert event.properties["order_id"] == "9007199254740993"


def test_a_float_id_is_refused_rather_than_rounded():
    order = body("orders_create")
    order["id"] = 8.2e17
    with pytest.raises(PayloadError, match="'id' must be an integer or string id"):
        shopify_events("orders/create", order)


@pytest.mark.parametrize(("status", "name"), [
    ("in_transit", "Order Shipped"), ("out_for_delivery", "Order Shipped"), ("delivered", "Order Delivered"),
    ("failure", "Delivery Failed"), ("attempted_delivery", "Delivery Failed"),
])
def test_fulfillment_updates_map_by_shipment_status_to_the_orders_customer(status, name):
    fulfillment = copy.deepcopy(body("fulfillments_update"))
    fulfillment["shipment_status"] = status
    [event] = shopify_events("fulfillments/update", fulfillment,
                             customer_for_order=lambda order_id: "shopify:42" if order_id == str(
                                 fulfillment["order_id"]) else None)

    assert (event.name, event.customer_id, event.properties["order_id"]) == (name, "shopify:42",
                                                                            str(fulfillment["order_id"]))
    assert event.id.endswith(f":{status}")  # create and update with one status are one event


def test_a_fulfillment_status_that_is_not_news_makes_no_event():
    fulfillment = body("fulfillments_create")
    assert fulfillment["shipment_status"] is None
    assert shopify_events("fulfillments/create", fulfillment) == []


def test_a_refund_names_its_order_and_amount_and_needs_a_known_order():
    refund = body("refunds_create")
    [event] = shopify_events("refunds/create", refund, customer_for_order=lambda _: "shopify:7")
    refunded = sum(float(t["amount"]) for t in refund["transactions"] if t["kind"] == "refund")
    assert (event.name, event.customer_id, event.properties["amount"]) == ("Refund Requested", "shopify:7", refunded)
    with pytest.raises(PayloadError, match="orders/create webhook has not been received"):
        shopify_events("refunds/create", refund)


def test_a_new_customer_signs_up_with_consent_from_email_marketing_consent():
    customer = body("customers_create")
    customer["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "confirmed_opt_in",
                                           "consent_updated_at": "2021-12-31T19:00:00-05:00"}
    [event] = shopify_events("customers/create", customer)
    assert (event.name, event.customer_id) == ("Signed Up", f"shopify:{customer['id']}")
    assert event.customer["consent"]["email"]["status"] == "granted"
    assert event.customer["consent"]["email"]["opt_in_level"] == "confirmed_opt_in"
    assert event.customer["country"] == "CA" and event.customer["traits"]["first_name"] == "Bob"


def test_checkout_create_and_update_are_one_checkout_started():
    [created] = shopify_events("checkouts/create", body("checkouts_create"))
    [updated] = shopify_events("checkouts/update", body("checkouts_update"))
    assert created.name == "Checkout Started" and created.id == updated.id
    assert created.properties["recover_url"].startswith("https://checkout.local/")


def test_an_unhandled_topic_is_named():
    with pytest.raises(PayloadError, match="topic 'products/create' is not handled"):
        shopify_events("products/create", {})


@pytest.mark.parametrize(("state", "status"), [("subscribed", "granted"), ("unsubscribed", "withdrawn"),
                                               ("not_subscribed", "unknown"), ("pending", "unknown")])
def test_only_an_unsubscribe_counts_as_withdrawn(state, status):
    customer = body("customers_create")
    customer["email_marketing_consent"] = {"state": state, "opt_in_level": "single_opt_in"}
    [event] = shopify_events("customers/create", customer)
    assert event.customer["consent"]["email"]["status"] == status

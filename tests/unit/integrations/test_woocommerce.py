"""WooCommerce webhook bodies (the shapes of its REST API v3 documentation) as canonical events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from onboardflow.integrations.shopify import PayloadError
from onboardflow.integrations.woocommerce import verify_signature, woocommerce_events

# From WooCommerce's REST API documentation ("Retrieve an order" / "Create a customer"), trimmed.
ORDER = {
    "id": 727, "parent_id": 0, "status": "pending", "currency": "USD", "date_created": "2017-03-22T16:28:02",
    "date_created_gmt": "2017-03-22T19:28:02", "date_modified": "2017-03-22T16:28:08",
    "date_modified_gmt": "2017-03-22T19:28:08", "total": "29.35", "customer_id": 0,
    "billing": {"first_name": "John", "last_name": "Doe", "address_1": "969 Market", "city": "San Francisco",
                "state": "CA", "postcode": "94103", "country": "US", "email": "john.doe@example.com",
                "phone": "(555) 555-5555"},
    "line_items": [{"id": 315, "name": "Woo Single #1", "product_id": 93, "variation_id": 0, "quantity": 2,
                    "sku": "", "price": 3, "total": "6.00"},
                   {"id": 316, "name": "Ship Your Idea &ndash; Color: Black", "product_id": 22, "variation_id": 23,
                    "quantity": 1, "sku": "", "price": 12, "total": "12.00"}],
}
CUSTOMER = {"id": 25, "date_created": "2017-03-21T16:09:28", "date_created_gmt": "2017-03-21T19:09:28",
            "email": "john.doe@example.com", "first_name": "John", "last_name": "Doe", "role": "customer",
            "username": "john.doe", "billing": {"first_name": "John", "country": "US", "state": "CA",
                                                "email": "john.doe@example.com", "phone": "(555) 555-5555"}}


def test_signature_is_base64_hmac_sha256_of_the_raw_body():
    raw = json.dumps(ORDER).encode()
    good = base64.b64encode(hmac.new(b"wc-secret", raw, hashlib.sha256).digest()).decode()
    assert verify_signature(raw, good, "wc-secret")
    assert not verify_signature(raw.replace(b"29.35", b"0.01"), good, "wc-secret")
    assert not verify_signature(raw, "", "wc-secret")


def test_a_created_order_of_a_guest_is_an_order_completed_known_by_email():
    [event] = woocommerce_events("order.created", ORDER)
    assert (event.name, event.customer_id, event.id) == ("Order Completed", "email:john.doe@example.com",
                                                         "woo:order:727:created")
    assert event.at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)  # the _gmt time
    assert event.properties["total"] == 29.35 and len(event.properties["products"]) == 2
    assert event.customer["country"] == "US" and event.customer["traits"]["state"] == "CA"


@pytest.mark.parametrize(("status", "name"), [("processing", "Payment Confirmed"), ("completed", "Order Shipped"),
                                              ("refunded", "Refund Requested"), ("failed", "Payment Failed"),
                                              ("cancelled", "Order Cancelled")])
def test_an_update_to_a_status_is_that_status_event_once(status, name):
    order = {**ORDER, "status": status, "customer_id": 25}
    [event] = woocommerce_events("order.updated", order)
    [again] = woocommerce_events("order.updated", {**order, "date_modified_gmt": "2017-03-23T10:00:00"})
    assert (event.name, event.customer_id) == (name, "woo:25")
    assert event.id == again.id  # the same transition twice is one event


def test_an_update_that_moves_to_no_interesting_status_makes_no_event():
    assert woocommerce_events("order.updated", {**ORDER, "status": "on-hold"}) == []


def test_a_created_customer_signs_up():
    [event] = woocommerce_events("customer.created", CUSTOMER)
    assert (event.name, event.customer_id, event.customer["email"]) == ("Signed Up", "woo:25", "john.doe@example.com")
    assert event.customer["traits"]["role"] == "customer"


def test_a_guest_order_without_email_is_refused_with_the_reason():
    with pytest.raises(PayloadError, match="customer_id is 0 and billing has no email"):
        woocommerce_events("order.created", {**ORDER, "billing": {}})

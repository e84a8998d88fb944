"""Store webhooks through the API: Shopify's own bodies (shared/data/shopify-webhooks) and WooCommerce's,
signed here as the shops sign them, on every store; what the route queues is what workers will process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from onboardflow.ports import PARTITIONS
from shared_data import SHARED_DATA

from .conftest import make_api

FIXTURES = SHARED_DATA / "shopify-webhooks"
SHOPIFY_SECRET = "shpss_" + "s" * 32
WOO_SECRET = "wc-secret-" + "w" * 30
ORDER_ID = "820982911946154500"
CUSTOMER = "shopify:115310627314723950"
WOO_ORDER = {
    "id": 727, "status": "processing", "currency": "USD", "date_created_gmt": "2017-03-22T19:28:02",
    "date_modified_gmt": "2017-03-22T19:28:08", "total": "29.35", "customer_id": 25,
    "billing": {"first_name": "John", "country": "US", "email": "john.doe@example.com"},
    "line_items": [{"name": "Woo Single #1", "product_id": 93, "quantity": 2, "sku": "", "price": 3}],
}
WOO_CUSTOMER = {"id": 25, "date_created_gmt": "2017-03-21T19:09:28", "email": "john.doe@example.com",
                "first_name": "John", "role": "customer", "billing": {"country": "US"}}


@pytest.fixture
def shop(store):
    return make_api(store, shopify_webhook_secret=SHOPIFY_SECRET, woocommerce_webhook_secret=WOO_SECRET)


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def sign(body: bytes, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify(shop, topic: str, body: bytes, *, webhook_id: str = "wh-1", signature: str | None = None):
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id,
               "X-Shopify-Event-Id": "ev-" + webhook_id,
               "X-Shopify-Hmac-SHA256": sign(body) if signature is None else signature,
               "Content-Type": "application/json"}
    return shop.client.post("/webhooks/shopify", content=body, headers=headers)


def woo(shop, topic: str, payload: dict):
    body = json.dumps(payload).encode()
    headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": sign(body, WOO_SECRET),
               "X-WC-Webhook-Delivery-ID": "d-1", "Content-Type": "application/json"}
    return shop.client.post("/webhooks/woocommerce", content=body, headers=headers)


def queued(shop) -> list:
    with shop.store.transaction() as tx:
        return [q.event for q in tx.queued_events(range(PARTITIONS), limit=1000)]


def shipped(name: str, status: str = "in_transit") -> bytes:
    """The fixture bodies carry no shipment status, which is no news; a carrier update sets one."""
    return json.dumps({**json.loads(raw(name)), "shipment_status": status}).encode()


@pytest.mark.parametrize(("topic", "name", "event"), [
    ("orders/create", "orders_create", "Order Completed"),
    ("orders/paid", "orders_paid", "Payment Confirmed"),
    ("customers/create", "customers_create", "Signed Up"),
    ("checkouts/create", "checkouts_create", "Checkout Started"),
    ("checkouts/update", "checkouts_update", "Checkout Started"),
])
def test_each_topic_is_queued_as_its_event_with_the_delivery_kept(shop, topic, name, event):
    answer = shopify(shop, topic, raw(name), webhook_id="wh-77")

    assert answer.status_code == 200, answer.text
    assert answer.json()["queued"] == 1
    [queued_event] = queued(shop)
    assert queued_event.name == event
    assert queued_event.properties["webhook_id"] == "wh-77"
    assert queued_event.properties["shopify_event_id"] == "ev-wh-77"


def test_a_redelivery_queues_nothing_new(shop):
    first = shopify(shop, "orders/create", raw("orders_create"), webhook_id="wh-1")
    again = shopify(shop, "orders/create", raw("orders_create"), webhook_id="wh-1")

    assert (first.json()["queued"], again.json()["queued"]) == (1, 0)
    assert again.status_code == 200
    assert shop.store.counts()["queued"] == 1


@pytest.mark.parametrize("signature", ["", sign(b"another body"), sign(raw("orders_create"), "wrong-secret")])
def test_a_bad_or_missing_signature_is_401_and_nothing_is_stored(shop, signature):
    answer = shopify(shop, "orders/create", raw("orders_create"), signature=signature)

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert "ONBOARDFLOW_SHOPIFY_WEBHOOK_SECRET" in answer.json()["detail"]
    assert shop.store.counts()["queued"] == 0
    assert shop.store.consents(CUSTOMER) == []


def test_without_a_secret_set_the_route_says_which_to_set(store):
    answer = shopify(make_api(store), "orders/create", raw("orders_create"))

    assert answer.status_code == 503
    assert "ONBOARDFLOW_SHOPIFY_WEBHOOK_SECRET" in answer.json()["detail"]


def test_a_fulfillment_before_its_order_is_422_and_queues_nothing(shop):
    answer = shopify(shop, "fulfillments/create", shipped("fulfillments_create"))

    assert answer.status_code == 422
    assert f"order {ORDER_ID} is not known yet" in answer.json()["detail"]
    assert "orders/create" in answer.json()["detail"]
    assert shop.store.counts()["queued"] == 0


@pytest.mark.parametrize(("topic", "body", "event"), [
    ("fulfillments/create", lambda: shipped("fulfillments_create"), "Order Shipped"),
    ("fulfillments/update", lambda: shipped("fulfillments_update", "delivered"), "Order Delivered"),
    ("refunds/create", lambda: raw("refunds_create"), "Refund Requested"),
])
def test_after_its_order_a_fulfillment_or_refund_is_queued_for_the_same_customer(shop, topic, body, event):
    shopify(shop, "orders/create", raw("orders_create"), webhook_id="wh-order")

    answer = shopify(shop, topic, body(), webhook_id="wh-later")

    assert answer.status_code == 200, answer.text
    order, later = queued(shop)
    assert (order.name, later.name) == ("Order Completed", event)
    assert later.customer_id == order.customer_id == CUSTOMER


def test_the_order_is_found_after_a_worker_processed_it(shop):
    shopify(shop, "orders/create", raw("orders_create"))
    shop.engine.work(partitions=PARTITIONS)
    assert shop.store.counts()["queued"] == 0

    answer = shopify(shop, "refunds/create", raw("refunds_create"), webhook_id="wh-2")

    assert answer.status_code == 200, answer.text
    assert [e.customer_id for e in queued(shop)] == [CUSTOMER]


def test_a_fulfillment_that_is_no_news_queues_nothing_even_before_its_order(shop):
    answer = shopify(shop, "fulfillments/create", raw("fulfillments_create"))

    assert (answer.status_code, answer.json()["queued"], answer.json()["events"]) == (200, 0, 0)


def test_the_consent_ticked_at_checkout_goes_to_the_ledger_once(shop):
    first = shopify(shop, "orders/create", raw("orders_create"))
    answer = shopify(shop, "orders/create", raw("orders_create"))

    assert first.json()["consents"] == 1
    assert answer.json()["consents"] == 0  # the redelivery: the same line, not a second one
    shop.engine.work(partitions=PARTITIONS)  # the event carries the statement too: the same line again
    [line] = shop.store.consents(CUSTOMER)
    assert (line.channel, line.status, line.source) == ("email", "granted", "shopify")
    assert line.evidence["shopify_field"] == "buyer_accepts_marketing"


def test_an_unknown_topic_is_200_and_says_it_was_ignored(shop):
    answer = shopify(shop, "orders/fulfilled", raw("orders_fulfilled"))

    assert answer.status_code == 200
    assert answer.json()["ignored"] is True
    assert "'orders/fulfilled' is not handled" in answer.json()["detail"]
    assert shop.store.counts()["queued"] == 0


def test_a_body_that_is_not_json_is_400_and_one_without_a_customer_is_422(shop):
    not_json = shopify(shop, "orders/create", b"{not json")
    nobody = {**json.loads(raw("orders_create")), "customer": None, "email": None, "contact_email": None}
    no_customer = shopify(shop, "orders/create", json.dumps(nobody).encode())

    assert not_json.status_code == 400
    assert no_customer.status_code == 422
    assert no_customer.headers["content-type"] == "application/problem+json"
    assert "names no customer" in no_customer.json()["detail"]
    assert shop.store.counts()["queued"] == 0


def test_customers_redact_erases_the_customer(shop):
    shopify(shop, "orders/create", raw("orders_create"))
    shop.engine.work(partitions=PARTITIONS)
    assert shop.store.customer(CUSTOMER) is not None
    redact = {"shop_id": 954889, "shop_domain": "snowdevil.myshopify.com",
              "customer": {"id": 115310627314723950, "email": "jon@example.com", "phone": "555-625-1199"},
              "orders_to_redact": [820982911946154500]}

    answer = shopify(shop, "customers/redact", json.dumps(redact).encode())

    assert answer.status_code == 200, answer.text
    assert answer.json()["erased"] is True
    assert shop.store.customer(CUSTOMER) is None
    assert [e.pseudonym for e in shop.store.erasures()] == [answer.json()["pseudonym"]]


def test_customers_redact_of_someone_never_seen_is_200_with_nothing_erased(shop):
    body = json.dumps({"customer": {"id": 5, "email": "x@example.com"}}).encode()
    answer = shopify(shop, "customers/redact", body)

    assert (answer.status_code, answer.json()["erased"]) == (200, False)


# WooCommerce


@pytest.mark.parametrize(("topic", "payload", "event", "event_id"), [
    ("order.created", WOO_ORDER, "Order Completed", "woo:order:727:created"),
    ("order.updated", WOO_ORDER, "Payment Confirmed", "woo:order:727:processing"),
    ("customer.created", WOO_CUSTOMER, "Signed Up", "woo:customer:25:created"),
])
def test_woocommerce_topics_are_queued(shop, topic, payload, event, event_id):
    answer = woo(shop, topic, payload)
    again = woo(shop, topic, payload)

    assert (answer.status_code, answer.json()["queued"], again.json()["queued"]) == (200, 1, 0)
    [queued_event] = queued(shop)
    assert (queued_event.name, queued_event.id, queued_event.customer_id) == (event, event_id, "woo:25")
    assert queued_event.properties["delivery_id"] == "d-1"


def test_woocommerce_bad_signature_is_401_and_nothing_queued(shop):
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Signature": sign(b"{}", WOO_SECRET)}
    body = json.dumps(WOO_ORDER).encode()
    answer = shop.client.post("/webhooks/woocommerce", content=body, headers=headers)

    assert answer.status_code == 401
    assert "ONBOARDFLOW_WOOCOMMERCE_WEBHOOK_SECRET" in answer.json()["detail"]
    assert shop.store.counts()["queued"] == 0


def test_woocommerce_first_ping_is_200(shop):
    answer = shop.client.post("/webhooks/woocommerce", content=b"webhook_id=15",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert (answer.status_code, answer.json()["ping"]) == (200, True)
    assert shop.store.counts()["queued"] == 0


def test_woocommerce_status_that_is_no_event_queues_nothing(shop):
    answer = woo(shop, "order.updated", {**WOO_ORDER, "status": "on-hold"})

    assert (answer.status_code, answer.json()["events"], answer.json()["queued"]) == (200, 0, 0)


def test_customers_redact_before_any_worker_ran_drops_the_queued_events_and_consent(shop):
    shopify(shop, "orders/create", raw("orders_create"))
    assert shop.store.counts()["queued"] == 1 and shop.store.consents(CUSTOMER)

    answer = shopify(shop, "customers/redact", json.dumps({"customer": {"id": 115310627314723950}}).encode())

    assert answer.status_code == 200, answer.text
    assert answer.json()["erased"] is True
    assert shop.store.counts()["queued"] == 0
    assert shop.store.consents(CUSTOMER) == []

"""Consent from Shopify webhook bodies: real fixtures from shared/data, and Shopify's consent objects."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from onboardflow.core.consent import GRANTED, WITHDRAWN
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.integrations.shopify import shopify_events
from onboardflow.integrations.shopify_consent import consents_from_shopify
from onboardflow.store.memory import MemoryStore
from shared_data import SHARED_DATA

RECEIVED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def body(name: str) -> dict:
    data = json.loads((SHARED_DATA / name).read_text())
    return data.get("customer", data) if name.startswith("shopify/customer") else data


def lines(payload: dict, customer_id: str = "c_42"):
    return consents_from_shopify(payload, customer_id=customer_id, received_at=RECEIVED)


def test_an_order_whose_buyer_ticked_marketing_grants_email_marketing_at_the_orders_time():
    order = body("shopify-webhooks/orders_create.json")

    [line] = lines(order)

    assert (line.customer_id, line.channel, line.purpose, line.status, line.source) == (
        "c_42", "email", "marketing", GRANTED, "shopify"
    )
    assert line.at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)  # 2021-12-31T19:00:00-05:00
    assert line.evidence == {"shopify_field": "buyer_accepts_marketing", "shopify_id": str(order["id"])}


def test_a_checkout_with_both_boxes_unticked_says_nothing():
    assert lines(body("shopify-webhooks/checkouts_create.json")) == []


def test_the_older_accepts_marketing_false_without_a_change_time_says_nothing():
    assert lines(body("shopify/customer.json")) == []
    assert lines(body("shopify/order.json")) == []  # buyer unticked; its customer's flag false, no time


def test_a_customer_with_consent_objects_gives_a_line_per_channel():
    customer = body("shopify-webhooks/customers_create.json")
    customer["email_marketing_consent"] = {
        "state": "subscribed", "opt_in_level": "confirmed_opt_in",
        "consent_updated_at": "2026-02-01T09:00:00+01:00",
    }
    customer["sms_marketing_consent"] = {
        "state": "unsubscribed", "opt_in_level": "single_opt_in", "consent_updated_at": None,
        "consent_collected_from": "SHOPIFY",
    }

    email, sms = lines(customer)

    assert (email.channel, email.status) == ("email", GRANTED)
    assert email.at == datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    assert email.evidence["double_opt_in"] is True
    assert (sms.channel, sms.status, sms.at) == ("sms", WITHDRAWN, RECEIVED)  # no time given: when received
    assert sms.evidence["collected_from"] == "SHOPIFY"


@pytest.mark.parametrize("state", ["not_subscribed", "pending", "invalid"])
def test_states_that_are_no_statement_give_no_line(state):
    customer = {"id": 1, "email_marketing_consent": {"state": state, "opt_in_level": None}}

    assert lines(customer) == []


def test_the_same_body_twice_gives_the_same_lines():
    order = body("shopify-webhooks/orders_create.json")

    assert lines(order) == lines(copy.deepcopy(order))


def test_a_legacy_customer_who_unticked_at_a_known_time_withdraws():
    customer = {"id": 1, "accepts_marketing": False, "accepts_marketing_updated_at": "2026-01-05T12:00:00Z"}

    [line] = lines(customer)

    assert (line.status, line.at) == (WITHDRAWN, datetime(2026, 1, 5, 12, 0, tzinfo=UTC))


def test_bad_bodies_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="JSON object"):
        consents_from_shopify(["not", "a", "body"], customer_id="c", received_at=RECEIVED)
    with pytest.raises(ValueError, match=r"email_marketing_consent\.consent_updated_at is not an ISO-8601"):
        lines({"email_marketing_consent": {"state": "subscribed", "consent_updated_at": "yesterday"}})


# through the webhook mapping and the engine: Shopify's statements reach the ledger


def ledger_after(topic: str, payload: dict) -> tuple[str, dict]:
    [event] = shopify_events(topic, payload)
    store = MemoryStore()
    Engine(store, clock=VirtualClock(RECEIVED)).ingest([event])
    return event.customer_id, {key: line for key, line in store.consent_state(event.customer_id).items()}


def test_an_order_webhook_whose_buyer_ticked_the_box_grants_email_marketing_in_the_ledger():
    customer_id, state = ledger_after("orders/create", body("shopify-webhooks/orders_create.json"))

    line = state[("email", "marketing")]
    assert (line.status, line.source, line.at) == (GRANTED, "shopify", datetime(2022, 1, 1, tzinfo=UTC))
    assert line.evidence["shopify_field"] == "buyer_accepts_marketing"


def test_a_checkout_with_unticked_boxes_leaves_the_ledger_alone():
    _, state = ledger_after("checkouts/create", body("shopify-webhooks/checkouts_create.json"))

    assert state == {}


def test_a_customer_webhook_with_consent_objects_writes_a_line_per_channel():
    customer = body("shopify-webhooks/customers_create.json")
    customer["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "confirmed_opt_in",
                                           "consent_updated_at": "2026-02-01T09:00:00+01:00"}
    customer["sms_marketing_consent"] = {"state": "not_subscribed", "opt_in_level": "single_opt_in"}

    _, state = ledger_after("customers/create", customer)

    assert list(state) == [("email", "marketing")]
    assert state[("email", "marketing")].at == datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    assert state[("email", "marketing")].evidence["double_opt_in"] is True

"""The example of docs/webhooks.md, run: it validates, and the request it makes is the one the page shows."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from onboardflow.core.model import WEBHOOK_FAILED, WEBHOOK_SUCCEEDED
from onboardflow.engine.webhook_request import build_request

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
SECRET = "whsec_" + base64.b64encode(b"onboardflow-docs-signing-key-32b").decode()


def journey_text() -> str:
    [text] = re.findall(r"^```yaml\n(id:.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    return text


def test_the_example_makes_a_signed_json_request_from_the_order(shop):
    shop.publish(journey_text())
    profile = {"email": 'ana "the buyer"@example.com', "country": "US"}
    shop.ingest(shop.order("c 7", order_id="o_9", profile=profile))
    [row] = shop.store.calls()

    request = build_request(row.call, environ={"CRM_WEBHOOK_SECRET": SECRET}, now=shop.clock.now())

    assert (request.method, request.url) == ("PUT", "https://crm.example/customers/c+7/orders")
    assert json.loads(request.body) == {
        "email": 'ana "the buyer"@example.com',
        "order_id": "o_9",
        "total": 60.0,
        "ordered_at": shop.clock.now().isoformat(),
    }
    assert request.headers["x-shop"] == "my-shop"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= request.headers.keys()


def test_the_example_maps_the_answer_and_thanks_or_falls_back(shop):
    shop.publish(journey_text())
    shop.ingest(shop.order("c1"), shop.order("c2"))
    first, second = shop.store.calls()

    shop.ingest(shop.event(WEBHOOK_SUCCEEDED, first.call.customer_id, call_id=first.call.call_id, status=200,
                           response={"tier": "gold", "points": 120}),
                shop.event(WEBHOOK_FAILED, second.call.customer_id, call_id=second.call.call_id, status=404,
                           error="answered 404"))

    assert shop.store.customer(first.call.customer_id).traits["loyalty_tier"] == "gold"
    assert shop.sent(first.call.customer_id) == ["welcome-tier"]
    assert shop.sent(second.call.customer_id) == ["no-crm"]

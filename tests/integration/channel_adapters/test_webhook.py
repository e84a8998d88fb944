"""The webhook channel, against a local receiver verifying Standard Webhooks signatures with the library."""

from __future__ import annotations

import math
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from onboardflow.channels import ChannelContext
from onboardflow.channels.webhook import WebhookChannel
from onboardflow.core.model import Customer
from onboardflow.engine.clock import SystemClock, VirtualClock
from onboardflow.messages.content import DeliveryError, PushContent, WhatsAppContent

from .conftest import WEBHOOK_SECRET, delivery, webhook_settings
from .servers import Reply

NUDGE = PushContent(title="Your order shipped", body="Track it in the app", deep_link="shop://orders/o_9")


def hook(**changes):
    return delivery("webhook", changes.pop("content", NUDGE), to="c_42", purpose="education", **changes)


def test_the_receiver_verifies_the_signature_and_gets_the_delivery(webhook, webhook_server, receiver):
    before = math.floor(SystemClock().now().timestamp())

    provider_id = webhook.send(hook(headers={"X-Journey": "welcome"}))

    [request] = webhook_server.requests
    assert request.path == "/hooks/onboardflow" and request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_en1.3"
    assert before <= int(request.headers["webhook-timestamp"]) <= before + 5
    assert request.headers["webhook-signature"].startswith("v1,")
    payload = receiver.accepted["msg_en1.3"]
    assert payload["type"] == "message.send"
    assert payload["data"] == {
        "message_id": "msg_en1.3", "idempotency_key": "msg_en1.3", "channel": "webhook",
        "customer_id": "c_42", "to": "c_42", "purpose": "education", "unsubscribe_url": None,
        "headers": {"X-Journey": "welcome"},
        "content": {"kind": "push", "title": "Your order shipped", "body": "Track it in the app",
                    "deep_link": "shop://orders/o_9"},
    }
    assert provider_id == "rcv_1" and receiver.refused == []


def test_any_content_kind_travels_with_its_kind(webhook, receiver):
    webhook.send(hook(content=WhatsAppContent(template="usage_tips", parameters=("Ana",))))

    assert receiver.accepted["msg_en1.3"]["data"]["content"] == {
        "kind": "whatsapp", "template": "usage_tips", "language": None, "parameters": ["Ana"], "text": None,
    }


def test_the_signature_covers_id_timestamp_and_the_exact_body(webhook, webhook_server):
    webhook.send(hook())

    request = webhook_server.requests[0]
    signed_at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
    expected = Webhook(WEBHOOK_SECRET).sign("msg_en1.3", signed_at, request.body.decode())
    assert request.headers["webhook-signature"] == expected


def test_a_retry_carries_the_same_webhook_id_so_the_receiver_keeps_one(webhook, webhook_server, receiver):
    webhook.send(hook())
    webhook.send(hook())

    assert [r.headers["webhook-id"] for r in webhook_server.requests] == ["msg_en1.3", "msg_en1.3"]
    assert list(receiver.accepted) == ["msg_en1.3"]


def test_the_timestamp_is_the_clocks_and_a_stale_one_is_refused_by_the_verifier(webhook_server, receiver):
    clock = VirtualClock(SystemClock().now() - timedelta(hours=1))
    channel = WebhookChannel(webhook_settings(webhook_server.url), ChannelContext(clock=clock))

    with closing(channel), pytest.raises(DeliveryError) as raised:
        channel.send(hook())

    assert webhook_server.requests[0].headers["webhook-timestamp"] == str(int(clock.now().timestamp()))
    assert receiver.refused == ["Message timestamp too old"]
    assert not raised.value.permanent and "ONBOARDFLOW_WEBHOOK__SECRET" in raised.value.reason


def test_a_receiver_with_another_secret_refuses_and_the_error_shows_no_secret(serve, receiver):
    server = serve(receiver)
    other = "whsec_" + "b3RoZXItc2lnbmluZy1rZXktb2YtMzItYnl0ZXMh"
    channel = WebhookChannel(webhook_settings(server.url, secret=other), ChannelContext())

    with closing(channel), pytest.raises(DeliveryError) as raised:
        channel.send(hook())

    assert receiver.refused == ["No matching signature found"] and receiver.accepted == {}
    assert "answered 401" in raised.value.reason
    assert other not in str(raised.value) and other.removeprefix("whsec_") not in str(raised.value)


@pytest.mark.parametrize("status", [400, 422])
def test_a_receiver_refusing_the_message_itself_is_permanent(webhook, webhook_server, status):
    webhook_server.script(Reply(status, {"error": "unknown customer"}))

    with pytest.raises(DeliveryError) as raised:
        webhook.send(hook())

    assert raised.value.permanent
    assert raised.value.reason == (
        f"the webhook receiver at {webhook_server.url}/hooks/onboardflow answered {status}: "
        "it refuses this message"
    )


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_transient(webhook, webhook_server, status):
    webhook_server.script(Reply(status))

    with pytest.raises(DeliveryError) as raised:
        webhook.send(hook())

    assert not raised.value.permanent and raised.value.reason.endswith(f"answered {status}")


def test_429_keeps_retry_after(webhook, webhook_server):
    webhook_server.script(Reply(429, headers={"Retry-After": "12"}))

    with pytest.raises(DeliveryError) as raised:
        webhook.send(hook())

    assert not raised.value.permanent and raised.value.retry_after == 12.0


def test_a_redirect_is_not_followed(webhook, webhook_server, receiver):
    webhook_server.script(Reply(307, headers={"Location": f"{webhook_server.url}/elsewhere"}))

    with pytest.raises(DeliveryError) as raised:
        webhook.send(hook())

    assert len(webhook_server.requests) == 1 and receiver.accepted == {}
    assert "redirects are not followed" in raised.value.reason and not raised.value.permanent


def test_no_answer_within_the_time_out_is_transient(webhook, webhook_server):
    webhook_server.script(Reply(200, delay=3))

    with pytest.raises(DeliveryError) as raised:
        webhook.send(hook())

    assert not raised.value.permanent
    assert raised.value.reason == (
        f"the webhook receiver did not answer within 0.5 s ({webhook_server.url}/hooks/onboardflow)"
    )


def test_a_url_with_a_query_key_is_shown_without_it(serve, receiver):
    server = serve(receiver)
    server.script(Reply(503))
    channel = WebhookChannel(webhook_settings(f"{server.url}/in?token=query-secret-42"), ChannelContext())

    with closing(channel), pytest.raises(DeliveryError) as raised:
        channel.send(hook())

    assert server.requests[0].path == "/in?token=query-secret-42"
    assert "query-secret-42" not in str(raised.value)
    assert f"{server.url}/in answered 503" in raised.value.reason


def test_an_empty_2xx_answer_returns_the_webhook_id(webhook, webhook_server):
    webhook_server.script(Reply(204))

    assert webhook.send(hook()) == "msg_en1.3"


def test_the_address_field_is_configurable(webhook_server):
    by_email = WebhookChannel(webhook_settings(webhook_server.url, address_field="email"), ChannelContext())

    with closing(by_email):
        assert by_email.address(Customer(id="c1", email="a@example.com")) == "a@example.com"
        assert by_email.address(Customer(id="c1")) is None


def test_by_default_every_customer_is_reached_by_id(webhook):
    assert webhook.address(Customer(id="c1")) == "c1"

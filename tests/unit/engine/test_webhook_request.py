"""A webhook call's request: URL and body rendered from the customer and the trigger, JSON checked, signed.

Mistakes in the journey or its set-up are refused before anything is sent, with a message that says what
to fix; no socket is needed to see that.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from onboardflow.core.effects import CallWebhook
from onboardflow.engine.webhook_request import CallRefused, build_request

NOW = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"onboardflow-test-signing-key-32b").decode()
ENVIRON = {"CRM_SECRET": SECRET}

CALL = CallWebhook(
    call_id="call_9f.1",
    enrollment_id="enr_9f",
    journey_id="loyalty",
    version=3,
    customer_id="c1",
    step_id="crm",
    url="https://crm.example/customers/{{ customer.id | url_encode }}?order={{ trigger.order_id }}",
    method="PUT",
    headers={"X-Shop": "demo"},
    body='{"email": {{ customer.email | json }}, "name": {{ customer.first_name | json }}, '
         '"total": {{ trigger.total }}, "at": "{{ trigger.at }}", "journey": "{{ journey.id }}"}',
    secret="CRM_SECRET",
    timeout=timedelta(seconds=5),
    retries=3,
    scope={
        "customer": {"id": "c 1", "email": 'ana "the buyer"@example.com', "first_name": None},
        "trigger": {"order_id": "o_9", "total": 60.5, "at": datetime(2026, 3, 2, 8, 0, tzinfo=UTC)},
        "journey": {"id": "loyalty", "version": 3},
        "enrollment": {"id": "enr_9f", "step": "crm"},
    },
    at=NOW,
)


def refused(call: CallWebhook, environ=ENVIRON) -> str:
    with pytest.raises(CallRefused) as raised:
        build_request(call, environ=environ, now=NOW)
    return str(raised.value)


def test_url_and_body_are_rendered_from_the_scope_as_json():
    request = build_request(CALL, environ=ENVIRON, now=NOW)

    assert (request.method, request.url) == ("PUT", "https://crm.example/customers/c+1?order=o_9")
    assert json.loads(request.body) == {
        "email": 'ana "the buyer"@example.com',  # the json filter quotes and escapes
        "name": None,
        "total": 60.5,
        "at": "2026-03-02T08:00:00+00:00",  # datetimes in ISO 8601
        "journey": "loyalty",
    }


def test_the_step_headers_go_along_with_a_json_content_type():
    headers = build_request(CALL, environ=ENVIRON, now=NOW).headers

    assert headers["x-shop"] == "demo"
    assert headers["content-type"] == "application/json"
    text = build_request(replace(CALL, headers={"Content-Type": "application/vnd.crm+json"}), environ=ENVIRON,
                         now=NOW).headers
    assert text["content-type"] == "application/vnd.crm+json"


def test_the_signature_covers_the_call_id_the_time_and_the_exact_body():
    request = build_request(CALL, environ=ENVIRON, now=NOW)
    headers = request.headers

    assert headers["webhook-id"] == "call_9f.1"
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert headers["webhook-signature"] == Webhook(SECRET).sign("call_9f.1", NOW, request.body.decode())
    assert headers["webhook-signature"].startswith("v1,")


def test_signing_headers_cannot_be_overridden_by_the_step():
    call = replace(CALL, headers={"webhook-id": "forged", "Webhook-Signature": "v1,forged"})

    headers = build_request(call, environ=ENVIRON, now=NOW).headers

    assert headers["webhook-id"] == "call_9f.1" and headers["webhook-signature"] != "v1,forged"


def test_without_a_secret_nothing_is_signed():
    headers = build_request(replace(CALL, secret=None), environ={}, now=NOW).headers

    assert not {"webhook-id", "webhook-timestamp", "webhook-signature"} & headers.keys()


def test_without_a_body_an_empty_one_is_sent_and_still_signed():
    request = build_request(replace(CALL, body=None), environ=ENVIRON, now=NOW)

    assert request.body == b"" and "content-type" not in request.headers
    assert request.headers["webhook-signature"] == Webhook(SECRET).sign("call_9f.1", NOW, "")


def test_a_body_that_is_not_json_is_refused_with_the_fix():
    message = refused(replace(CALL, body='{"email": {{ customer.email }}}'))

    assert message.startswith("webhook step 'crm' of journey loyalty v3: its body must render to JSON")
    assert "{\"email\": ana \"the buyer\"@example.com}" in message
    assert "json filter" in message


def test_a_template_that_does_not_render_is_refused():
    message = refused(replace(CALL, body='{"n": {{ trigger.total | divided_by: 0 }}}'))

    assert "its body template does not render" in message and "can't divide by 0" in message


def test_a_template_with_a_syntax_error_is_refused():
    message = refused(replace(CALL, url="https://crm.example/{% if customer.id %}x"))

    assert message.startswith("webhook step 'crm' of journey loyalty v3: its url template does not render")


def test_a_runaway_template_stops_at_its_limits():
    message = refused(replace(CALL, body="[{% for i in (1..100000) %}{{ i }},{% endfor %}0]"))

    assert "its body template stopped" in message and "resource limits" in message


def test_a_url_without_a_host_for_this_customer_is_refused():
    message = refused(replace(CALL, url="https://{{ customer.shop_host }}/hooks"))

    assert "its url renders to 'https:///hooks'; it needs http:// or https:// and a host" in message


def test_a_missing_secret_variable_is_named():
    message = refused(CALL, environ={})

    assert "environment variable CRM_SECRET is not set" in message
    assert "whsec_" in message


def test_a_secret_that_is_not_standard_webhooks_is_named():
    message = refused(CALL, environ={"CRM_SECRET": "whsec_not base64!"})

    assert message.startswith("environment variable CRM_SECRET (the secret of webhook step 'crm'")
    assert "whsec_ followed by base64" in message


def test_headers_that_http_cannot_carry_are_refused():
    assert "'X Shop' is not an HTTP header name" in refused(replace(CALL, headers={"X Shop": "demo"}))
    message = refused(replace(CALL, headers={"X-Shop": "café\nInjected: yes"}))
    assert "header X-Shop holds 'café\\nInjected: yes'; a header value is printable ASCII on one" in message

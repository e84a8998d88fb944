"""WhatsApp through the Cloud API format, against a local HTTP server answering as the Cloud API does."""

from __future__ import annotations

from contextlib import closing

import pytest

from onboardflow.channels import ChannelContext
from onboardflow.channels.whatsapp import WhatsAppChannel
from onboardflow.core.model import Customer
from onboardflow.messages.content import DeliveryError, SmsContent, WhatsAppContent

from .conftest import WHATSAPP_NUMBER_ID, WHATSAPP_TOKEN, delivery, whatsapp_settings
from .servers import Reply, whatsapp_error

TIPS = WhatsAppContent(template="usage_tips", language="pt_BR", parameters=("Ana", "o_9"))


def message(**changes):
    content, to = changes.pop("content", TIPS), changes.pop("to", "+5511987654321")
    return delivery("whatsapp", content, to=to, **changes)


def test_a_template_with_body_parameters_is_posted_and_its_wamid_returned(whatsapp, whatsapp_server):
    wamid = whatsapp.send(message())

    [request] = whatsapp_server.requests
    assert request.path == f"/v21.0/{WHATSAPP_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "biz_opaque_callback_data": "msg_en1.3",
        "type": "template",
        "template": {
            "name": "usage_tips",
            "language": {"code": "pt_BR"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                           {"type": "text", "text": "o_9"}]}],
        },
    }
    assert wamid == "wamid.HBgL00000001"


def test_a_template_without_parameters_or_language_uses_the_default_language(whatsapp, fake_whatsapp):
    whatsapp.send(message(content=WhatsAppContent(template="hello_world")))

    assert fake_whatsapp.sent[0]["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


def test_free_text_is_sent_as_a_text_message(whatsapp, fake_whatsapp):
    whatsapp.send(message(content=WhatsAppContent(text="Your parcel is at the door 📦")))

    assert fake_whatsapp.sent[0]["type"] == "text"
    assert fake_whatsapp.sent[0]["text"] == {"body": "Your parcel is at the door 📦", "preview_url": False}


def test_content_with_neither_template_nor_text_is_refused_for_good(whatsapp, whatsapp_server):
    with pytest.raises(DeliveryError) as raised:
        whatsapp.send(message(content=WhatsAppContent()))

    assert raised.value.permanent and "neither a WhatsApp template nor text" in raised.value.reason
    assert whatsapp_server.requests == []


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (131026, "cannot receive this message"),
        (131047, "last wrote more than 24 hours ago: outside that window only an approved template may be"),
        (131050, "has stopped marketing messages from this business"),
    ],
)
def test_recipient_errors_are_permanent(whatsapp, whatsapp_server, code, meaning):
    whatsapp_server.script(Reply(400, whatsapp_error(code, "Message undeliverable")))

    with pytest.raises(DeliveryError) as raised:
        whatsapp.send(message())

    assert raised.value.permanent
    assert raised.value.reason.startswith(f"+5511987654321 {meaning}")
    assert f"(error {code}: Message undeliverable)" in raised.value.reason


@pytest.mark.parametrize(
    ("status", "code", "meaning"),
    [(400, 131056, "pair rate limit"), (429, 130429, "throughput limit"), (400, 131048, "spam rate limit")],
)
def test_rate_limits_are_transient_and_keep_retry_after(whatsapp, whatsapp_server, status, code, meaning):
    whatsapp_server.script(Reply(status, whatsapp_error(code, "Rate limit hit"), {"Retry-After": "30"}))

    with pytest.raises(DeliveryError) as raised:
        whatsapp.send(message())

    assert not raised.value.permanent and raised.value.retry_after == 30.0
    assert meaning in raised.value.reason


def test_a_rate_limit_without_retry_after_leaves_the_wait_to_the_dispatcher(whatsapp, whatsapp_server):
    whatsapp_server.script(Reply(400, whatsapp_error(131056, "Pair rate limit hit")))

    with pytest.raises(DeliveryError) as raised:
        whatsapp.send(message())

    assert not raised.value.permanent and raised.value.retry_after is None


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_transient(whatsapp, whatsapp_server, status):
    whatsapp_server.script(Reply(status, whatsapp_error(2, "Service temporarily unavailable")))

    with pytest.raises(DeliveryError) as raised:
        whatsapp.send(message())

    assert not raised.value.permanent
    assert raised.value.reason.startswith(f"the WhatsApp Cloud API answered {status} (error 2: Service")


def test_no_answer_within_the_time_out_is_transient(whatsapp, whatsapp_server):
    whatsapp_server.script(Reply(200, {"messages": [{"id": "wamid.late"}]}, delay=3))

    with pytest.raises(DeliveryError) as raised:
        whatsapp.send(message())

    assert not raised.value.permanent
    assert raised.value.reason.startswith("the WhatsApp Cloud API did not answer within 0.5 s")


def test_an_invalid_token_is_transient_and_names_the_setting_not_the_token(whatsapp_server, clock):
    settings = whatsapp_settings(whatsapp_server.url, access_token="expired-token-zz9")

    with closing(WhatsAppChannel(settings, ChannelContext(clock=clock))) as channel:
        with pytest.raises(DeliveryError) as raised:
            channel.send(message())

    assert not raised.value.permanent
    assert "error 190" in raised.value.reason and "ONBOARDFLOW_WHATSAPP__ACCESS_TOKEN" in raised.value.reason
    assert "expired-token-zz9" not in str(raised.value)


def test_sms_content_is_refused_for_good_without_a_request(whatsapp, whatsapp_server):
    with pytest.raises(DeliveryError) as raised:
        whatsapp.send(message(content=SmsContent(text="hi")))

    assert raised.value.permanent and whatsapp_server.requests == []


def test_the_address_is_the_customers_phone(whatsapp):
    assert whatsapp.address(Customer(id="c1", phone="+5511987654321")) == "+5511987654321"
    assert whatsapp.address(Customer(id="c1", email="a@example.com")) is None

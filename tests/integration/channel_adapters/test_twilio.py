"""SMS through the Twilio-compatible adapter, against a local HTTP server answering as Twilio does."""

from __future__ import annotations

import base64
from contextlib import closing
from datetime import timedelta
from email.utils import format_datetime

import pytest

from onboardflow.channels import ChannelContext
from onboardflow.channels.twilio import TwilioChannel
from onboardflow.core.model import Customer
from onboardflow.messages.content import DeliveryError, EmailContent, SmsContent

from .conftest import TWILIO_SID, TWILIO_TOKEN, delivery, twilio_settings
from .servers import Reply, SilentServer, free_port

TEXT = SmsContent(text="Acme: your order o_9 has shipped. Track: https://shop.example/t/o_9")


def sms(to: str = "+15551234567", **changes):
    return delivery("sms", changes.pop("content", TEXT), to=to, **changes)


def test_an_sms_is_posted_as_twilio_expects_and_its_sid_returned(twilio, twilio_server, fake_twilio):
    sid = twilio.send(sms())

    [request] = twilio_server.requests
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert request.headers["i-twilio-idempotency-token"] == "msg_en1.3"
    assert request.form() == {"To": "+15551234567", "From": "+15550001111", "Body": TEXT.text}
    assert sid == "SM" + "0" * 31 + "1" and fake_twilio.sent == [request.form()]


def test_a_messaging_service_can_be_the_sender(serve, fake_twilio, clock):
    server = serve(fake_twilio)
    settings = twilio_settings(server.url, from_number=None, messaging_service_sid="MG0123")

    with closing(TwilioChannel(settings, ChannelContext(clock=clock))) as channel:
        channel.send(sms())

    assert server.requests[0].form()["MessagingServiceSid"] == "MG0123"
    assert "From" not in server.requests[0].form()


def test_a_retry_carries_the_same_idempotency_token_so_twilio_sends_once(twilio, twilio_server, fake_twilio):
    first = twilio.send(sms())
    again = twilio.send(sms())

    assert first == again
    assert [r.headers["i-twilio-idempotency-token"] for r in twilio_server.requests] == ["msg_en1.3"] * 2
    assert len(fake_twilio.sent) == 1


@pytest.mark.parametrize(
    ("code", "meaning"),
    [(21211, "is not a valid phone number"), (21614, "is not a mobile number and cannot receive SMS")],
)
def test_an_invalid_or_landline_number_is_permanent(twilio, twilio_server, code, meaning):
    twilio_server.script(Reply(400, {"code": code, "message": "Twilio says no", "status": 400}))

    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms())

    assert raised.value.permanent
    assert raised.value.reason == (
        f"+15551234567 {meaning} (Twilio answered 400 (error {code}: Twilio says no))"
    )


def test_the_fake_twilio_refuses_a_malformed_number_with_21211_and_so_does_the_adapter(twilio, fake_twilio):
    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms(to="555-1234"))

    assert raised.value.permanent and "555-1234 is not a valid phone number" in raised.value.reason
    assert fake_twilio.sent == []


def test_another_400_is_transient_with_twilios_code_and_message(twilio, twilio_server):
    twilio_server.script(Reply(400, {"code": 21606, "message": "The 'From' phone number is not valid"}))

    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms())

    assert not raised.value.permanent
    assert "error 21606: The 'From' phone number is not valid" in raised.value.reason


def test_429_with_retry_after_seconds_is_transient_with_that_wait(twilio, twilio_server):
    twilio_server.script(Reply(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "7"}))

    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms())

    assert not raised.value.permanent and raised.value.retry_after == 7.0
    assert "too many requests" in raised.value.reason


def test_429_with_retry_after_as_a_date_counts_from_the_clock(twilio, twilio_server, clock):
    later = format_datetime(clock.now() + timedelta(seconds=90), usegmt=True)
    twilio_server.script(Reply(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": later}))

    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms())

    assert raised.value.retry_after == 90.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_transient_and_a_later_retry_goes_through(twilio, twilio_server, fake_twilio, status):
    twilio_server.script(Reply(status, "<html>upstream error</html>", {"Content-Type": "text/html"}))

    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms())

    assert not raised.value.permanent and raised.value.reason == f"Twilio answered {status}"
    assert twilio.send(sms()).startswith("SM") and len(fake_twilio.sent) == 1


def test_no_answer_within_the_time_out_is_transient(twilio, twilio_server):
    twilio_server.script(Reply(201, {"sid": "SMlate"}, delay=3))

    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms())

    assert not raised.value.permanent
    assert raised.value.reason == (
        f"Twilio did not answer within 0.5 s ({twilio_server.url}/2010-04-01/Accounts/{TWILIO_SID}"
        "/Messages.json)"
    )


def test_a_silent_server_times_out_too(clock):
    silent = SilentServer()
    settings = twilio_settings(f"http://127.0.0.1:{silent.port}", timeout=0.3)
    try:
        with closing(TwilioChannel(settings, ChannelContext(clock=clock))) as channel:
            with pytest.raises(DeliveryError) as raised:
                channel.send(sms())
    finally:
        silent.close()

    assert not raised.value.permanent and "did not answer within 0.3 s" in raised.value.reason


def test_a_refused_connection_is_transient(clock):
    settings = twilio_settings(f"http://127.0.0.1:{free_port()}")

    with closing(TwilioChannel(settings, ChannelContext(clock=clock))) as channel:
        with pytest.raises(DeliveryError) as raised:
            channel.send(sms())

    assert not raised.value.permanent and raised.value.reason.startswith("could not reach Twilio at http://127.0.0.1:")


def test_wrong_credentials_are_transient_and_name_the_settings_not_the_token(serve, fake_twilio, clock):
    server = serve(fake_twilio)
    settings = twilio_settings(server.url, auth_token="wrong-token-abc123")

    with closing(TwilioChannel(settings, ChannelContext(clock=clock))) as channel:
        with pytest.raises(DeliveryError) as raised:
            channel.send(sms())

    assert not raised.value.permanent
    assert "Twilio answered 401" in raised.value.reason
    assert "ONBOARDFLOW_TWILIO__AUTH_TOKEN" in raised.value.reason
    assert "wrong-token-abc123" not in str(raised.value) and fake_twilio.sent == []


def test_a_2xx_without_a_sid_is_transient(twilio, twilio_server):
    twilio_server.script(Reply(201, {"status": "queued"}))

    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms())

    assert not raised.value.permanent and "no message sid" in raised.value.reason


def test_email_content_is_refused_for_good_without_a_request(twilio, twilio_server):
    with pytest.raises(DeliveryError) as raised:
        twilio.send(sms(content=EmailContent(subject="s", text="t")))

    assert raised.value.permanent and twilio_server.requests == []


def test_the_address_is_the_customers_phone(twilio):
    assert twilio.address(Customer(id="c1", email="a@example.com", phone="+15551234567")) == "+15551234567"
    assert twilio.address(Customer(id="c1", email="a@example.com")) is None

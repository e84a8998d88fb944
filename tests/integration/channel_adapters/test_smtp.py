"""Email over SMTP, against a real aiosmtpd server started by the test: STARTTLS, AUTH, headers, bounces."""

from __future__ import annotations

import pytest

from onboardflow.channels import ChannelContext
from onboardflow.channels.smtp import SmtpChannel
from onboardflow.core.model import Customer
from onboardflow.messages.content import DeliveryError, EmailContent, SmsContent

from .conftest import SMTP_PASSWORD, SMTP_USER, delivery, smtp_settings
from .servers import MailServer, SilentServer, free_port

WELCOME = EmailContent(subject="Welcome to Acme — ça commence", text="Hello Ana,\nthanks for your order.",
                       html="<p>Hello Ana,<br>thanks for your <b>order</b>.</p>")
UNSUBSCRIBE = "https://shop.example/u/tok_c42_9f8e"


def text_of(message, subtype: str) -> str:
    return message.get_body((subtype,)).get_content().replace("\r\n", "\n").strip()


def mail(**changes):
    content, to = changes.pop("content", WELCOME), changes.pop("to", "ana@example.com")
    return delivery("email", content, to=to, **changes)


def test_an_email_arrives_over_starttls_after_auth_with_text_and_html_parts(smtp, mail_server):
    smtp.send(mail())

    [received] = mail_server.received
    assert received.encrypted and received.login == SMTP_USER
    assert received.envelope_from == "hello@shop.example" and received.recipients == ["ana@example.com"]
    message = received.message
    assert (message["From"], message["To"]) == ("Acme Shop <hello@shop.example>", "ana@example.com")
    assert message["Subject"] == "Welcome to Acme — ça commence"
    assert message.get_content_type() == "multipart/alternative"
    assert text_of(message, "plain") == "Hello Ana,\nthanks for your order."
    assert text_of(message, "html") == WELCOME.html


def test_text_only_mail_is_a_single_part(smtp, mail_server):
    smtp.send(mail(content=EmailContent(subject="Receipt", text="Order o_9: 120.00 USD")))

    message = mail_server.received[0].message
    assert message.get_content_type() == "text/plain"
    assert text_of(message, "plain") == "Order o_9: 120.00 USD"


def test_message_id_and_date_come_from_the_idempotency_key_and_the_clock(smtp, mail_server):
    first = smtp.send(mail())
    retried = smtp.send(mail())

    assert first == retried == "<msg_en1.3@shop.example>"
    assert [r.message["Message-ID"] for r in mail_server.received] == [first, first]
    assert mail_server.received[0].message["Date"].datetime.isoformat() == "2026-03-02T09:30:00+00:00"


def test_a_key_unfit_for_a_message_id_is_hashed_the_same_way_each_time(smtp, mail_server):
    odd = mail(idempotency_key="msg <en1>@3 x")

    assert smtp.send(odd) == smtp.send(odd)
    assert "<" not in smtp.send(odd)[1:-1] and smtp.send(odd).endswith("@shop.example>")


def test_marketing_mail_carries_one_click_unsubscribe_headers(smtp, mail_server):
    smtp.send(mail(purpose="promotion", unsubscribe_url=UNSUBSCRIBE))

    message = mail_server.received[0].message
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_transactional_mail_has_no_unsubscribe_headers_even_with_a_url(smtp, mail_server):
    smtp.send(mail(purpose="transactional", unsubscribe_url=UNSUBSCRIBE))

    message = mail_server.received[0].message
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_one_click_is_offered_only_for_an_https_unsubscribe_url(smtp, mail_server):
    smtp.send(mail(purpose="engagement", unsubscribe_url="http://shop.example/u/tok"))

    message = mail_server.received[0].message
    assert message["List-Unsubscribe"] == "<http://shop.example/u/tok>"
    assert message["List-Unsubscribe-Post"] is None


def test_extra_headers_are_added_but_cannot_replace_the_channels_own(smtp, mail_server):
    smtp.send(mail(headers={"X-Journey": "first-purchase-welcome", "From": "spoof@evil.example"}))

    message = mail_server.received[0].message
    assert message["X-Journey"] == "first-purchase-welcome"
    assert message.get_all("From") == ["Acme Shop <hello@shop.example>"]


def test_a_header_with_a_line_break_is_refused_for_good_and_nothing_is_sent(smtp, mail_server):
    with pytest.raises(DeliveryError) as raised:
        smtp.send(mail(headers={"X-Note": "hi\r\nBcc: everyone@example.com"}))

    assert raised.value.permanent
    assert "cannot be written as email" in raised.value.reason
    assert mail_server.received == []


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_plain_and_login_are_both_accepted(tls, clock, mechanism):
    other = "LOGIN" if mechanism == "PLAIN" else "PLAIN"
    server = MailServer(tls=tls.server_context, users={SMTP_USER: SMTP_PASSWORD},
                        exclude_mechanisms=(other,)).start()
    try:
        SmtpChannel(smtp_settings(server.port, tls.ca_file), ChannelContext(clock=clock)).send(mail())
    finally:
        server.stop()

    assert server.logins == [(mechanism, SMTP_USER)]
    assert len(server.received) == 1


def test_implicit_tls_on_its_own_port(tls, clock):
    server = MailServer(tls=tls.server_context, users={SMTP_USER: SMTP_PASSWORD}, implicit_tls=True).start()
    try:
        settings = smtp_settings(server.port, tls.ca_file, security="tls")
        SmtpChannel(settings, ChannelContext(clock=clock)).send(mail())
    finally:
        server.stop()

    assert server.received[0].encrypted and server.received[0].login == SMTP_USER


def test_a_wrong_password_is_transient_and_names_the_settings_not_the_password(mail_server, tls, clock):
    settings = smtp_settings(mail_server.port, tls.ca_file, password="not-the-password-x1")

    with pytest.raises(DeliveryError) as raised:
        SmtpChannel(settings, ChannelContext(clock=clock)).send(mail())

    assert not raised.value.permanent
    assert "refused the login of 'shop-mailer'" in raised.value.reason
    assert "ONBOARDFLOW_SMTP__PASSWORD" in raised.value.reason
    assert "not-the-password-x1" not in str(raised.value)
    assert mail_server.received == []


def test_a_5xx_on_rcpt_is_a_permanent_bounce(smtp, mail_server):
    mail_server.refuse["gone@example.com"] = "550 5.1.1 <gone@example.com>: mailbox unavailable"

    with pytest.raises(DeliveryError) as raised:
        smtp.send(mail(to="gone@example.com"))

    assert raised.value.permanent
    assert raised.value.reason == (
        "the mail server refused gone@example.com: 550 5.1.1 <gone@example.com>: mailbox unavailable "
        "(the address bounced)"
    )


def test_a_4xx_on_rcpt_is_transient(smtp, mail_server):
    mail_server.refuse["busy@example.com"] = "451 4.7.1 greylisted, try again later"

    with pytest.raises(DeliveryError) as raised:
        smtp.send(mail(to="busy@example.com"))

    assert not raised.value.permanent
    assert "deferred busy@example.com: 451 4.7.1 greylisted" in raised.value.reason


def test_a_server_without_starttls_gets_no_password_when_starttls_is_asked(clock, tls):
    plain = MailServer(tls=None, users={SMTP_USER: SMTP_PASSWORD}).start()
    try:
        with pytest.raises(DeliveryError) as raised:
            SmtpChannel(smtp_settings(plain.port, tls.ca_file), ChannelContext(clock=clock)).send(mail())
    finally:
        plain.stop()

    assert not raised.value.permanent
    assert "ONBOARDFLOW_SMTP__SECURITY" in raised.value.reason
    assert plain.logins == [] and plain.received == []


def test_a_certificate_from_an_unknown_ca_is_refused(mail_server, clock):
    with pytest.raises(DeliveryError) as raised:
        SmtpChannel(smtp_settings(mail_server.port, None), ChannelContext(clock=clock)).send(mail())

    assert not raised.value.permanent
    assert "CERTIFICATE_VERIFY_FAILED" in raised.value.reason
    assert "ONBOARDFLOW_SMTP__CA_FILE" in raised.value.reason
    assert mail_server.received == []


def test_a_refused_connection_is_transient(tls, clock):
    port = free_port()

    with pytest.raises(DeliveryError) as raised:
        SmtpChannel(smtp_settings(port, tls.ca_file), ChannelContext(clock=clock)).send(mail())

    assert not raised.value.permanent
    assert raised.value.reason == (
        f"could not deliver to the mail server at 127.0.0.1:{port}: Connection refused"
    )


def test_a_server_that_never_answers_times_out_as_transient(tls, clock):
    silent = SilentServer()
    try:
        settings = smtp_settings(silent.port, tls.ca_file, timeout=0.3)
        with pytest.raises(DeliveryError) as raised:
            SmtpChannel(settings, ChannelContext(clock=clock)).send(mail())
    finally:
        silent.close()

    assert not raised.value.permanent
    assert raised.value.reason == (
        f"the mail server at 127.0.0.1:{silent.port} did not answer within 0.3 s"
    )


def test_sms_content_is_refused_for_good_without_connecting(smtp, mail_server):
    with pytest.raises(DeliveryError) as raised:
        smtp.send(mail(content=SmsContent(text="hi")))

    assert raised.value.permanent and "sends EmailContent" in raised.value.reason
    assert mail_server.received == []


def test_the_address_is_the_customers_email(smtp):
    assert smtp.address(Customer(id="c1", email="ana@example.com", phone="+15551234567")) == "ana@example.com"
    assert smtp.address(Customer(id="c1", phone="+15551234567")) is None

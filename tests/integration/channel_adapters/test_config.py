"""Channel settings: onboardflow.toml and ONBOARDFLOW_ variables, checked at start-up, secrets never shown."""

from __future__ import annotations

import logging
from contextlib import closing
from pathlib import Path

import pytest

from onboardflow.channels import ChannelContext, channel_class
from onboardflow.channels.config import (
    ChannelConfigError,
    ChannelSettings,
    build_channels,
    close_channels,
    load_channel_settings,
)
from onboardflow.channels.inbox import InboxChannel
from onboardflow.channels.sandbox import SandboxChannel
from onboardflow.channels.smtp import SmtpChannel
from onboardflow.channels.twilio import TwilioChannel
from onboardflow.channels.webhook import WebhookChannel
from onboardflow.channels.whatsapp import WhatsAppChannel
from onboardflow.messages.content import DeliveryError, EmailContent, PushContent, SmsContent, WhatsAppContent
from onboardflow.store.memory import MemoryStore

from .conftest import (
    SECRETS,
    SMTP_PASSWORD,
    TWILIO_TOKEN,
    WEBHOOK_SECRET,
    WHATSAPP_TOKEN,
    delivery,
    smtp_settings,
    twilio_settings,
    webhook_settings,
    whatsapp_settings,
)

SMTP_FILE = """
[channels.smtp]
host = "smtp.file.example"
port = 2525
username = "shop-mailer"
from_address = "Acme Shop <hello@shop.example>"
"""


def write(text: str, name: str = "onboardflow.toml") -> Path:
    path = Path(name)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_gives_the_settings_and_the_environment_adds_the_secret(monkeypatch):
    write(SMTP_FILE)
    monkeypatch.setenv("ONBOARDFLOW_SMTP__PASSWORD", SMTP_PASSWORD)

    settings, plugins = load_channel_settings()

    assert settings.smtp.host == "smtp.file.example" and settings.smtp.port == 2525
    assert settings.smtp.password.get_secret_value() == SMTP_PASSWORD
    assert plugins == {}


def test_an_environment_variable_overrides_the_file(monkeypatch):
    write(SMTP_FILE)
    monkeypatch.setenv("ONBOARDFLOW_SMTP__PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("ONBOARDFLOW_SMTP__HOST", "smtp.env.example")

    settings, _ = load_channel_settings()

    assert settings.smtp.host == "smtp.env.example" and settings.smtp.port == 2525


def test_the_environment_alone_configures_a_channel(monkeypatch):
    monkeypatch.setenv("ONBOARDFLOW_TWILIO__ACCOUNT_SID", "AC123")
    monkeypatch.setenv("ONBOARDFLOW_TWILIO__AUTH_TOKEN", TWILIO_TOKEN)
    monkeypatch.setenv("ONBOARDFLOW_TWILIO__FROM_NUMBER", "+15550001111")

    settings, _ = load_channel_settings()
    channels = build_channels(settings, store=MemoryStore())

    assert {name: type(channel) for name, channel in channels.items()} == {
        "sms": TwilioChannel, "in_app": InboxChannel,
    }
    close_channels(channels)


def test_onboardflow_config_names_a_file_elsewhere(monkeypatch, tmp_path):
    path = write(SMTP_FILE.replace("username", "# username"), str(tmp_path / "elsewhere.toml"))
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("ONBOARDFLOW_CONFIG", str(path))

    settings, _ = load_channel_settings()

    assert settings.smtp.host == "smtp.file.example" and settings.smtp.username is None


def test_a_named_file_that_is_missing_is_an_error():
    with pytest.raises(ChannelConfigError, match="no settings file at missing.toml"):
        load_channel_settings("missing.toml")


def test_every_configured_channel_is_built_by_the_name_journeys_use(monkeypatch):
    write(f"""
[channels.smtp]
host = "smtp.example"
from_address = "hello@shop.example"
security = "none"
[channels.whatsapp]
phone_number_id = "1065"
access_token = "{WHATSAPP_TOKEN}"
[channels.webhook]
channel = "push"
url = "https://hooks.shop.example/onboardflow"
secret = "{WEBHOOK_SECRET}"
[channels.sandbox]
channel = "sms"
""")
    settings, plugins = load_channel_settings()
    channels = build_channels(settings, plugins, store=MemoryStore())

    assert {name: type(channel) for name, channel in channels.items()} == {
        "email": SmtpChannel, "whatsapp": WhatsAppChannel, "push": WebhookChannel, "in_app": InboxChannel,
        "sms": SandboxChannel,
    }
    assert all(channel.name == name for name, channel in channels.items())
    close_channels(channels)


def test_a_disabled_channel_is_not_built(monkeypatch):
    write(SMTP_FILE + "enabled = false\npassword = 'x'\n")
    monkeypatch.setenv("ONBOARDFLOW_INBOX__ENABLED", "false")

    settings, _ = load_channel_settings()

    assert build_channels(settings) == {}


def test_two_adapters_serving_one_channel_is_an_error():
    settings = ChannelSettings(webhook=webhook_settings("https://hooks.example", channel="in_app"))

    with pytest.raises(ChannelConfigError) as raised:
        build_channels(settings, store=MemoryStore())

    assert raised.value.problems == [
        "webhook and inbox both serve channel 'in_app': set `channel` of one to another name"
    ]


def test_an_unknown_adapter_section_lists_the_installed_ones():
    write("[channels.pigeon]\nchannel = 'post'\n")

    with pytest.raises(ChannelConfigError) as raised:
        load_channel_settings()

    assert "[channels.pigeon]: no channel adapter named 'pigeon'; installed: " in str(raised.value)
    assert "inbox, sandbox, smtp, twilio, webhook, whatsapp" in str(raised.value)


def test_every_problem_is_listed_with_its_key_and_variable_and_no_value(monkeypatch):
    write(f"""
[channels.smtp]
host = "smtp.example"
port = 99999
password = "{SMTP_PASSWORD}"
form_address = "typo@shop.example"
[channels.twilio]
account_sid = "AC1"
auth_token = "{TWILIO_TOKEN}"
from_number = "555-1234"
""")
    with pytest.raises(ChannelConfigError) as raised:
        load_channel_settings()

    problems = raised.value.problems
    assert "[channels.smtp] port: Input should be less than or equal to 65535 (env ONBOARDFLOW_SMTP__PORT)" \
        in problems
    assert "[channels.smtp] from_address: Field required (env ONBOARDFLOW_SMTP__FROM_ADDRESS)" in problems
    assert any(p.startswith("[channels.smtp] form_address: Extra inputs are not permitted") for p in problems)
    assert any(p.startswith("[channels.twilio] from_number: write the sender number in E.164")
               for p in problems)
    assert str(raised.value).startswith(
        "channel settings (onboardflow.toml and the environment) has 4 problems"
    )
    assert not [secret for secret in SECRETS if secret in str(raised.value)]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[channels.smtp]\nhost='h'\nfrom_address='a@b.example'\nusername='u'\npassword='p'\nsecurity='none'",
         "[channels.smtp]: unencrypted AUTH sends the password in clear: set security to starttls or tls"),
        ("[channels.smtp]\nhost='h'\nfrom_address='a@b.example'\nusername='u'",
         "[channels.smtp]: set both username and password for AUTH, or neither"),
        ("[channels.smtp]\nhost='h'\nfrom_address='nobody'",
         "[channels.smtp] from_address: write an email address, e.g. hello@shop.example"
         " or Shop <hello@shop.example> (env ONBOARDFLOW_SMTP__FROM_ADDRESS)"),
        ("[channels.twilio]\naccount_sid='AC1'\nauth_token='t'",
         "[channels.twilio]: set exactly one of from_number and messaging_service_sid (who the SMS is from)"),
        ("[channels.webhook]\nurl='https://h.example'\nsecret='not base64!'",
         "[channels.webhook] secret: the secret must be whsec_ and base64 (of at least 24 random bytes)"
         " (env ONBOARDFLOW_WEBHOOK__SECRET)"),
        ("[channels.whatsapp]\nphone_number_id='1'\naccess_token='t'\napi_version='21'",
         "[channels.whatsapp] api_version: write the Graph API version as v<major>.<minor>, e.g. v21.0"
         " (env ONBOARDFLOW_WHATSAPP__API_VERSION)"),
    ],
)
def test_unsafe_or_incomplete_settings_are_refused_at_start_up(table, expected):
    write(table)

    with pytest.raises(ChannelConfigError) as raised:
        load_channel_settings()

    assert raised.value.problems == [expected]


def test_a_ca_file_that_holds_no_certificate_is_refused_at_start_up():
    Path("ca.pem").write_text("not a certificate", encoding="utf-8")
    write("[channels.smtp]\nhost='h'\nfrom_address='a@b.example'\nca_file='ca.pem'")

    with pytest.raises(ChannelConfigError) as raised:
        load_channel_settings()

    assert raised.value.problems == [
        "[channels.smtp] ca_file: ca.pem holds no PEM CA certificate (env ONBOARDFLOW_SMTP__CA_FILE)"
    ]


def test_a_file_that_is_not_toml_says_so():
    write("[channels.smtp\nhost = 1")

    with pytest.raises(ChannelConfigError, match=r"onboardflow.toml: not valid TOML: .*line 1"):
        load_channel_settings()


def test_settings_show_no_secret_in_repr_str_or_json():
    settings = ChannelSettings(
        smtp=smtp_settings(25, None), twilio=twilio_settings("https://api.twilio.com"),
        whatsapp=whatsapp_settings("https://graph.facebook.com"), webhook=webhook_settings("https://h.example"),
    )

    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.smtp),
             str(settings.model_dump())]

    assert not [secret for secret in SECRETS for text in shown if secret in text]
    assert "**********" in repr(settings.smtp)


def test_every_built_in_adapter_is_registered_as_an_entry_point():
    assert {name: channel_class(name) for name in ("smtp", "twilio", "whatsapp", "webhook", "inbox")} == {
        "smtp": SmtpChannel, "twilio": TwilioChannel, "whatsapp": WhatsAppChannel, "webhook": WebhookChannel,
        "inbox": InboxChannel,
    }


def test_failing_and_succeeding_sends_log_and_say_no_secret(
    caplog, mail_server, tls, clock, serve, fake_twilio, fake_whatsapp, receiver
):
    caplog.set_level(logging.DEBUG)
    urls = {"sms": serve(fake_twilio).url, "whatsapp": serve(fake_whatsapp).url,
            "webhook": serve(receiver).url}
    wrong = "wrong-secret-Zq1x"
    wrong_webhook = "whsec_" + "d3Jvbmctc2lnbmluZy1rZXktb2YtMzItYnl0ZXMh"

    def channels(bad: bool):
        context = ChannelContext(clock=clock)
        smtp = smtp_settings(mail_server.port, tls.ca_file, **({"password": wrong} if bad else {}))
        twilio = twilio_settings(urls["sms"], **({"auth_token": wrong} if bad else {}))
        whatsapp = whatsapp_settings(urls["whatsapp"], **({"access_token": wrong} if bad else {}))
        webhook = webhook_settings(urls["webhook"], **({"secret": wrong_webhook} if bad else {}))
        return [
            (SmtpChannel(smtp, context), EmailContent(subject="s", text="t"), "ana@example.com"),
            (TwilioChannel(twilio, context), SmsContent(text="t"), "+15551234567"),
            (WhatsAppChannel(whatsapp, context), WhatsAppContent(text="t"), "+15551234567"),
            (WebhookChannel(webhook, ChannelContext()), PushContent(title="t", body="b"), "c_42"),
        ]

    errors = []
    for bad in (False, True):
        for channel, content, to in channels(bad):
            with closing(channel):
                try:
                    channel.send(delivery(channel.name, content, to=to))
                except DeliveryError as error:
                    errors.append(str(error))

    assert len(errors) == 4 and len(mail_server.received) == 1 and len(receiver.accepted) == 1
    assert "HTTP Request: POST" in caplog.text  # httpx's own log lines are in what was checked
    shown = caplog.text + "\n".join(errors)
    secrets = (*SECRETS, wrong, wrong_webhook.removeprefix("whsec_"))
    assert not [secret for secret in secrets if secret in shown]

"""docs/channels.md stays true: its settings file loads, and every setting is documented with its variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from onboardflow.channels.config import ChannelSettings, build_channels, close_channels, load_channel_settings
from onboardflow.store.memory import MemoryStore

from .conftest import SMTP_PASSWORD, TWILIO_TOKEN, WEBHOOK_SECRET, WHATSAPP_TOKEN

DOC = Path(__file__).resolve().parents[3] / "docs" / "channels.md"


def fenced(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def test_the_example_file_loads_with_secrets_from_the_environment(monkeypatch):
    Path("onboardflow.toml").write_text(fenced("toml")[0], encoding="utf-8")
    for name, secret in [("SMTP__PASSWORD", SMTP_PASSWORD), ("TWILIO__AUTH_TOKEN", TWILIO_TOKEN),
                         ("WHATSAPP__ACCESS_TOKEN", WHATSAPP_TOKEN), ("WEBHOOK__SECRET", WEBHOOK_SECRET)]:
        monkeypatch.setenv(f"ONBOARDFLOW_{name}", secret)

    settings, plugins = load_channel_settings()
    channels = build_channels(settings, plugins, store=MemoryStore())

    assert sorted(channels) == ["email", "in_app", "push", "sms", "whatsapp"]
    close_channels(channels)


@pytest.mark.parametrize("adapter", sorted(ChannelSettings.model_fields))
def test_every_setting_is_documented_with_its_variable(adapter):
    text = DOC.read_text(encoding="utf-8")
    model = ChannelSettings.model_fields[adapter].annotation.__args__[0]

    missing = [name for name in model.model_fields if f"ONBOARDFLOW_{adapter}__{name}".upper() not in text]

    assert missing == []

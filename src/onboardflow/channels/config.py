"""Channel configuration: the `[channels.*]` tables of onboardflow.toml, overridden by environment variables.

`ONBOARDFLOW_SMTP__HOST` sets `[channels.smtp] host`; the environment wins, so secrets can stay out of
the file. Settings are checked whole at start-up: `ChannelConfigError` lists every problem, each with
the key and the variable to set, and never a value (it could be a secret).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from onboardflow.channels import AdapterSettings, ChannelContext, channel_class
from onboardflow.channels.inbox import InboxSettings
from onboardflow.channels.smtp import SmtpSettings
from onboardflow.channels.twilio import TwilioSettings
from onboardflow.channels.webhook import WebhookSettings
from onboardflow.channels.whatsapp import WhatsAppSettings
from onboardflow.ports import Clock, DeliveryChannel, Store

CONFIG_FILE = "onboardflow.toml"
CONFIG_VARIABLE = "ONBOARDFLOW_CONFIG"


class ChannelConfigError(ValueError):
    """The channel configuration cannot be used; `problems` says what to fix, one line each."""

    def __init__(self, problems: list[str], *, source: str = "the channel settings") -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(f"{source}: {problems[0]}")
        else:
            listed = "\n".join(f"  - {problem}" for problem in problems)
            super().__init__(f"{source} has {len(problems)} problems:\n{listed}")


class ChannelSettings(BaseSettings):
    """The built-in adapters' settings; a section left out builds no channel (the inbox is on by default)."""

    model_config = SettingsConfigDict(
        env_prefix="ONBOARDFLOW_", env_nested_delimiter="__", env_file=".env", extra="ignore", frozen=True
    )

    smtp: SmtpSettings | None = None
    twilio: TwilioSettings | None = None
    whatsapp: WhatsAppSettings | None = None
    webhook: WebhookSettings | None = None
    inbox: InboxSettings | None = InboxSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init holds the file's tables (see load_channel_settings); the environment overrides them
        return env_settings, dotenv_settings, init_settings

    def adapters(self) -> dict[str, AdapterSettings]:
        """The enabled adapters' settings, by adapter name."""
        found = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: found[name] for name in found if found[name] is not None and found[name].enabled}


def config_path(path: str | Path | None = None) -> Path | None:
    """The settings file: `path`, else $ONBOARDFLOW_CONFIG, else ./onboardflow.toml if there is one."""
    if path is None:
        path = os.environ.get(CONFIG_VARIABLE)
    if path is not None:
        if not Path(path).is_file():
            raise ChannelConfigError([f"no settings file at {path}"], source=str(path))
        return Path(path)
    default = Path(CONFIG_FILE)
    return default if default.is_file() else None


def load_channel_settings(
    path: str | Path | None = None,
) -> tuple[ChannelSettings, dict[str, AdapterSettings]]:
    """Read and check the channel settings: the built-in ones, and any plugin adapter's from the file."""
    file = config_path(path)
    tables = _channel_tables(file)
    source = f"channel settings ({file} and the environment)" if file else "channel settings (environment)"
    known = {name: tables.pop(name) for name in list(tables) if name in ChannelSettings.model_fields}
    try:
        settings = ChannelSettings(**known)
    except ValidationError as error:
        raise ChannelConfigError(_problems(error), source=source) from None
    plugins = {name: _plugin_settings(name, table, source) for name, table in tables.items()}
    return settings, {name: s for name, s in plugins.items() if s.enabled}


def build_channels(
    settings: ChannelSettings,
    plugins: dict[str, AdapterSettings] | None = None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
) -> dict[str, DeliveryChannel]:
    """The configured channels by the name journeys use (email, sms ...), adapters found by entry point."""
    context = ChannelContext(store=store) if clock is None else ChannelContext(store=store, clock=clock)
    channels: dict[str, DeliveryChannel] = {}
    for adapter, adapter_class, adapter_settings in planned_channels(settings, plugins):
        try:
            channels[adapter_settings.channel] = adapter_class.from_settings(adapter_settings, context)
        except ValueError as error:
            raise ChannelConfigError([f"{adapter}: {error}"]) from None
    return channels


def planned_channels(
    settings: ChannelSettings, plugins: dict[str, AdapterSettings] | None = None
) -> list[tuple[str, Any, AdapterSettings]]:
    """(adapter name, adapter class, settings) of each enabled channel; one adapter per channel name."""
    planned: list[tuple[str, Any, AdapterSettings]] = []
    served_by: dict[str, str] = {}
    for adapter, adapter_settings in {**settings.adapters(), **(plugins or {})}.items():
        name = adapter_settings.channel
        if name in served_by:
            clash = f"{served_by[name]} and {adapter} both serve channel {name!r}"
            raise ChannelConfigError([f"{clash}: set `channel` of one to another name"])
        try:
            planned.append((adapter, channel_class(adapter), adapter_settings))
        except LookupError as error:
            raise ChannelConfigError([f"{adapter}: {error}"]) from None
        served_by[name] = adapter
    return planned


def describe_channels(path: str | Path | None = None) -> list[tuple[str, str, str]]:
    """(channel, adapter, its settings with secrets masked) for each configured channel, checked first."""
    settings, plugins = load_channel_settings(path)
    rows = []
    for adapter, _, adapter_settings in planned_channels(settings, plugins):
        shown = adapter_settings.model_dump(mode="json", exclude={"channel", "enabled"}, exclude_none=True)
        rows.append((adapter_settings.channel, adapter, " ".join(f"{k}={v}" for k, v in shown.items())))
    return rows


def close_channels(channels: dict[str, DeliveryChannel]) -> None:
    """Let adapters that hold connections (HTTP clients) give them back."""
    for channel in channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            close()


def _channel_tables(file: Path | None) -> dict[str, Any]:
    if file is None:
        return {}
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ChannelConfigError([f"not valid TOML: {error}"], source=str(file)) from None
    tables = document.get("channels", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ChannelConfigError(["write each channel as a table, e.g. [channels.smtp]"], source=str(file))
    return dict(tables)


def _plugin_settings(name: str, table: dict[str, Any], source: str) -> AdapterSettings:
    try:
        model = channel_class(name).settings_model
    except (LookupError, AttributeError) as error:
        raise ChannelConfigError([f"[channels.{name}]: {error}"], source=source) from None
    try:
        return model.model_validate(table)
    except ValidationError as error:
        raise ChannelConfigError(_problems(error, prefix=(name,), env=False), source=source) from None


def _problems(error: ValidationError, *, prefix: tuple[str, ...] = (), env: bool = True) -> list[str]:
    """One line per error: the key, what is wrong, where to set it; never the value given."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        location = [str(part) for part in (*prefix, *item["loc"])]
        message = item["msg"].removeprefix("Value error, ")
        where = " ".join([f"[channels.{location[0]}]", ".".join(location[1:])]).strip()
        hint = f" (env ONBOARDFLOW_{'__'.join(location).upper()})" if env and len(location) > 1 else ""
        problems.append(f"{where}: {message}{hint}")
    return problems

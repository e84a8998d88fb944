"""The store's sending policies, from the environment (ONBOARDFLOW_ prefix) or a .env file.

`PolicySettings().rules()` gives the core's `PolicyRules`, which the dispatcher hands to
`onboardflow.core.policies.decide_send` and `next_attempt`. Windows may be written `21:00-08:00` or as
JSON `{"from": "21:00", "to": "08:00"}`; lists as `DE,FR` or JSON; maps and caps as JSON, e.g.

    ONBOARDFLOW_STORE_TIMEZONE=Europe/London
    ONBOARDFLOW_SMS_QUIET_HOURS=21:00-08:00
    ONBOARDFLOW_SMS_QUIET_HOURS_BY_STATE='{"US-FL": "20:00-08:00"}'
    ONBOARDFLOW_MARKETING_CAP='{"max": 3, "per": "7d"}'
    ONBOARDFLOW_CHANNEL_CAPS='{"sms": {"max": 2, "per": "7d"}}'
    ONBOARDFLOW_OPT_OUT_COUNTRIES=US,CA
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from onboardflow.core.journey import Duration, FrequencyCap, QuietHours
from onboardflow.core.policies import (
    CapRule,
    ConsentRules,
    PolicyRules,
    QuietWindow,
    RetryPolicy,
    SmsQuietHours,
    zone_named,
)

_WINDOW_TEXT = re.compile(r"^\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_STATE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def _window(value: Any) -> Any:
    """`21:00-08:00` as a window; anything else goes on to the model's own checks."""
    if isinstance(value, str):
        match = _WINDOW_TEXT.match(value)
        if match:
            return {"from": match.group(1), "to": match.group(2)}
        if value.strip().startswith("{"):
            return json.loads(value)
        if value.strip().lower() in ("", "none", "off"):
            return None
    return value


def _cap(value: Any) -> Any:
    """`3/7d` as a cap of 3 per 7 days; `off` as none; JSON as itself."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none", "off"):
            return None
        if text.startswith("{"):
            return json.loads(text)
        most, slash, span = text.partition("/")
        if slash and most.strip().isdigit():
            return {"max": int(most), "per": span.strip()}
    return value


def _names(value: Any) -> Any:
    """`DE, FR` or `["DE", "FR"]` as a list of names."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


Window = Annotated[QuietHours, BeforeValidator(_window)]
Cap = Annotated[FrequencyCap, BeforeValidator(_cap)]
Names = Annotated[list[str], NoDecode, BeforeValidator(_names)]


class PolicySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONBOARDFLOW_", env_file=".env", extra="ignore")

    store_timezone: str = Field(
        default="UTC",
        description="IANA zone for recipients whose profile and phone number give none, e.g. Europe/London",
    )
    sms_quiet_hours: Annotated[QuietHours | None, NoDecode, BeforeValidator(_window)] = Field(
        default=QuietHours(start="21:00", end="08:00"),
        description="No SMS from..to in the recipient's zone; `off` for none. The default allows 08:00-21:00",
    )
    sms_quiet_hours_by_country: dict[str, Window] = Field(
        default_factory=dict, description='Per-country SMS quiet hours: {"FR": "20:00-10:00"}'
    )
    sms_quiet_hours_by_state: dict[str, Window] = Field(
        default_factory=lambda: {"US-FL": QuietHours(start="20:00", end="08:00")},
        description="Per-state SMS quiet hours (ISO 3166-2 keys); they win over the country's. "
        "Florida's 8 pm limit is the default's one entry.",
    )
    marketing_cap: Annotated[FrequencyCap | None, NoDecode, BeforeValidator(_cap)] = Field(
        default=FrequencyCap(max=3, per=timedelta(days=7)),
        description="At most max marketing messages per span over all channels and journeys; `off` for none",
    )
    channel_caps: dict[str, Cap] = Field(
        default_factory=lambda: {"sms": FrequencyCap(max=2, per=timedelta(days=7))},
        description='Per-channel marketing caps: {"sms": {"max": 2, "per": "7d"}}',
    )
    opt_out_countries: Names = Field(
        default_factory=list,
        description="Countries where existing customers may get marketing until they withdraw (else opt-in)",
    )
    opt_out_channels: Names = Field(
        default_factory=lambda: ["email"], description="The channels the opt-out countries' rule covers"
    )
    retry_base_delay: Duration = Field(default=timedelta(seconds=30), description="The first retry's wait")
    retry_max_delay: Duration = Field(default=timedelta(hours=6), description="No back-off waits longer")
    retry_max_attempts: int = Field(default=8, ge=1, le=100, description="Attempts before parking")

    @field_validator("store_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if zone_named(value) is None:
            raise ValueError(f"{value!r} is not an IANA time zone: write one like Europe/London or UTC")
        return value.strip()

    @field_validator("sms_quiet_hours_by_country", "opt_out_countries")
    @classmethod
    def _countries(cls, value: Any) -> Any:
        return _checked_codes(value, _COUNTRY, "a country code like US or FR (ISO 3166-1)")

    @field_validator("sms_quiet_hours_by_state")
    @classmethod
    def _states(cls, value: Any) -> Any:
        return _checked_codes(value, _STATE, "a state code like US-FL or CA-QC (ISO 3166-2)")

    @field_validator("opt_out_channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        return [name.lower() for name in value]

    @model_validator(mode="after")
    def _coherent(self) -> PolicySettings:
        self.rules()  # a PolicyError (a ValueError) here is reported as a settings error, at start-up
        return self

    def rules(self) -> PolicyRules:
        """The core's record of these settings."""
        return PolicyRules(
            store_zone=self.store_timezone,
            sms_quiet_hours=SmsQuietHours(
                default=_core_window(self.sms_quiet_hours),
                by_country=_core_windows(self.sms_quiet_hours_by_country),
                by_state=_core_windows(self.sms_quiet_hours_by_state),
            ),
            caps=self._caps(),
            consent=ConsentRules(frozenset(self.opt_out_countries), frozenset(self.opt_out_channels)),
            retry=RetryPolicy(
                base=self.retry_base_delay,
                max_delay=self.retry_max_delay,
                max_attempts=self.retry_max_attempts,
            ),
        )

    def _caps(self) -> tuple[CapRule, ...]:
        overall = [CapRule(self.marketing_cap.max, self.marketing_cap.per)] if self.marketing_cap else []
        per_channel = [CapRule(cap.max, cap.per, channel=name) for name, cap in self.channel_caps.items()]
        return (*overall, *per_channel)


def _core_window(hours: QuietHours | None) -> QuietWindow | None:
    return None if hours is None else QuietWindow.parse(hours.start, hours.end)


def _core_windows(hours: dict[str, QuietHours]) -> dict[str, QuietWindow]:
    return {code: QuietWindow.parse(window.start, window.end) for code, window in hours.items()}


def _checked_codes(value: dict[str, Any] | list[str], pattern: re.Pattern[str], what: str) -> Any:
    """The codes (list items or map keys) upper-cased, each checked against `pattern`."""
    for code in value:
        if not pattern.match(code.strip().upper()):
            raise ValueError(f"{code!r} is not {what}")
    if isinstance(value, dict):
        return {code.strip().upper(): item for code, item in value.items()}
    return [code.strip().upper() for code in value]

"""Where a recipient is: the time zone, country and state that quiet hours and consent are judged in.

Each comes from the best source that has it: the customer's profile first, then the phone number
(phonenumbers' prefix data), then the store's defaults. Bad profile data (a zone name that does not
exist, a number that cannot be read) falls through to the next source instead of failing a send.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from onboardflow.core.policies.area_codes import state_for_area_code
from onboardflow.core.policies.errors import PolicyError

ZoneSource = Literal["profile", "phone", "store"]
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_STATE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")
_SOURCE_WORDS = {"profile": "from the profile", "phone": "from the phone number", "store": "the store's zone"}
_UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers answers for a number it cannot place


@dataclass(frozen=True, slots=True)
class Place:
    """The recipient's whereabouts as the policies see them, and where the time zone came from."""

    zone: ZoneInfo
    zone_source: ZoneSource
    country: str | None = None  # ISO 3166-1 alpha-2: "US", "GB"
    state: str | None = None  # ISO 3166-2: "US-FL", "CA-ON"

    def describe_zone(self) -> str:
        return f"{self.zone.key} ({_SOURCE_WORDS[self.zone_source]})"


def zone_named(name: object) -> ZoneInfo | None:
    """The IANA zone called `name`, or None when there is no such zone (a typo in a profile, say)."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def store_zone(name: str) -> ZoneInfo:
    """The store's default zone, which must exist: every recipient without a better one falls back to it."""
    zone = zone_named(name)
    if zone is None:
        raise PolicyError(
            f"the store time zone {name!r} is not an IANA zone name: set ONBOARDFLOW_STORE_TIMEZONE "
            "to one like Europe/London or America/New_York"
        )
    return zone


def parse_phone(phone: str | None, country: str | None = None) -> phonenumbers.PhoneNumber | None:
    """The phone number read in international form, or with the profile's country as its region; else None."""
    if not phone or not isinstance(phone, str):
        return None
    region = country.upper() if isinstance(country, str) and _COUNTRY.match(country.upper()) else None
    return _parsed(phone, region)


@lru_cache(maxsize=65536)  # a customer's number is read for each message sent them; callers only read it
def _parsed(phone: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None


def phone_zone(number: phonenumbers.PhoneNumber | None) -> ZoneInfo | None:
    """The zone of the number's prefix.

    When the prefix spans several zones, the first one phonenumbers lists (alphabetically) that lies in
    the number's own country is taken, else the first listed: a UK mobile (+44 7…, listed as Guernsey,
    Isle of Man, Jersey, London) gets Europe/London; an Australian mobile (+61 4…, all of Australia's
    zones) gets Australia/Adelaide. Stable, but only approximate: a profile `timezone` is exact.
    """
    if number is None:
        return None
    names = [name for name in phone_timezones.time_zones_for_number(number) if name != _UNKNOWN_ZONE]
    country = phone_country(number)
    in_country = [name for name in names if _zone_countries().get(name) == country]
    for name in in_country + names:
        zone = zone_named(name)
        if zone is not None:
            return zone
    return None


@cache
def _zone_countries() -> dict[str, str]:
    """Each zone's country, from the zone.tab the tzdata package ships (static data, read once)."""
    try:
        text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}


def phone_country(number: phonenumbers.PhoneNumber | None) -> str | None:
    """The ISO country of a valid number (`US` for +1 212…), or None."""
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and _COUNTRY.match(region) else None


def phone_state(number: phonenumbers.PhoneNumber | None) -> str | None:
    """The state or province of a North American number, from its area code (see area_codes.py)."""
    if number is None or number.country_code != 1:
        return None
    return state_for_area_code(str(number.national_number)[:3])


def profile_state(traits: Mapping[str, Any], country: str | None) -> str | None:
    """The `state` trait as ISO 3166-2: `US-FL` as given, or `FL` with the customer's country in front."""
    value = traits.get("state")
    if not isinstance(value, str):
        return None
    value = value.strip().upper()
    if _STATE.match(value):
        return value
    if country and _SUBDIVISION.match(value):
        return f"{country}-{value}"
    return None


def locate(
    *,
    timezone: str | None,
    phone: str | None,
    country: str | None,
    traits: Mapping[str, Any],
    default_zone: ZoneInfo,
) -> Place:
    """The recipient's zone (profile, else phone, else store), country and state (profile, else phone)."""
    state_trait = traits.get("state")
    if not isinstance(state_trait, str):
        state_trait = None  # profile_state reads nothing else of the traits, and only a string
    if not all(value is None or isinstance(value, str) for value in (timezone, phone, country)):
        return _located.__wrapped__(timezone, phone, country, state_trait, default_zone)  # unhashable, say
    return _located(timezone, phone, country, state_trait, default_zone)


@lru_cache(maxsize=65536)  # asked for every message, and a customer's answer repeats; a Place is frozen
def _located(timezone: str | None, phone: str | None, country: str | None, state_trait: str | None,
             default_zone: ZoneInfo) -> Place:
    number = parse_phone(phone, country)
    profile_country = country.strip().upper() if isinstance(country, str) else None
    if profile_country is not None and not _COUNTRY.match(profile_country):
        profile_country = None
    resolved_country = profile_country or phone_country(number)
    state = profile_state({"state": state_trait}, resolved_country) or phone_state(number)
    zone = zone_named(timezone)
    if zone is not None:
        return Place(zone, "profile", resolved_country, state)
    zone = phone_zone(number)
    if zone is not None:
        return Place(zone, "phone", resolved_country, state)
    return Place(default_zone, "store", resolved_country, state)

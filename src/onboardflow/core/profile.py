"""Profile fields as a customer's profile keeps them: each check returns the canonical form, or raises
ValueError saying what to write instead.

Phone numbers in E.164, locales as BCP 47 tags, time zones by IANA name, countries as ISO 3166-1 alpha-2.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import langcodes
import phonenumbers
import pycountry

ADDRESS_TYPES = ("shipping", "billing", "home", "work", "other")
ADDRESSES_TRAIT = "addresses"  # the profile keeps typed addresses in this trait: `customer.addresses`


def check_phone(value: str, *, country: str | None = None) -> str:
    """The number in E.164 (`+15551234567`). A national number is read in `country`, when one is given.

    The check is that the number is possible for its country code (length and prefix), not that it is in
    service: phonenumbers' `is_valid_number` refuses the 555 numbers examples use, and numbers newer than
    its data.
    """
    text = value.strip()
    region = None if text.startswith("+") else country
    if region is None and not text.startswith("+"):
        raise ValueError(f"{value!r} is not in E.164: write + and the country code, e.g. +15551234567")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{value!r} is not a phone number: write E.164, e.g. +15551234567") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(
            f"{value!r} cannot be a phone number of country code +{number.country_code} (wrong length): "
            "write E.164, e.g. +15551234567"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_locale(value: str) -> str:
    """The BCP 47 tag in its standard form (`en_us` -> `en-US`, `iw` -> `he`)."""
    tag = value.strip()
    if not tag or not langcodes.tag_is_valid(tag):
        raise ValueError(f"{value!r} is not a BCP 47 language tag: write one like en, en-US or zh-Hant-TW")
    return langcodes.standardize_tag(tag)


def check_timezone(value: str) -> str:
    """An IANA time zone name, exactly as the tz database spells it."""
    name = value.strip()
    if name not in _zone_names():
        raise ValueError(f"{value!r} is not an IANA time zone: write one like America/New_York, Europe/Paris")
    return name


def check_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, in capitals (`us` -> `US`)."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        hint = " (the United Kingdom is GB)" if code == "UK" else ""
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country{hint}: write a code like US or DE")
    return code


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones() - {"localtime", "Factory"})

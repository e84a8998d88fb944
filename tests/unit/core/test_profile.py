"""Profile fields in their canonical form, or an error that says what to write instead."""

from __future__ import annotations

import re

import pytest

from onboardflow.core.profile import check_country, check_locale, check_phone, check_timezone


@pytest.mark.parametrize(("given", "country", "expected"), [
    ("+15551234567", None, "+15551234567"),  # the fictional 555 numbers of examples are possible numbers
    ("+1 (415) 555-2671", None, "+14155552671"),
    ("(415) 555-2671", "US", "+14155552671"),
    ("020 7183 8750", "GB", "+442071838750"),
    ("+442071838750", "US", "+442071838750"),  # an international number ignores the country
])
def test_phone_numbers_come_out_in_e164(given, country, expected):
    assert check_phone(given, country=country) == expected


@pytest.mark.parametrize(("given", "says"), [
    ("4155552671", "is not in E.164: write + and the country code"),
    ("+1555", "cannot be a phone number of country code +1"),
    ("+abc", "is not a phone number"),
])
def test_phone_numbers_that_cannot_be_say_what_to_write(given, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        check_phone(given)


@pytest.mark.parametrize(("given", "expected"), [
    ("en-US", "en-US"), ("en_us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("pt-BR", "pt-BR"), ("iw", "he"),
])
def test_locales_come_out_as_standard_bcp47_tags(given, expected):
    assert check_locale(given) == expected


@pytest.mark.parametrize("given", ["english", "xx", "en-", "", "e1"])
def test_a_locale_that_is_no_bcp47_tag_is_refused(given):
    with pytest.raises(ValueError, match="not a BCP 47 language tag"):
        check_locale(given)


def test_time_zones_are_iana_names_exactly():
    assert check_timezone(" America/New_York ") == "America/New_York"
    for wrong in ("Mars/Olympus", "localtime", "america/new_york", ""):
        with pytest.raises(ValueError, match="not an IANA time zone"):
            check_timezone(wrong)


def test_countries_are_iso_3166_alpha_2_in_capitals():
    assert check_country("us") == "US"
    with pytest.raises(ValueError, match="the United Kingdom is GB"):
        check_country("UK")
    for wrong in ("USA", "ZZ", "1", ""):
        with pytest.raises(ValueError, match="not an ISO 3166-1 alpha-2 country"):
            check_country(wrong)

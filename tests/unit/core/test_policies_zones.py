"""Where a recipient is: the profile's zone, else the phone number's, else the store's; country and state."""

from __future__ import annotations

from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers import timezone as phone_timezones

from onboardflow.core.policies import PolicyError, locate, phone_zone, zone_named
from onboardflow.core.policies.area_codes import AREA_CODE_STATES
from onboardflow.core.policies.zones import parse_phone, store_zone

STORE = ZoneInfo("Europe/Berlin")


def place(*, timezone=None, phone=None, country=None, traits=None):
    return locate(timezone=timezone, phone=phone, country=country, traits=traits or {}, default_zone=STORE)


def test_the_profile_zone_comes_first():
    found = place(timezone="America/Chicago", phone="+442071234567")
    assert (found.zone.key, found.zone_source) == ("America/Chicago", "profile")


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "America", "", "   ", "../etc/passwd", 42])
def test_an_invalid_profile_zone_falls_through_to_the_phone(bad):
    found = place(timezone=bad, phone="+12125551234")
    assert (found.zone.key, found.zone_source) == ("America/New_York", "phone")


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+1 212 555 1234", "America/New_York"),
        ("+13105551234", "America/Los_Angeles"),
        ("+442071234567", "Europe/London"),
        ("+447400123456", "Europe/London"),  # listed with Guernsey, Isle of Man, Jersey: GB's own wins
        ("+61 2 9123 4567", "Australia/Sydney"),
    ],
)
def test_a_phone_number_gives_its_prefix_zone(phone, zone):
    found = place(phone=phone)
    assert (found.zone.key, found.zone_source) == (zone, "phone")


def test_a_number_spanning_several_zones_takes_the_first_phonenumbers_lists():
    number = phonenumbers.parse("+61412345678")  # an Australian mobile: all of Australia's zones
    listed = phone_timezones.time_zones_for_number(number)
    assert len(listed) > 1 and "Australia/Sydney" in listed and "Australia/Perth" in listed
    assert phone_zone(number) == ZoneInfo(listed[0]) == ZoneInfo("Australia/Adelaide")
    assert place(phone="+61412345678").zone_source == "phone"


def test_of_several_zones_the_first_in_the_number_s_own_country_is_taken():
    uk_mobile = phonenumbers.parse("+447400123456")
    listed = phone_timezones.time_zones_for_number(uk_mobile)
    assert listed[0] == "Europe/Guernsey" and "Europe/London" in listed
    assert phone_zone(uk_mobile) == ZoneInfo("Europe/London")
    guernsey_mobile = phonenumbers.parse("+447911123456")  # the same list, but a Guernsey number
    assert phone_zone(guernsey_mobile) == ZoneInfo("Europe/Guernsey")


@pytest.mark.parametrize("phone", [None, "", "not a number", "+15551234567", "+999123"])
def test_without_a_usable_number_the_store_zone_is_used(phone):
    found = place(phone=phone)
    assert (found.zone, found.zone_source) == (STORE, "store")
    assert found.describe_zone() == "Europe/Berlin (the store's zone)"


def test_a_national_number_is_read_in_the_profile_country():
    assert parse_phone("020 7123 4567") is None
    assert place(phone="020 7123 4567", country="GB").zone.key == "Europe/London"
    assert place(phone="(212) 555-1234", country="us").zone.key == "America/New_York"


def test_the_country_is_the_profile_s_else_the_phone_s():
    assert place(phone="+442071234567", country="IE").country == "IE"
    assert place(phone="+442071234567").country == "GB"
    assert place(phone="+442071234567", country="Britain").country == "GB"  # not a code: falls through
    assert place().country is None


@pytest.mark.parametrize(
    ("traits", "country", "phone", "state"),
    [
        ({"state": "US-FL"}, None, None, "US-FL"),
        ({"state": "fl"}, "US", None, "US-FL"),
        ({"state": "FL"}, None, "+12125551234", "US-FL"),  # the country from the phone, state from the trait
        ({}, None, "+13055551234", "US-FL"),  # Miami's area code
        ({}, None, "+14165551234", "CA-ON"),  # Toronto's
        ({"state": "Florida"}, "US", "+12125551234", "US-NY"),  # not a code: the phone's state
        ({}, None, "+442071234567", None),
        ({"state": 12}, "US", None, None),
    ],
)
def test_the_state_is_the_profile_trait_s_else_the_area_code_s(traits, country, phone, state):
    assert place(traits=traits, country=country, phone=phone).state == state


def test_zone_named_answers_none_for_what_is_not_a_zone():
    assert zone_named("Europe/London") == ZoneInfo("Europe/London")
    assert zone_named("Europe/Londres") is None
    assert zone_named(None) is None


def test_an_unknown_store_zone_says_which_setting_to_fix():
    with pytest.raises(PolicyError, match="ONBOARDFLOW_STORE_TIMEZONE"):
        store_zone("Middle/Earth")


def test_the_area_code_table_agrees_with_the_phonenumbers_geocoder():
    """Each shipped area code names the state most of its geocoder prefixes name, and few are missing."""
    from phonenumbers.geodata import GEOCODE_DATA  # about 100 MB: loaded by this test only

    votes: dict[str, Counter] = defaultdict(Counter)
    for prefix, names in GEOCODE_DATA.items():
        tail = names.get("en", "").rsplit(", ", 1)[-1]
        if prefix.startswith("1") and len(prefix) >= 4 and len(tail) == 2 and tail.isupper():
            votes[prefix[1:4]][tail] += 1
    for area_code, state in AREA_CODE_STATES.items():
        if votes[area_code]:  # codes known only by a full state name have no abbreviation votes
            assert votes[area_code].most_common(1)[0][0] == state.split("-")[1], area_code
    north_american = {
        code for code in votes
        if phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{code}5550123")) in ("US", "CA")
    }
    assert len(north_american - AREA_CODE_STATES.keys()) <= len(north_american) // 50

"""Ingest: canonical events are read as they are written, and every bad one is named with what to fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from onboardflow.core.model import Event
from onboardflow.engine.ingest import EventError, LineError, event_to_json, parse_event, read_events

# The canonical event of DESIGN.md, as written there.
DESIGN_EVENT = {
    "id": "evt_01",
    "name": "Order Completed",
    "customer_id": "c_42",
    "at": "2026-03-01T10:00:00Z",
    "properties": {
        "order_id": "o_9",
        "total": 120.0,
        "currency": "USD",
        "products": [{"product_id": "p_1", "category": "skincare", "price": 60.0, "quantity": 2}],
    },
    "customer": {
        "email": "ana@example.com",
        "phone": "+15551234567",
        "locale": "en-US",
        "timezone": "America/New_York",
        "country": "US",
        "traits": {"type": "retail"},
    },
}


def event(**changes) -> dict:
    """A minimal valid event, with `changes` applied; a value of None removes the field."""
    data = {"id": "e1", "name": "Signed Up", "customer_id": "c1", "at": "2026-03-01T10:00:00Z"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def rejected(data) -> str:
    with pytest.raises(EventError) as caught:
        parse_event(data)
    return str(caught.value)


# valid events


def test_reads_the_canonical_event_of_the_design():
    parsed = parse_event(DESIGN_EVENT)

    assert parsed.id == "evt_01"
    assert parsed.name == "Order Completed"
    assert parsed.customer_id == "c_42"
    assert parsed.at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert parsed.properties["products"][0]["category"] == "skincare"
    assert parsed.customer["timezone"] == "America/New_York"
    assert parsed.customer["traits"] == {"type": "retail"}


def test_the_design_event_goes_through_json_lines_unchanged():
    [parsed] = read_events([json.dumps(DESIGN_EVENT)])

    assert event_to_json(parsed) == DESIGN_EVENT


def test_integer_ids_are_accepted_as_strings():
    parsed = parse_event(event(id=1001, customer_id=42))

    assert parsed.id == "1001"
    assert parsed.customer_id == "42"


def test_times_with_an_offset_are_stored_in_utc():
    parsed = parse_event(event(at="2026-03-01T12:30:00+02:00"))

    assert parsed.at == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert parsed.at.tzinfo is UTC


def test_properties_and_customer_are_optional():
    parsed = parse_event(event())

    assert parsed.properties == {}
    assert parsed.customer is None


def test_event_to_json_is_the_inverse_of_parse_event():
    at = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    original = Event("e9", "Order Delivered", "c9", at, {"order_id": "o1"})

    assert parse_event(event_to_json(original)) == original


# bad events: each names what to fix


@pytest.mark.parametrize("name", ["id", "name", "customer_id", "at"])
def test_a_missing_required_field_is_named(name):
    assert f"missing field {name!r}" in rejected(event(**{name: None}))


@pytest.mark.parametrize("name", ["id", "name", "customer_id", "at"])
def test_an_empty_required_field_counts_as_missing(name):
    assert f"missing field {name!r}" in rejected(event(**{name: ""}))


def test_every_missing_field_is_named_at_once():
    message = rejected({"properties": {}})

    for name in ("id", "name", "customer_id", "at"):
        assert f"missing field {name!r}" in message


def test_an_unknown_top_level_field_is_named_and_points_to_properties():
    message = rejected(event(order_id="o_9"))

    assert "unknown field 'order_id'" in message
    assert "properties" in message


def test_an_unknown_customer_field_is_named_with_its_path():
    message = rejected(event(customer={"email": "a@example.com", "mobile": "+1555"}))

    assert "unknown field 'customer.mobile'" in message
    assert "phone" in message  # the message lists the fields a customer block has


def test_a_time_without_a_zone_is_rejected_with_a_fix():
    message = rejected(event(at="2026-03-01T10:00:00"))

    assert "'at' has no time zone" in message
    assert "2026-03-01T10:00:00Z" in message


def test_a_date_without_a_time_or_zone_is_rejected():
    assert "no time zone" in rejected(event(at="2026-03-01"))


@pytest.mark.parametrize("value", ["yesterday", "03/01/2026 10:00", "2026-13-01T10:00:00Z"])
def test_a_time_that_is_not_iso_8601_is_rejected(value):
    message = rejected(event(at=value))

    assert "'at' is not an ISO-8601 time" in message
    assert repr(value) in message


def test_a_time_that_is_not_a_string_is_rejected():
    assert "'at' must be an ISO-8601 string with a zone" in rejected(event(at=1772359200))


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "EST5EDT/Nowhere", "../../etc/passwd"])
def test_a_time_zone_that_is_not_iana_is_rejected(zone):
    message = rejected(event(customer={"timezone": zone}))

    assert "'customer.timezone'" in message
    assert "is not an IANA time zone" in message


@pytest.mark.parametrize("properties", [[1, 2], "order o_9", 5])
def test_properties_must_be_an_object(properties):
    assert "'properties' must be an object" in rejected(event(properties=properties))


def test_the_customer_block_must_be_an_object():
    assert "'customer' must be an object" in rejected(event(customer="ana@example.com"))


@pytest.mark.parametrize("name", ["traits", "consent"])
def test_customer_traits_and_consent_must_be_objects(name):
    assert f"'customer.{name}' must be an object" in rejected(event(customer={name: ["vip"]}))


@pytest.mark.parametrize("value", [1.5, ["c1"], {"id": "c1"}, True])
def test_ids_must_be_strings_or_integers(value):
    assert "'customer_id' must be a string" in rejected(event(customer_id=value))


@pytest.mark.parametrize("data", [[DESIGN_EVENT], "evt_01", 7, None])
def test_a_value_that_is_not_an_object_is_rejected(data):
    message = rejected(data)

    assert "an event is a JSON object" in message
    assert type(data).__name__ in message


def test_every_problem_of_one_event_is_reported_together():
    message = rejected({"id": "e1", "name": "X", "at": "2026-03-01", "colour": "red", "properties": []})

    assert "missing field 'customer_id'" in message
    assert "unknown field 'colour'" in message
    assert "no time zone" in message
    assert "'properties' must be an object" in message


# read_events: line by line, nothing good lost


def lines_of(*items) -> list[str]:
    return [item if isinstance(item, str) else json.dumps(item) for item in items]


def test_a_malformed_json_line_is_reported_with_its_number():
    found = list(read_events(lines_of(event(id="e1"), '{"id": "e2", "name": ', event(id="e3"))))

    errors = [item for item in found if isinstance(item, LineError)]
    assert len(errors) == 1
    assert errors[0].line == 2
    assert "not valid JSON" in errors[0].message
    assert "column" in errors[0].message
    assert str(errors[0]).startswith("line 2: not valid JSON")
    assert errors[0].text == '{"id": "e2", "name":'


def test_a_line_that_is_not_an_object_is_reported():
    [error] = read_events(['["Order Completed", "c1"]'])

    assert isinstance(error, LineError)
    assert error.line == 1
    assert "an event is a JSON object" in error.message


def test_a_bad_event_line_carries_the_reason_and_the_text():
    text = json.dumps(event(at="2026-03-01T10:00:00"))
    [error] = read_events([text])

    assert error == LineError(1, error.message, text)
    assert "no time zone" in error.message


def test_good_lines_after_bad_ones_still_come_through():
    found = list(
        read_events(
            lines_of(
                "not json at all",
                event(id="e1"),
                event(id="e2", at="tomorrow"),
                [1, 2, 3],
                event(id="e3", customer_id=3),
                event(id="e4", name=None),
                event(id="e5"),
            )
        )
    )

    assert [item.id for item in found if isinstance(item, Event)] == ["e1", "e3", "e5"]
    assert [item.line for item in found if isinstance(item, LineError)] == [1, 3, 4, 6]


def test_items_come_out_in_file_order():
    found = list(read_events(lines_of(event(id="e1"), "{", event(id="e3"))))

    assert [type(item).__name__ for item in found] == ["Event", "LineError", "Event"]


def test_blank_lines_are_skipped_but_still_counted():
    found = list(read_events(["\n", json.dumps(event(id="e1")) + "\n", "   \n", "\t\n", "{oops\n", ""]))

    assert [item.id for item in found if isinstance(item, Event)] == ["e1"]
    [error] = [item for item in found if isinstance(item, LineError)]
    assert error.line == 5
    assert error.text == "{oops"


def test_surrounding_whitespace_and_line_endings_are_ignored():
    [parsed] = read_events(["  " + json.dumps(event(id="e1")) + "  \r\n"])

    assert parsed.id == "e1"


def test_reads_from_an_open_file(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(DESIGN_EVENT) + "\n\n" + "{broken\n", encoding="utf-8")

    with path.open(encoding="utf-8") as handle:
        found = list(read_events(handle))

    assert isinstance(found[0], Event)
    assert isinstance(found[1], LineError) and found[1].line == 3


# what the HTTP API meets: times that overflow in UTC, profile fields of the wrong type, NUL characters


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_out_of_range_in_utc_is_rejected_not_crashed_on(value):
    with pytest.raises(EventError, match="'at' is out of range in UTC"):
        parse_event(event(at=value))


@pytest.mark.parametrize("name", ["email", "phone", "locale", "timezone", "country"])
def test_profile_fields_of_the_customer_block_must_be_strings(name):
    with pytest.raises(EventError, match=rf"'customer.{name}' must be a string, got int"):
        parse_event(event(customer={name: 42}))


@pytest.mark.parametrize(("changes", "where"), [
    ({"properties": {"note": "a\x00b"}}, "'properties.note'"),
    ({"properties": {"items": [{"sku": "ok"}, {"sku": "\x00"}]}}, "'properties.items[1].sku'"),
    ({"customer": {"traits": {"bad\x00key": 1}}}, "the key 'customer.traits.bad\x00key'"),
    ({"name": "Signed\x00Up"}, "'name'"),
])
def test_a_nul_character_anywhere_is_named_with_its_place(changes, where):
    with pytest.raises(EventError) as raised:
        parse_event(event(**changes))
    assert f"{where} holds a NUL character" in str(raised.value)


def test_text_that_only_spells_a_nul_escape_is_kept():
    parsed = parse_event(event(properties={"note": "\\u0000 is how JSON writes NUL"}))
    assert parsed.properties["note"].startswith("\\u0000")


def test_an_integer_past_64_bits_is_kept_exactly():
    parsed = parse_event(event(properties={"big": 2**70}))
    assert parsed.properties["big"] == 2**70


def test_a_lone_surrogate_is_named_with_its_place():
    with pytest.raises(EventError, match="'properties.note' holds a lone UTF-16 surrogate"):
        parse_event(event(properties={"note": "a\ud800b", "big": 2**70}))

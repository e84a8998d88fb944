"""Segment calls as canonical events: track and identify by Segment's field names, the batch's shared
context, clock-skew correction, what is ignored, and errors in the caller's terms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboardflow.engine.ingest import EventError, parse_event
from onboardflow.integrations.segment import (
    IDENTIFY,
    Ignored,
    SegmentError,
    canonical_event,
    derived_id,
    in_segment_terms,
    segment_messages,
)

RECEIVED = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)

# shaped as analytics.js sends a track call (fields this mapping does not use included)
TRACK = {
    "type": "track", "messageId": "ajs-5f0c1a", "userId": "c_42", "anonymousId": "23adfd82-aa0f",
    "event": "Order Completed", "properties": {"order_id": "o_9", "total": 120.0, "currency": "USD"},
    "timestamp": "2026-03-01T10:00:00.250Z", "originalTimestamp": "2026-03-01T09:59:58Z",
    "sentAt": "2026-03-01T10:00:01Z", "receivedAt": "2026-03-01T10:00:05Z", "integrations": {},
    "context": {"library": {"name": "analytics.js", "version": "2.11.1"}, "ip": "203.0.113.7",
                "locale": "en-US", "timezone": "America/New_York",
                "traits": {"email": "ana@example.com", "plan": "gold"}},
}
IDENTIFY_CALL = {
    "type": "identify", "messageId": "ajs-77aa", "userId": "c_42", "timestamp": "2026-03-01T09:58:00Z",
    "traits": {"email": "ana@example.com", "phone": "+15551234567", "firstName": "Ana",
               "address": {"city": "Boston", "country": "US"}, "createdAt": "2025-12-01T00:00:00Z"},
    "context": {"locale": "en-US"},
}


def mapped(message: dict) -> dict:
    result = canonical_event(message, received_at=RECEIVED)
    assert not isinstance(result, Ignored)
    return result


def test_a_track_call_becomes_the_canonical_event_with_its_context_traits_as_the_profile():
    event = parse_event(mapped(TRACK))

    assert (event.id, event.name, event.customer_id) == ("ajs-5f0c1a", "Order Completed", "c_42")
    assert event.at == datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)
    assert event.properties == {"order_id": "o_9", "total": 120.0, "currency": "USD"}
    assert event.customer == {"email": "ana@example.com", "locale": "en-US", "timezone": "America/New_York",
                              "traits": {"plan": "gold"}}


def test_an_identify_call_becomes_an_identify_event_whose_traits_fill_the_profile():
    event = parse_event(mapped(IDENTIFY_CALL))

    assert (event.id, event.name, event.customer_id, event.properties) == ("ajs-77aa", IDENTIFY, "c_42", {})
    assert event.customer == {
        "email": "ana@example.com", "phone": "+15551234567", "country": "US", "locale": "en-US",
        "traits": {"firstName": "Ana", "address": {"city": "Boston", "country": "US"},
                   "createdAt": "2025-12-01T00:00:00Z"},
    }


def test_without_a_user_id_the_anonymous_id_names_the_customer():
    event = mapped({**TRACK, "userId": None})
    assert event["customer_id"] == "23adfd82-aa0f"


def test_without_timestamp_the_device_time_is_corrected_by_how_far_its_clock_was_off():
    # the device said 09:59:58 and sent at 10:00:01 by its clock; it arrived at 10:00:05: 4 s behind
    event = mapped({**TRACK, "timestamp": None})
    assert event["at"] == "2026-03-01T10:00:02Z"


def test_a_device_clock_off_by_millennia_keeps_its_own_time_instead_of_overflowing():
    event = mapped({**TRACK, "timestamp": None, "originalTimestamp": "0913-08-19T12:04:39-02:59",
                    "sentAt": "7209-01-29T17:29:33+18:44"})
    assert event["at"] == "0913-08-19T12:04:39-02:59"


def test_without_any_time_it_happened_when_it_arrived():
    event = mapped({key: value for key, value in TRACK.items()
                    if key not in ("timestamp", "originalTimestamp", "sentAt")})
    assert event["at"] == "2026-03-01T10:00:05Z"


def test_without_a_message_id_the_same_call_gets_the_same_id():
    call = {key: value for key, value in TRACK.items() if key != "messageId"}
    first, again = mapped(call)["id"], mapped(dict(call))["id"]

    assert first == again == derived_id(call) and first.startswith("seg_")
    assert mapped({**call, "event": "Order Refunded"})["id"] != first


@pytest.mark.parametrize("kind", ["page", "screen", "group", "alias"])
def test_calls_onboardflow_does_not_use_are_ignored_saying_so(kind):
    result = canonical_event({"type": kind, "userId": "c_42"}, received_at=RECEIVED)
    assert result == Ignored(kind)
    assert "track and identify" in result.detail


@pytest.mark.parametrize(("message", "says"), [
    ({"type": "track", "event": "x"}, "give 'userId'"),
    ({"type": "Track", "userId": "c"}, "'type' is 'Track'"),
    ({"userId": "c", "event": "x"}, "'type' is None"),
    ({"type": "track", "userId": "c", "properties": [1]}, "'properties' must be an object"),
    ({"type": "track", "userId": "c", "context": {"traits": "x"}}, "'context.traits' must be an object"),
    ("track", "a Segment call is a JSON object"),
])
def test_a_call_that_cannot_be_mapped_says_what_to_fix(message, says):
    with pytest.raises(SegmentError, match=says):
        canonical_event(message, received_at=RECEIVED)


def test_errors_of_the_canonical_rules_name_segment_fields():
    with pytest.raises(EventError) as raised:
        parse_event(mapped({**TRACK, "event": None, "timestamp": "2026-03-01T10:00:00",
                            "context": {"timezone": "Mars/Olympus"}}))

    said = in_segment_terms(str(raised.value))
    assert "missing field 'event'" in said
    assert "'timestamp' has no time zone" in said
    assert "'timezone' 'Mars/Olympus' is not an IANA time zone" in said


def test_a_batch_gives_its_context_and_sent_at_to_each_call_without_its_own():
    body = {"batch": [{"type": "track", "context": {"ip": "1.2.3.4"}},
                      {"type": "identify", "sentAt": "2026-03-01T10:00:09Z"}],
            "context": {"ip": "9.9.9.9", "locale": "de-DE"}, "sentAt": "2026-03-01T10:00:01Z"}

    first, second = segment_messages(body)

    assert first["context"] == {"ip": "1.2.3.4", "locale": "de-DE"}
    assert first["sentAt"] == "2026-03-01T10:00:01Z"
    assert second["context"] == {"ip": "9.9.9.9", "locale": "de-DE"}
    assert second["sentAt"] == "2026-03-01T10:00:09Z"


def test_a_single_call_is_a_batch_of_one_and_other_bodies_are_refused():
    assert segment_messages(TRACK) == [TRACK]
    with pytest.raises(SegmentError, match="'batch' must be a list"):
        segment_messages({"batch": {"type": "track"}})
    with pytest.raises(SegmentError, match="a Segment call"):
        segment_messages([TRACK])


def test_a_call_without_message_id_holding_a_huge_integer_still_gets_an_id():
    call = {"type": "track", "userId": "c", "event": "x", "properties": {"big": 2**70}}
    assert derived_id(call) == derived_id(dict(call)) and derived_id(call).startswith("seg_")

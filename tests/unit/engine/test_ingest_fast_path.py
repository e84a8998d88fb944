"""The ingest check's quick path (`_plainly_valid`, on the API's hot path) never decides otherwise than the
whole check: an event it takes is the very event the whole check makes, and what it does not take is left
to the whole check, which says what is wrong."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from onboardflow.engine.ingest import EventError, _plainly_valid, checked_event, parse_event

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.sampled_from(["", "\x00", "a\x00b"])
SCALAR = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | TEXT
TIMES = st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00+01:00", "2026-03-01 10:00",
                         "0001-01-01T00:00:00+01:00", "soon", "", "2026-03-01T10:00:00.5-03:30"])
ZONES = st.sampled_from(["America/New_York", "Mars/Olympus", "../etc/passwd", "UTC", ""])
NAMES = st.sampled_from(["Order Completed", "Consent Granted", "Unsubscribed", ""]) | TEXT
JSONISH = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)
CUSTOMER = st.none() | JSONISH | st.fixed_dictionaries({}, optional={
    "email": SCALAR, "phone": SCALAR, "timezone": ZONES | SCALAR, "country": SCALAR, "locale": SCALAR,
    "traits": JSONISH, "consent": JSONISH, "nickname": SCALAR})
EVENTS = st.fixed_dictionaries({}, optional={
    "id": SCALAR, "name": NAMES | SCALAR, "customer_id": SCALAR, "at": TIMES | SCALAR,
    "properties": JSONISH | st.fixed_dictionaries({}, optional={"channel": SCALAR, "purpose": SCALAR}),
    "customer": CUSTOMER, "extra": SCALAR})


def whole(data):
    return whole_or_error(checked_event, data)


@settings(max_examples=600, deadline=None)
@given(EVENTS)
def test_the_quick_path_takes_only_what_the_whole_check_takes_and_makes_the_same_event(data):
    quick, outcome = _plainly_valid(data, storable=False), whole(data)

    if quick is not None:
        assert quick == outcome
    with_quick_path = whole_or_error(parse_event, data)
    assert str(with_quick_path) == str(outcome) and type(with_quick_path) is type(outcome)


def whole_or_error(check, data):
    try:
        return check(data)
    except EventError as error:
        return error


def test_a_plain_event_is_taken_by_the_quick_path():
    data = {"id": "e1", "name": "Order Completed", "customer_id": "c1", "at": "2026-03-01T10:00:00Z",
            "properties": {"total": 1}, "customer": {"email": "a@example.com", "timezone": "Europe/Lisbon"}}

    assert _plainly_valid(data, storable=False) == checked_event(data)

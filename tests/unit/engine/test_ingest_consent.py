"""Ingest checks consent events, so the engine never meets one it cannot record."""

from __future__ import annotations

import json

import pytest

from onboardflow.engine.ingest import EventError, LineError, parse_event, read_events


def test_ingest_rejects_a_consent_event_saying_what_to_fix():
    bad = {"id": "e1", "name": "Consent Granted", "customer_id": "c1", "at": "2026-03-01T10:00:00Z",
           "properties": {"purpose": "newsletter", "evidence": "yes"}}

    with pytest.raises(EventError) as error:
        parse_event(bad)

    message = str(error.value)
    assert "'Consent Granted' needs properties.channel" in message
    assert "properties.purpose must be one of" in message
    assert "properties.evidence must be an object" in message


def test_a_good_consent_event_is_accepted_and_a_bad_one_reported_by_line():
    good = {"id": "e1", "name": "Consent Withdrawn", "customer_id": "c1", "at": "2026-03-01T10:00:00Z",
            "properties": {"channel": "sms", "source": "support", "evidence": {"agent": "jo"}}}
    bad = {**good, "id": "e2", "properties": {"channel": ""}}

    items = list(read_events([json.dumps(good), json.dumps(bad)]))

    assert items[0].properties["channel"] == "sms"
    assert isinstance(items[1], LineError) and items[1].line == 2
    assert "needs properties.channel" in items[1].message

"""Consent records, the events that carry them, and who may be sent what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.consent import (
    GRANTED,
    WITHDRAWN,
    carries_consent,
    consent_event_problems,
    consent_record,
    consents_carried_by,
    consents_from_event,
    current_state,
    may_receive,
    policy_consent,
)
from onboardflow.core.model import Event
from onboardflow.core.policies import consent_decision

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def line(status: str, minutes: float = 0, *, channel: str = "email", purpose: str = "marketing"):
    return consent_record(customer_id="c1", channel=channel, purpose=purpose, status=status, source="api",
                          at=T0 + timedelta(minutes=minutes))


# records


def test_a_record_id_depends_on_its_content_so_the_same_statement_is_one_line():
    assert line(GRANTED).id == line(GRANTED).id
    assert line(GRANTED).id != line(WITHDRAWN).id
    assert line(GRANTED, 0).id != line(GRANTED, 1).id


def test_a_record_with_bad_fields_names_each_one():
    with pytest.raises(ValueError) as error:
        consent_record(customer_id="c1", channel="", purpose="newsletter", status="maybe", source="api",
                       at=T0)

    message = str(error.value)
    assert "channel must name a channel" in message
    assert "purpose must be one of transactional, marketing, education, engagement, promotion" in message
    assert "status must be granted or withdrawn; got 'maybe'" in message


def test_a_record_needs_an_aware_time():
    with pytest.raises(ValueError, match="no time zone"):
        consent_record(customer_id="c1", channel="email", purpose="marketing", status=GRANTED, source="api",
                       at=datetime(2026, 3, 1, 10, 0))


# events


def test_a_consent_event_carries_one_record_per_channel():
    event = Event("e1", "Consent Granted", "c1", T0, {"channel": ["email", "sms"], "purpose": "promotion",
                                                      "text_version": 3, "evidence": {"ip": "203.0.113.7"}})

    records = consents_from_event(event)

    assert [(r.channel, r.purpose, r.status, r.source, r.text_version) for r in records] == [
        ("email", "promotion", GRANTED, "event", "3"),
        ("sms", "promotion", GRANTED, "event", "3"),
    ]
    assert records[0].evidence == {"ip": "203.0.113.7", "event_id": "e1"}
    assert records[0].id != records[1].id


def test_an_unsubscribed_event_without_a_channel_withdraws_email_marketing():
    [record] = consents_from_event(Event("e1", "Unsubscribed", "c1", T0, {}))

    assert (record.channel, record.purpose, record.status) == ("email", "marketing", WITHDRAWN)


def test_other_events_and_malformed_consent_events_carry_no_record():
    assert consents_from_event(Event("e1", "Order Completed", "c1", T0, {"channel": "email"})) == []
    assert consents_from_event(Event("e2", "Consent Granted", "c1", T0, {})) == []


def test_consent_event_problems_ignore_other_events():
    assert consent_event_problems("Order Completed", {"purpose": "nonsense"}) == []


# state and the sending rule


def test_the_state_keeps_the_latest_record_per_channel_and_purpose():
    records = [line(GRANTED, 0), line(WITHDRAWN, 10), line(GRANTED, 5, channel="sms")]

    state = current_state(records)

    assert state[("email", "marketing")] == records[1]
    assert state[("sms", "marketing")] == records[2]


def test_transactional_messages_need_no_consent():
    assert may_receive({}, "email", "transactional") is True


def test_marketing_needs_a_grant_where_opt_in_is_required():
    assert may_receive({}, "email", "promotion") is False
    assert may_receive({}, "email", "promotion", opt_in_required=False) is True
    assert may_receive(current_state([line(GRANTED)]), "email", "promotion") is True
    assert may_receive(current_state([line(GRANTED)]), "sms", "promotion") is False


def test_a_withdrawal_stops_marketing_even_where_opt_in_is_not_required():
    state = current_state([line(GRANTED, 0), line(WITHDRAWN, 10)])

    assert may_receive(state, "email", "education", opt_in_required=False) is False


def test_the_later_of_the_all_marketing_record_and_the_topics_record_decides():
    unsubscribed_after_topic = current_state([line(GRANTED, 0, purpose="promotion"), line(WITHDRAWN, 10)])
    topic_after_unsubscribe = current_state([line(WITHDRAWN, 0), line(GRANTED, 10, purpose="promotion")])

    assert may_receive(unsubscribed_after_topic, "email", "promotion") is False
    assert may_receive(topic_after_unsubscribe, "email", "promotion") is True
    assert may_receive(topic_after_unsubscribe, "email", "education") is False


# statements in an event's customer block


def with_block(consent) -> Event:
    return Event("e9", "Signed Up", "c1", T0, {}, {"email": "ana@example.com", "consent": consent})


def test_a_customer_block_statement_is_a_ledger_line_with_its_extra_fields_as_evidence():
    event = with_block({"email": {"status": "granted", "source": "shopify", "at": "2026-02-01T09:00:00+01:00",
                                  "opt_in_level": "confirmed_opt_in", "evidence": {"ip": "203.0.113.7"}},
                        "sms": {"status": "withdrawn", "purpose": "promotion"}})

    email, sms = consents_carried_by(event)

    assert (email.channel, email.status, email.source) == ("email", GRANTED, "shopify")
    assert email.purpose == "marketing"
    assert email.at == datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    assert email.evidence == {"opt_in_level": "confirmed_opt_in", "ip": "203.0.113.7", "event_id": "e9"}
    assert (sms.channel, sms.status, sms.purpose) == ("sms", WITHDRAWN, "promotion")
    assert (sms.source, sms.at) == ("event", T0)


def test_block_entries_of_another_shape_stay_in_the_profile_only():
    event = with_block({"email": "yes", "sms": {"status": "maybe"},
                        "push": {"status": "granted", "purpose": "x"},
                        "whatsapp": {"status": "granted", "at": "not a time"}})

    [line] = consents_carried_by(event)

    assert (line.channel, line.at) == ("whatsapp", T0)  # an unreadable time: the event's


def test_only_events_that_can_carry_consent_are_looked_at():
    assert carries_consent(Event("e1", "Order Completed", "c1", T0, {})) is False
    assert carries_consent(Event("e1", "Order Completed", "c1", T0, {}, {"email": "a@b.c"})) is False
    assert carries_consent(with_block({})) is True
    assert carries_consent(Event("e1", "Unsubscribed", "c1", T0, {})) is True


# the ledger as the sending policies take it


def test_the_policies_read_the_ledgers_state_with_the_later_statement_winning():
    state = current_state([line(GRANTED, 0), line(WITHDRAWN, 10), line(GRANTED, 20, purpose="promotion")])

    consent = policy_consent(state)

    def verdict(topic: str) -> str:
        return consent_decision(channel="email", purpose=topic, has_address=True, consent=consent,
                                country="US", is_existing_customer=True).action

    assert consent == {("email", "education"): WITHDRAWN, ("email", "engagement"): WITHDRAWN,
                       ("email", "promotion"): GRANTED}
    assert (verdict("promotion"), verdict("education"), verdict("transactional")) == ("send", "skip", "send")

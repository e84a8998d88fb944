"""The consent ledger on every store: append-only, idempotent by id, its state the latest line per channel
and purpose; written by the engine in the same transaction as the consent event that carries it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.consent import GRANTED, WITHDRAWN, consent_record
from onboardflow.core.model import Event
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine, process_events
from onboardflow.ports import Changes

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def line(status: str = GRANTED, minutes: float = 0, *, customer_id: str = "c1", channel: str = "email",
         purpose: str = "marketing", source: str = "api", **extra):
    return consent_record(
        customer_id=customer_id, channel=channel, purpose=purpose, status=status, source=source,
        at=at(minutes), **extra,
    )


def consent_event(event_id: str, name: str = "Consent Granted", minutes: float = 0, **properties) -> Event:
    properties = {"channel": "email", "purpose": "marketing", **properties}
    return Event(event_id, name, "c1", at(minutes), properties)


def test_a_recorded_line_reads_back_equal_with_its_evidence_and_text_version(store):
    granted = line(text_version="2026-01", evidence={"ip": "203.0.113.7", "double_opt_in": True,
                                                     "confirmed_at": at(5), "form": {"page": "/signup"}})

    assert store.record_consent(granted) is True

    assert store.consents("c1") == [granted]


def test_the_same_line_twice_is_written_once(store):
    granted = line()

    assert store.record_consent(granted) is True
    assert store.record_consent(granted) is False

    assert store.consents("c1") == [granted]


def test_the_ledger_is_in_time_order_whatever_the_order_of_writing(store):
    late, early = line(WITHDRAWN, 30), line(GRANTED, 10)
    store.record_consent(late)
    store.record_consent(early)

    assert store.consents("c1") == [early, late]


def test_the_ledger_holds_only_the_asked_customers_lines(store):
    mine, theirs = line(), line(customer_id="c2")
    store.record_consent(mine)
    store.record_consent(theirs)

    assert store.consents("c1") == [mine]
    assert store.consents("nobody") == []


def test_the_state_is_the_latest_line_per_channel_and_purpose(store):
    lines = [
        line(GRANTED, 0, channel="email"),
        line(WITHDRAWN, 20, channel="email"),
        line(GRANTED, 10, channel="sms"),
        line(GRANTED, 5, channel="email", purpose="transactional"),
    ]
    for each in reversed(lines):  # written newest first: time decides, not the order of writing
        store.record_consent(each)

    state = store.consent_state("c1")

    assert {key: record.status for key, record in state.items()} == {
        ("email", "marketing"): WITHDRAWN,
        ("sms", "marketing"): GRANTED,
        ("email", "transactional"): GRANTED,
    }
    assert state[("email", "marketing")] == lines[1]


def test_of_two_lines_at_the_same_time_the_one_written_later_decides(store):
    store.record_consent(line(GRANTED, 0, source="shopify"))
    store.record_consent(line(WITHDRAWN, 0, source="unsubscribe"))

    assert store.consent_state("c1")[("email", "marketing")].status == WITHDRAWN


def test_an_unknown_customer_has_no_consent_state(store):
    assert store.consent_state("nobody") == {}


def test_lines_in_a_batch_are_written_with_it_and_a_replay_writes_nothing_new(store):
    changes = Changes(consents=[line(GRANTED, 0), line(WITHDRAWN, 5, channel="sms")])

    for _ in range(2):
        with store.transaction() as tx:
            tx.apply(changes)

    assert len(store.consents("c1")) == 2
    assert store.counts()["events"] == 0  # a batch of ledger lines alone is still a batch worth writing
    assert bool(Changes(consents=[line()])) is True


# the engine writes the lines that consent events carry


def engine_on(store) -> Engine:
    return Engine(store, clock=VirtualClock(T0))


def test_a_consent_event_through_the_engine_adds_a_ledger_line(store):
    evidence = {"ip": "203.0.113.7", "double_opt_in": True}
    granting = consent_event("e1", text_version="v3", evidence=evidence, source="signup")

    result = engine_on(store).ingest([granting])


    [granted] = store.consents("c1")
    assert result.events == 1
    assert (granted.channel, granted.purpose, granted.status, granted.source) == (
        "email", "marketing", GRANTED, "signup"
    )
    assert (granted.at, granted.text_version) == (T0, "v3")
    assert granted.evidence == {**evidence, "event_id": "e1"}


def test_withdrawal_and_unsubscribe_events_withdraw_and_the_latest_decides(store):
    engine = engine_on(store)
    engine.ingest([consent_event("e1", minutes=0)])
    engine.ingest([Event("e2", "Unsubscribed", "c1", at(10), {})])  # an email provider's report: email
    engine.ingest([consent_event("e3", "Consent Withdrawn", 20, channel=["sms", "whatsapp"])])

    state = store.consent_state("c1")

    assert {key: r.status for key, r in state.items()} == {
        ("email", "marketing"): WITHDRAWN,
        ("sms", "marketing"): WITHDRAWN,
        ("whatsapp", "marketing"): WITHDRAWN,
    }
    assert state[("email", "marketing")].source == "event"


def test_the_same_consent_event_twice_adds_one_line(store):
    engine = engine_on(store)
    engine.ingest([consent_event("e1"), consent_event("e1")])
    engine.ingest([consent_event("e1")])

    assert len(store.consents("c1")) == 1


def test_a_queued_consent_event_is_written_by_a_worker(store):
    engine = engine_on(store)
    engine.enqueue([consent_event("e1")])

    engine.work(partitions=64)  # every partition, so the one holding c1 too

    assert [r.status for r in store.consents("c1")] == [GRANTED]


def test_a_rolled_back_batch_leaves_neither_the_event_nor_its_ledger_line(sql_store):
    engine = engine_on(sql_store)

    with pytest.raises(RuntimeError), sql_store.transaction() as tx:
        process_events(tx, engine.catalog, [consent_event("e1")], now=T0)
        raise RuntimeError("the worker died before commit")

    assert sql_store.consents("c1") == []
    assert sql_store.counts()["events"] == 0


def test_statements_in_an_events_customer_block_reach_the_ledger(store):
    block = {"email": "ana@example.com",
             "consent": {"email": {"status": "granted", "source": "shopify", "opt_in_level": "single_opt_in"},
                         "sms": "not a statement"}}

    engine_on(store).ingest([Event("e1", "Signed Up", "c1", at(0), {}, block)])

    [line] = store.consents("c1")
    assert (line.channel, line.status, line.source, line.at) == ("email", GRANTED, "shopify", T0)
    assert store.customer("c1").consent["sms"] == "not a statement"  # the profile keeps the block as given

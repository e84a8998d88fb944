"""Idempotency-Key records as every store keeps them: one request claims a key, a second gets the kept
record (in flight or answered), an expired or abandoned record gives way, and release frees the key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from onboardflow.ports import IdempotencyRecord

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
STALE = timedelta(seconds=60)


def record(key: str = "k1", *, at: datetime = T0, api_key_id: str = "key_a", fingerprint: str = "f1"):
    return IdempotencyRecord(api_key_id, key, fingerprint, created_at=at, locked_at=at)


def claim(store, claimed: IdempotencyRecord, *, now: datetime | None = None):
    now = now or claimed.created_at
    return store.claim_idempotency_key(claimed, stale_before=now - STALE, expired_before=now - DAY)


def test_the_first_request_holds_the_key_and_a_second_sees_it_in_flight(store):
    first = record()

    assert claim(store, first) is None
    second = claim(store, record(fingerprint="f2", at=T0 + timedelta(seconds=1)))

    assert second == first and second.is_in_flight
    assert store.idempotency_record("key_a", "k1") == first


def test_the_answer_is_kept_and_given_to_every_later_request(store):
    first = record()
    claim(store, first)
    store.save_idempotent_answer(first, status=202, body='{"queued": ["e1"]}')

    later = claim(store, record(at=T0 + timedelta(hours=23)))

    assert later == replace(first, status=202, body='{"queued": ["e1"]}')
    assert not later.is_in_flight


def test_keys_are_kept_apart_per_api_key(store):
    assert claim(store, record(api_key_id="key_a")) is None
    assert claim(store, record(api_key_id="key_b")) is None
    assert store.idempotency_record("key_b", "k1").api_key_id == "key_b"


def test_an_answer_older_than_a_day_gives_way_to_a_new_request(store):
    first = record()
    claim(store, first)
    store.save_idempotent_answer(first, status=202, body="{}")

    newer = record(fingerprint="f2", at=T0 + DAY + timedelta(seconds=1))

    assert claim(store, newer) is None
    assert store.idempotency_record("key_a", "k1") == newer


def test_a_request_in_flight_too_long_is_taken_over_and_its_late_answer_is_not_kept(store):
    abandoned = record()
    claim(store, abandoned)
    assert claim(store, record(at=T0 + STALE - timedelta(seconds=1))) is not None

    retry = record(at=T0 + STALE + timedelta(seconds=1))
    assert claim(store, retry) is None
    store.save_idempotent_answer(abandoned, status=202, body="late")
    store.release_idempotency_key(abandoned)

    assert store.idempotency_record("key_a", "k1") == retry


def test_released_keys_are_free_again(store):
    first = record()
    claim(store, first)
    store.release_idempotency_key(first)

    assert store.idempotency_record("key_a", "k1") is None
    assert claim(store, record(fingerprint="f2")) is None


def test_an_answered_key_cannot_be_released(store):
    first = record()
    claim(store, first)
    store.save_idempotent_answer(first, status=202, body="{}")
    store.release_idempotency_key(first)

    assert store.idempotency_record("key_a", "k1").status == 202


def test_purging_drops_the_records_created_before_the_cut(store):
    for minutes, key in ((0, "old"), (10, "mid"), (20, "new")):
        claim(store, record(key, at=T0 + timedelta(minutes=minutes)))

    assert store.purge_idempotency_keys(before=T0 + timedelta(minutes=10)) == 1
    assert store.idempotency_record("key_a", "old") is None
    assert store.idempotency_record("key_a", "mid") is not None


def test_of_requests_claiming_one_key_at_once_exactly_one_holds_it(store):
    from concurrent.futures import ThreadPoolExecutor

    attempts = [record(fingerprint=f"f{n}") for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda claimed: claim(store, claimed), attempts))

    holders = [claimed for claimed, answer in zip(attempts, answers, strict=True) if answer is None]
    assert len(holders) == 1
    assert all(answer == holders[0] for answer in answers if answer is not None)

"""Webhook calls as every store keeps them: written by the engine, claimed with a lease, recorded, listed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.effects import CallWebhook
from onboardflow.ports import Changes

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def call(call_id: str, customer_id: str = "c1", minutes: float = 0) -> CallWebhook:
    return CallWebhook(
        call_id=call_id,
        enrollment_id=f"enr_{customer_id}",
        journey_id="loyalty",
        version=2,
        customer_id=customer_id,
        step_id="crm",
        url="https://crm.example/hooks/{{ customer.id }}",
        method="PUT",
        headers={"x-shop": "demo"},
        body='{"email": {{ customer.email | json }}}',
        secret="CRM_WEBHOOK_SECRET",
        timeout=timedelta(seconds=2.5),
        retries=4,
        scope={"customer": {"id": customer_id, "first_order_at": at(-60)}, "trigger": {"order_id": "o_9"}},
        at=at(minutes),
    )


def write(store, *calls: CallWebhook) -> None:
    with store.transaction() as tx:
        tx.apply(Changes(calls={c.call_id: c for c in calls}))


def test_a_written_call_reads_back_whole_and_pending(store):
    write(store, call("call_1"))

    [stored] = store.calls()

    assert stored.call == call("call_1")  # every field of the step, datetimes in the scope included
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("pending", 0, at(0))
    assert (stored.response, stored.error, stored.finished_at) == (None, None, None)


def test_the_same_call_written_twice_is_one_call(store):
    write(store, call("call_1"))
    write(store, call("call_1"))

    assert len(store.calls()) == 1


def test_calls_are_listed_oldest_first_and_by_customer(store):
    write(store, call("call_b", "c2", minutes=5), call("call_a", minutes=1), call("call_c", minutes=9))

    assert [c.call.call_id for c in store.calls()] == ["call_a", "call_b", "call_c"]
    assert [c.call.call_id for c in store.calls("c1")] == ["call_a", "call_c"]


def test_claiming_takes_due_calls_oldest_first_up_to_the_limit(store):
    write(store, call("call_late", minutes=30), call("call_2", minutes=2), call("call_1", minutes=1))

    claimed = store.claim_calls(at(10), 1)
    rest = store.claim_calls(at(10), 10)

    assert [c.call.call_id for c in claimed] == ["call_1"]
    assert [c.call.call_id for c in rest] == ["call_2"]  # call_1 is leased, call_late not due yet


def test_a_leased_call_is_claimed_again_only_when_its_lease_runs_out(store):
    write(store, call("call_1"))
    store.claim_calls(at(0), 10, lease_seconds=60)

    assert store.claim_calls(at(0.5), 10) == []
    assert [c.call.call_id for c in store.claim_calls(at(1), 10)] == ["call_1"]


def test_a_retry_keeps_the_call_pending_until_its_next_attempt(store):
    write(store, call("call_1"))
    store.claim_calls(at(0), 10)

    store.record_call("call_1", status="pending", at=at(0), attempts=1, next_attempt_at=at(5), error="503")

    assert store.claim_calls(at(4), 10) == []  # the lease was given up, but the retry is not due
    [again] = store.claim_calls(at(5), 10)
    assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 1, at(5))
    assert again.error == "503"
    assert again.finished_at is None


def test_a_success_is_final_with_its_response_and_finish_time(store):
    write(store, call("call_1"))
    store.claim_calls(at(0), 10)

    store.record_call("call_1", status="succeeded", at=at(1), attempts=2, response={"tier": "gold", "n": [1]})

    [done] = store.calls()
    assert (done.status, done.attempts, done.finished_at) == ("succeeded", 2, at(1))
    assert done.response == {"tier": "gold", "n": [1]}
    assert store.claim_calls(at(60), 10) == []


def test_a_failure_is_final_with_its_error(store):
    write(store, call("call_1"))

    store.record_call("call_1", status="failed", at=at(3), attempts=1, error="answered 404")

    [done] = store.calls()
    assert (done.status, done.error, done.finished_at) == ("failed", "answered 404", at(3))
    assert done.response is None
    assert store.claim_calls(at(60), 10) == []


def test_recording_needs_a_known_status_and_a_retry_time(store):
    write(store, call("call_1"))

    with pytest.raises(ValueError, match="one of pending, succeeded, failed, not 'done'"):
        store.record_call("call_1", status="done", at=at(1), attempts=1)
    with pytest.raises(ValueError, match="needs next_attempt_at"):
        store.record_call("call_1", status="pending", at=at(1), attempts=1)
    with pytest.raises(KeyError):
        store.record_call("call_nope", status="failed", at=at(1), attempts=1)
    assert store.calls()[0].status == "pending"


def test_claimers_at_the_same_time_never_get_the_same_call(store):
    ids = [f"call_{n:02d}" for n in range(40)]
    write(store, *(call(call_id, minutes=n / 100) for n, call_id in enumerate(ids)))
    claimed: list[str] = []

    def claim() -> None:
        while batch := store.claim_calls(at(10), 3):
            claimed.extend(c.call.call_id for c in batch)

    workers = [threading.Thread(target=claim) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(claimed) == ids  # every call once, none twice

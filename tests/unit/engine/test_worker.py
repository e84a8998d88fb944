"""The worker loop: queued events, due timers and the outbox, round after round, until idle or stopped."""

from __future__ import annotations

import pytest

from onboardflow.channels.sandbox import SandboxChannel, sandbox_channels
from onboardflow.engine.worker import run_worker
from onboardflow.messages.content import DeliveryError

from .shop import RETAIL

pytestmark = pytest.mark.timeout(30)  # a loop that never goes idle fails instead of hanging


class FailingChannel(SandboxChannel):
    def send(self, delivery):
        raise DeliveryError("provider said 503")


def test_until_idle_drains_the_queue_delivers_and_stops(examples):
    examples.engine.enqueue([examples.order(f"c{n}") for n in range(3)] + [examples.delivered("c0")])
    channels = sandbox_channels()

    totals = run_worker(examples.engine, examples.dispatcher(channels), until_idle=True, poll_seconds=0)

    counts = examples.store.counts()
    assert counts["queued"] == 0
    assert (counts["events"], counts["enrollments"], counts["messages"], counts["delivered"]) == (4, 3, 4, 3)
    assert (totals.work.events, totals.work.started, totals.dispatch.delivered) == (4, 3, 3)
    # c0's usage tips are marketing (education): without consent they are skipped, and the reason kept
    [tips] = [row for row in examples.store.messages("c0") if row.message.step_id == "usage-tips"]
    assert tips.status == "skipped" and "consent" in tips.note
    assert totals.rounds <= 4


def test_until_idle_on_an_empty_store_stops_at_once(examples):
    totals = run_worker(examples.engine, examples.dispatcher(sandbox_channels()), until_idle=True, poll_seconds=0)

    assert totals.rounds == 2
    assert totals.work.events == 0


def test_until_idle_fires_the_timers_that_are_due(examples):
    consenting = {**RETAIL, "consent": {"whatsapp": {"status": "granted"}, "email": {"status": "granted"}}}
    examples.ingest(examples.order(profile=consenting), examples.delivered())
    examples.after(days=5)

    totals = run_worker(examples.engine, examples.dispatcher(sandbox_channels()), until_idle=True, poll_seconds=0)

    assert totals.work.timers_fired == 1
    assert examples.sent() == ["welcome", "usage-tips", "review-request"]
    assert examples.store.counts()["delivered"] == 3


def test_until_idle_does_not_wait_for_timers_not_yet_due(examples):
    examples.engine.enqueue([examples.order()])
    before = examples.clock.now()

    run_worker(examples.engine, examples.dispatcher(sandbox_channels()), until_idle=True, poll_seconds=0)

    assert examples.store.counts()["timers"] == 1  # the 10d delivery timeout is still ahead
    assert examples.clock.now() == before


def test_should_stop_ends_the_loop(examples):
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    totals = run_worker(examples.engine, examples.dispatcher(sandbox_channels()), poll_seconds=0, should_stop=should_stop)

    assert totals.rounds == 3


def test_on_round_sees_the_running_totals(examples):
    examples.engine.enqueue([examples.order()])
    seen = []

    run_worker(examples.engine, examples.dispatcher(sandbox_channels()), until_idle=True, poll_seconds=0,
               on_round=lambda totals: seen.append((totals.rounds, totals.work.events)))

    assert seen[0] == (1, 1)
    assert [rounds for rounds, _ in seen] == list(range(1, len(seen) + 1))


def test_events_queued_later_are_picked_up_by_the_next_run(examples):
    run_worker(examples.engine, examples.dispatcher(sandbox_channels()), until_idle=True, poll_seconds=0)
    examples.after(minutes=5)
    examples.engine.enqueue([examples.order()])

    totals = run_worker(examples.engine, examples.dispatcher(sandbox_channels()), until_idle=True, poll_seconds=0)

    assert totals.work.events == 1
    assert examples.store.counts()["delivered"] == 1
    assert examples.store.messages()[0].delivered_at == examples.clock.now()


def test_a_channel_that_keeps_failing_does_not_keep_the_worker_busy(examples):
    examples.engine.enqueue([examples.order()])
    channels = {"email": FailingChannel("email")}

    totals = run_worker(examples.engine, examples.dispatcher(channels), until_idle=True, poll_seconds=0)

    assert totals.rounds <= 4
    assert totals.dispatch.retrying == 1  # then it waits for its back-off, not for the next round
    [row] = examples.store.messages("c1")
    assert (row.status, row.error) == ("pending", "provider said 503")
    assert row.next_attempt_at > examples.clock.now()


def test_a_failing_channel_is_retried_after_the_poll_interval(examples, monkeypatch):
    examples.engine.enqueue([examples.order()])
    naps = []
    monkeypatch.setattr("onboardflow.engine.worker.time.sleep", naps.append)

    run_worker(examples.engine, examples.dispatcher({"email": FailingChannel("email")}), until_idle=True,
               poll_seconds=2.5)

    assert naps and set(naps) == {2.5}

"""Group commit: requests that arrive while a write is under way share the next transaction, each hears
only of its own events, a failure reaches only the request whose events failed, and the thread ends idle."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from onboardflow.core.model import Event
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.queue_writer import QueueWriter
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def event(event_id: str) -> Event:
    return Event(event_id, "Order Completed", "c1", T0)


class GatedStore(MemoryStore):
    """Holds the first write until told, so the next requests pile up behind it; fails on `poison`."""

    def __init__(self, poison: str | None = None) -> None:
        super().__init__()
        self.gate, self.writing = threading.Event(), threading.Event()
        self.poison, self.writes = poison, []

    def queue_events(self, events, *, now):
        events = list(events)
        self.writes.append([e.id for e in events])
        self.writing.set()
        self.gate.wait(5)
        if self.poison in {e.id for e in events}:
            raise RuntimeError("disk full")
        return super().queue_events(events, now=now)


def writer(store, **options) -> QueueWriter:
    return QueueWriter(store, clock=VirtualClock(T0), **options)


async def pile_up(store: GatedStore, queue: QueueWriter, batches: list[list[str]]) -> list:
    """The first batch's write starts and is held; the others arrive meanwhile; then the write goes on."""
    first = asyncio.ensure_future(queue.queue([event(i) for i in batches[0]]))
    await asyncio.to_thread(store.writing.wait, 5)
    rest = [asyncio.ensure_future(queue.queue([event(i) for i in ids])) for ids in batches[1:]]
    await asyncio.sleep(0.01)
    store.gate.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_requests_arriving_during_a_write_share_the_next_transaction():
    store = GatedStore()
    queue = writer(store)

    answers = asyncio.run(pile_up(store, queue, [["a"], ["b", "c"], ["d"], ["e"]]))

    assert answers == [{"a"}, {"b", "c"}, {"d"}, {"e"}]
    assert store.writes == [["a"], ["b", "c", "d", "e"]] and queue.transactions == 2
    assert store.counts()["queued"] == 5


def test_an_id_in_two_requests_of_one_transaction_is_queued_for_the_first_only():
    store = GatedStore()
    MemoryStore.queue_events(store, [event("old")], now=T0)

    answers = asyncio.run(pile_up(store, writer(store), [["a"], ["x", "old"], ["x", "y"]]))

    assert answers == [{"a"}, {"x"}, {"y"}]


def test_a_failing_write_reaches_only_the_request_whose_events_failed():
    store = GatedStore(poison="bad")
    queue = writer(store)

    answers = asyncio.run(pile_up(store, queue, [["a"], ["b"], ["bad", "c"], ["d"]]))

    assert answers[:2] == [{"a"}, {"b"}] and answers[3] == {"d"}
    assert isinstance(answers[2], RuntimeError) and "disk full" in str(answers[2])
    assert {q for q in store.queue} == {"a", "b", "d"}
    assert asyncio.run(queue.queue([event("later")])) == {"later"}  # the thread goes on


def test_a_group_holds_at_most_the_largest_size_but_always_one_request():
    store = GatedStore()
    answers = asyncio.run(pile_up(store, writer(store, max_group_events=3),
                                  [["a"], ["b", "c"], ["d", "e"], ["f", "g", "h", "i"]]))

    assert answers == [{"a"}, {"b", "c"}, {"d", "e"}, {"f", "g", "h", "i"}]
    assert store.writes == [["a"], ["b", "c"], ["d", "e"], ["f", "g", "h", "i"]]


def test_the_thread_ends_when_idle_and_starts_again_with_the_next_request():
    store = MemoryStore()
    queue = writer(store, idle_seconds=0.01)

    assert asyncio.run(queue.queue([event("a")])) == {"a"}
    thread = queue._thread
    thread.join(timeout=5)

    assert not thread.is_alive() and queue._thread is None
    assert asyncio.run(queue.queue([event("b")])) == {"b"}


def test_a_request_given_up_before_its_write_is_not_written():
    store = GatedStore()
    queue = writer(store)

    async def scenario():
        first = asyncio.ensure_future(queue.queue([event("a")]))
        await asyncio.to_thread(store.writing.wait, 5)
        abandoned = asyncio.ensure_future(queue.queue([event("gone")]))
        await asyncio.sleep(0.01)
        abandoned.cancel()
        await asyncio.sleep(0.01)  # the cancellation reaches the writer's future on the loop's next turn
        store.gate.set()
        assert await first == {"a"}
        with pytest.raises(asyncio.CancelledError):
            await abandoned
        return await queue.queue([event("b")])

    assert asyncio.run(scenario()) == {"b"}
    assert "gone" not in store.queue, store.writes

"""Group commit for the event queue: the events of requests that arrive while one write is under way go
to the store together, in the next transaction, and each request is answered once that one committed.

One writer thread per process does the writes, so no request holds the event loop through a
transaction, and a burst of single events costs a few transactions instead of one each: the first
request of a group waits a couple of milliseconds (`linger_seconds`) for others to join it. The thread
starts with the first request and ends after a second idle, so an app needs no start-up or shutdown
step for it (a test's app without a lifespan leaves no thread behind).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from onboardflow.core.model import Event
from onboardflow.ports import Clock, Store

MAX_GROUP_EVENTS = 10_000  # past this, the next request waits for the next transaction
LINGER_SECONDS = 0.002  # how long the first request of a group waits for others to join it
IDLE_SECONDS = 1.0


@dataclass(slots=True)
class _Submission:
    """One request's events, and the future on its event loop that the writer thread settles."""

    events: Sequence[Event]
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[set[str]]
    arrived: float = field(default_factory=time.monotonic)

    def settle(self, result: set[str] | None = None, error: BaseException | None = None) -> None:
        """From the writer thread: the result (or error) handed to the request, on its loop."""
        try:
            self.loop.call_soon_threadsafe(_settle, self.done, result, error)
        except RuntimeError:  # its loop is closed: no one waits for the answer any more
            pass


def _settle(done: asyncio.Future[set[str]], result: set[str] | None, error: BaseException | None) -> None:
    if done.cancelled():  # the request was given up on meanwhile
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result or set())


class QueueWriter:
    """Queues events through `store.queue_events`, many requests' in one transaction."""

    def __init__(self, store: Store, *, clock: Clock, max_group_events: int = MAX_GROUP_EVENTS,
                 linger_seconds: float = LINGER_SECONDS, idle_seconds: float = IDLE_SECONDS) -> None:
        self._store, self._clock = store, clock
        self._max_size, self._linger, self._idle_seconds = max_group_events, linger_seconds, idle_seconds
        self._pending: deque[_Submission] = deque()
        self._pending_events = 0
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.transactions = 0  # how many writes it made, for tests and benchmarks

    async def queue(self, events: Sequence[Event]) -> set[str]:
        """The ids of `events` this call queued, once they are committed: an id already queued or processed,
        or first seen in a request that came before in the same transaction, is not among them. Raises what
        the store raised, and then nothing of these events was queued."""
        loop = asyncio.get_running_loop()
        submission = _Submission(events, loop, loop.create_future())
        self._submit(submission)
        return await submission.done

    def _submit(self, submission: _Submission) -> None:
        events = submission.events
        with self._wake:
            self._pending.append(submission)
            self._pending_events += len(events)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="queue-writer", daemon=True)
                self._thread.start()
            if len(self._pending) == 1 or self._pending_events >= self._max_size:
                self._wake.notify()  # the writer waits for a first request, or lingers till the group is full

    def _run(self) -> None:
        while True:
            group = self._next_group()
            if group is None:
                return
            if group:
                self._write(group)

    def _next_group(self) -> list[_Submission] | None:
        """The submissions waiting once the first has lingered, up to the group's size (at least one);
        None after an idle spell."""
        with self._wake:
            if not self._pending:
                self._wake.wait(self._idle_seconds)
            if not self._pending:
                self._thread = None
                return None
            until = self._pending[0].arrived + self._linger
            while self._pending_events < self._max_size and (left := until - time.monotonic()) > 0:
                self._wake.wait(left)
            group: list[_Submission] = []
            size = 0
            while self._pending and (not group or size + len(self._pending[0].events) <= self._max_size):
                submission = self._pending.popleft()
                self._pending_events -= len(submission.events)
                if not submission.done.cancelled():  # a request given up on is dropped
                    group.append(submission)
                    size += len(submission.events)
            return group

    def _write(self, group: list[_Submission]) -> None:
        try:
            queued = self._store.queue_events([e for s in group for e in s.events], now=self._clock.now())
        except Exception as error:
            self.transactions += 1
            if len(group) > 1:  # one request's events may be what failed: each alone, so only it hears of it
                for submission in group:
                    self._write([submission])
            else:
                group[0].settle(error=error)
            return
        self.transactions += 1
        for submission in group:
            mine = {event.id for event in submission.events if event.id in queued}
            queued -= mine  # the same id in a later request of the group is a duplicate there
            submission.settle(mine)

"""The run: the production engine, store, dispatcher and sandbox channels, on a virtual clock.

Time jumps from one thing that happens to the next (a customer's action, a timer, a message due, a
webhook call) and runs by windows of an hour. Within a window, each customer's stimuli run one at a
time, in time order, in rounds: a round takes every customer's earliest stimulus and runs the events
in one engine batch, the timers in another, the messages through the dispatcher. Whatever a stimulus
makes (a timer, a message, a customer's answer to it) joins that customer's queue before their next
round, so each customer's story is what production makes of the same stimuli in the same order.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from onboardflow.core.effects import SendMessage
from onboardflow.core.model import Event
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.engine.webhooks import CallsResult, attempt, settle
from onboardflow.ports import PARTITIONS, Changes
from onboardflow.simulation.behaviour import Behaviour, Exposure
from onboardflow.simulation.shop import Chance, Emit, Shop

WINDOW = timedelta(hours=1)
TIMER, CALL, MESSAGE, EVENT = range(4)  # one customer's stimuli at one instant run in this order
EVERYTHING = 10**9  # "no limit" for the store's reads of what is due
SIMULATED_SECRET = "whsec_" + "c2ltdWxhdGVkLXNpZ25pbmcta2V5LTMyLWJ5dGVzISE="  # any webhook step's, here


@dataclass(frozen=True, slots=True)
class Arrival:
    """A simulated customer's first appearance: their plan is drawn then."""

    number: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the dispatcher recorded for a message, and when: sent, put off, held, skipped ..."""

    status: str
    channel: str | None
    at: datetime
    note: str | None = None
    until: datetime | None = None


@dataclass
class RunLog:
    """What the run gave the engine and heard back: the raw material of timelines and results."""

    events: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))  # per customer, as fed
    outcomes: dict[str, list[Outcome]] = field(default_factory=lambda: defaultdict(list))  # per message id
    exposures: dict[str, list[Exposure]] = field(default_factory=lambda: defaultdict(list))  # per customer
    personas: dict[str, str] = field(default_factory=dict)  # customer -> persona id
    customers: set[str] = field(default_factory=set)


class Simulation:
    """One run over one engine: customers from a `Shop` (with their `Behaviour`), or recorded events."""

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        *,
        end: datetime,
        shop: Shop | None = None,
        behaviour: Behaviour | None = None,
        window: timedelta = WINDOW,
    ) -> None:
        self.engine, self.dispatcher, self.end, self.window = engine, dispatcher, end, window
        self.shop, self.behaviour = shop, behaviour
        self.log = RunLog()
        self._heap: list[tuple[datetime, int, str, Any]] = []  # (at, seq, customer, action): later windows
        self._ready: dict[str, list[tuple[datetime, int, Any]]] = {}  # this window's, per customer
        self._dues: list[datetime] = []  # when deferred messages and retried calls come due again
        self._seq = 0
        self._limit = engine.clock.now()
        self._personas: dict[str, Any] = {}
        self._http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})))
        dispatcher.on_record = self._recorded

    # what goes in

    def add_customers(self, numbers: Iterable[int] | None = None) -> None:
        """The shop's customers (or those of these numbers: one shard of a run in several processes)."""
        for number in numbers if numbers is not None else range(1, self.shop.customers + 1):
            self._push(self.shop.customer_id(number), self.shop.arrival(number), Arrival(number))

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            self._push(event.customer_id, event.at, Emit(event.at, event))

    # the run

    def run(self, on_progress: Callable[[datetime], None] | None = None) -> RunLog:
        clock = self.engine.clock
        while (moment := self._next_moment()) is not None and moment <= self.end:
            self._limit = min(self.end, max(moment, clock.now()) + self.window)
            while self._round(self._limit):
                pass
            while self._dues and self._dues[0] <= self._limit:
                heapq.heappop(self._dues)
            if on_progress is not None:
                on_progress(self._limit)
        clock.jump_to(self.end)
        self._http.close()
        return self.log

    def _next_moment(self) -> datetime | None:
        with self.engine.store.transaction() as tx:
            found = [tx.next_timer_due(excluding=self.engine.catalog.paused)]
        found += [self._heap[0][0] if self._heap else None, self._dues[0] if self._dues else None]
        return min((moment for moment in found if moment is not None), default=None)

    def _round(self, limit: datetime) -> bool:
        """Run every customer's earliest stimulus due by `limit`; False when none is left."""
        self._take_due(limit)
        heads = self._heads(limit)
        if not heads:
            return False
        self.engine.clock.jump_to(min(head[0] for head in heads.values()))
        kinds: dict[int, list] = defaultdict(list)
        for customer_id in sorted(heads):
            at, kind, _, item = heads[customer_id]
            kinds[kind].append(item)
        if kinds[TIMER]:
            self.engine.fire_timers(kinds[TIMER], at_due_time=True)
        if kinds[CALL]:
            self._call(kinds[CALL])
        if kinds[MESSAGE]:
            self.dispatcher.dispatch(kinds[MESSAGE], now=self.engine.clock.now(), at_due_time=True)
        if kinds[EVENT]:
            self._events(kinds[EVENT])
        return True

    def _heads(self, limit: datetime) -> dict[str, tuple]:
        """Each customer's earliest stimulus due by `limit`: (at, kind, key, item)."""
        heads: dict[str, tuple] = {}

        def consider(customer_id: str, head: tuple) -> None:
            if customer_id not in heads or head[:3] < heads[customer_id][:3]:
                heads[customer_id] = head

        for customer_id, ready in self._ready.items():
            at, seq, action = ready[0]
            heads[customer_id] = (at, EVENT, f"a{seq:012d}", ("action", customer_id))
        store = self.engine.store
        with store.transaction() as tx:
            timers = tx.due_timers(None, limit, EVERYTHING, excluding=self.engine.catalog.paused)
            queued = tx.queued_events(range(PARTITIONS), EVERYTHING)
        for timer in timers:
            consider(timer.customer_id, (timer.due_at, TIMER, timer.timer_id, timer))
        for row in store.claim_messages(limit, EVERYTHING, lease_seconds=0):
            consider(
                row.message.customer_id,
                (row.next_attempt_at or row.message.at, MESSAGE, row.message.message_id, row),
            )
        for row in store.claim_calls(limit, EVERYTHING, lease_seconds=0):
            consider(row.call.customer_id, (row.next_attempt_at, CALL, row.call.call_id, row))
        for item in queued:
            consider(item.event.customer_id, (item.event.at, EVENT, f"q{item.seq:012d}", ("queued", item)))
        return heads

    def _events(self, items: list[tuple[str, Any]]) -> None:
        events, dequeued = [], []
        for source, item in items:
            if source == "queued":
                events.append(item.event)
                dequeued.append(item.seq)
                continue
            _, _, action = heapq.heappop(self._ready[item])
            if not self._ready[item]:
                del self._ready[item]
            if isinstance(action, Chance):
                self._decide(action)
            else:
                events.append(action.event)
        if events:
            events.sort(key=lambda event: (event.at, event.customer_id, event.id))
            self.engine.ingest(events, at_event_time=True)
            for event in events:
                self.log.events[event.customer_id].append(event)
        if dequeued:
            with self.engine.store.transaction() as tx:
                tx.apply(Changes(dequeued=dequeued))

    def _decide(self, chance: Chance) -> None:
        """A customer's chance comes: it happens or not, with the odds the messages they had made."""
        persona = self._personas[chance.customer_id]
        odds = self.behaviour.odds(persona, chance, self.log.exposures[chance.customer_id])
        if chance.roll < odds:
            for action in chance.then():
                self._push(chance.customer_id, action.at, action)

    def _call(self, rows: list) -> None:
        """Webhook steps' calls, answered by a stand-in receiver (200, `{}`): no network in a simulation."""
        for row in rows:
            at = row.next_attempt_at
            answer = attempt(row.call, clock=_Fixed(at), http=self._http, environ=_AnySecret())
            settle(self.engine.store, row, answer, now=at, emit=self._answered, result=CallsResult())
            for again in self.engine.store.calls(row.call.customer_id):
                if (
                    again.call.call_id == row.call.call_id
                    and again.status == "pending"
                    and again.next_attempt_at
                ):
                    heapq.heappush(self._dues, again.next_attempt_at)

    def _answered(self, events: list[Event]) -> None:
        for event in events:
            self._push(event.customer_id, event.at, Emit(event.at, event))

    def _recorded(
        self, message: SendMessage, status: str, channel: str | None, at: datetime, details: dict[str, Any]
    ) -> None:
        """The dispatcher's record of a message: kept for the timeline; a delivery gets its answer."""
        until = details.get("next_attempt_at")
        note = details.get("note") or details.get("error")
        self.log.outcomes[message.message_id].append(Outcome(status, channel, at, note, until))
        if status == "pending" and until is not None:
            heapq.heappush(self._dues, until)
        if status == "delivered" and self.behaviour is not None and message.customer_id in self._personas:
            persona = self._personas[message.customer_id]
            exposure, answers = self.behaviour.answer(persona, message, channel, at)
            self.log.exposures[message.customer_id].append(exposure)
            for action in answers:
                self._push(message.customer_id, action.at, action)

    # the queues

    def _push(self, customer_id: str, at: datetime, action: Any) -> None:
        self._seq += 1
        if at <= self._limit and not isinstance(action, Arrival):
            heapq.heappush(self._ready.setdefault(customer_id, []), (at, self._seq, action))
        else:
            heapq.heappush(self._heap, (at, self._seq, customer_id, action))

    def _take_due(self, limit: datetime) -> None:
        """Move what is due by `limit` from the later queue to the customers' queues; draw arrivals' plans."""
        arrived = []
        while self._heap and self._heap[0][0] <= limit:
            at, seq, customer_id, action = heapq.heappop(self._heap)
            if isinstance(action, Arrival):
                arrived.append(action)
                continue
            heapq.heappush(self._ready.setdefault(customer_id, []), (at, seq, action))
        if arrived:
            self._arrive(arrived)
            self._take_due(limit)

    def _arrive(self, arrivals: list[Arrival]) -> None:
        history = []
        for arrival in arrivals:
            plan = self.shop.plan(arrival.number)
            self._personas[plan.customer_id] = plan.persona
            self.log.personas[plan.customer_id] = plan.persona.id
            self.log.customers.add(plan.customer_id)
            history.extend(plan.history)
            for action in plan.actions:
                self._push(plan.customer_id, action.at, action)
        if history:  # orders from before the run: counted in profiles, seen by no journey
            self.engine.ingest(
                sorted(history, key=lambda event: (event.at, event.id)), at_event_time=True, journeys=False
            )


class _Fixed:
    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def now(self) -> datetime:
        return self._moment


class _AnySecret(Mapping[str, str]):
    """Every webhook step's signing secret, in a simulation: calls are signed and sent nowhere."""

    def __getitem__(self, name: str) -> str:
        return SIMULATED_SECRET

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def get(self, name: str, default: Any = None) -> str:  # type: ignore[override]
        return SIMULATED_SECRET


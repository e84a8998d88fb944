"""The engine: runs batches of events and due timers through the state machine and writes the results.

One read of everything a batch touches, the pure machine in memory, one write in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from onboardflow.core.consent import carries_consent, consents_carried_by
from onboardflow.core.effects import (
    CallWebhook,
    CancelTimer,
    Decision,
    OpenTask,
    ScheduleTimer,
    SendMessage,
    UpdateCustomer,
    stable_id,
)
from onboardflow.core.gate import in_rollout
from onboardflow.core.journey import Escalate, Wait, WaitFor, WaitUntil
from onboardflow.core.machine import EventReceived, TimerFired, admits, advance, start
from onboardflow.core.model import (
    TASK_RESOLVED,
    Customer,
    Enrollment,
    Event,
    apply_event,
    apply_update,
    copy_customer,
)
from onboardflow.core.outbound import enrollment_events, task_opened
from onboardflow.core.validation import check_document
from onboardflow.core.version import JourneyVersion
from onboardflow.engine.escalations import Escalations, Histories, LazyScores, with_sentiment
from onboardflow.engine.pausing import hold_for_paused, journey_state, pause_journey
from onboardflow.engine.webhooks import CallsResult, run_due_calls
from onboardflow.ports import Changes, Entry, JourneyState, StoredVersion, Task, Transaction, partition_of


@dataclass
class BatchResult:
    events: int = 0
    duplicates: int = 0
    started: int = 0
    messages: int = 0
    timers_fired: int = 0

    def add(self, other: BatchResult) -> None:
        for name in ("events", "duplicates", "started", "messages", "timers_fired"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Catalog:
    """The journey versions the engine runs, each compiled once: the live ones, and older ones on demand;
    and which journeys are paused (they start nobody, and nobody in them moves). Beside them, what their
    runs use from outside: the global escalation rules, and the scorer behind `score.*` conditions."""

    def __init__(self, store, *, default_zone: str = "UTC", rules=(), scorer=None) -> None:
        self._store = store
        self.default_zone = default_zone  # the store's time zone, for customers without one
        self.rules = tuple(rules)
        self.scorer = scorer
        self.reads_scores = False  # whether a version compiled so far reads a score
        self.journey_rules = False  # whether a version compiled so far has escalation rules of its own
        self._moved_by: set[str] = set()  # event names that can move an enrollment of a version compiled so far
        self._all_move = False  # a version compiled so far re-checks an exit rule on every event
        self._compiled: dict[tuple[str, int], JourneyVersion] = {}
        self._states: dict[str, JourneyState] | None = None
        self.live: list[JourneyVersion] = []
        self.by_trigger: dict[str, list[JourneyVersion]] = {}
        self.paused: frozenset[str] = frozenset()
        self.rollout: dict[str, float] = {}  # journey id -> the share let in, for those under 100%
        self.refresh()

    def refresh(self) -> None:
        self._load({state.journey_id: state for state in self._store.journeys()}, self._store.version)

    def sync(self, tx: Transaction) -> None:
        """Catch up, in this transaction, with journeys published, paused or resumed by another process."""
        states = tx.journeys()
        if states != self._states:
            self._load(states, tx.version)

    def _load(self, states: dict[str, JourneyState], read) -> None:
        self.live = [
            self._compiled.get(key) or self._compile(read(*key))
            for key in sorted((journey_id, state.live_version) for journey_id, state in states.items())
        ]
        self.paused = frozenset(journey_id for journey_id, state in states.items() if state.is_paused)
        self.rollout = {journey_id: state.rollout_percent for journey_id, state in states.items()
                        if state.rollout_percent < 100}
        self.by_trigger = defaultdict(list)
        for version in self.live:
            if version.id not in self.paused:
                self.by_trigger[version.journey.trigger.event].append(version)
        self._states = states

    def get(self, journey_id: str, version: int) -> JourneyVersion:
        key = (journey_id, version)
        if key not in self._compiled:
            stored = self._store.version(journey_id, version)
            if stored is None:
                raise LookupError(f"journey {journey_id!r} has no version {version}")
            self._compile(stored)
        return self._compiled[key]

    def may_move(self, event_name: str) -> bool:
        """Whether an event of this name can move a running enrollment of any version compiled so far (a
        batch compiles the versions of the enrollments it runs as it reads them, see `Batch.run`)."""
        return self._all_move or event_name in self._moved_by

    def shortest_delay(self) -> timedelta | None:
        """The shortest timer any version compiled so far can schedule (a wait, a wait_for's timeout, an
        escalation's due time).

        A timer started by an event is due at least this long after it: events closer together
        than this can run in one batch without passing a timer they started.
        """
        return min((delay for version in self._compiled.values() for delay in _delays(version)), default=None)

    def _compile(self, stored: StoredVersion) -> JourneyVersion:
        key = (stored.journey_id, stored.version)
        if key not in self._compiled:
            source = stored.source or f"journey {stored.journey_id} v{stored.version}"
            self._compiled[key] = check_document(stored.definition, source=source, version=stored.version)
            self.reads_scores = self.reads_scores or bool(self._compiled[key].reads_scores)
            self.journey_rules = self.journey_rules or bool(self._compiled[key].journey.escalation)
            self._moved_by.update(self._compiled[key].interests)
            self._all_move = self._all_move or self._compiled[key].reacts_to_all
        return self._compiled[key]


class Batch:
    """The state one batch reads, changes in memory, and writes back as one set of Changes."""

    def __init__(self, tx: Transaction, catalog: Catalog, customer_ids: set[str], *, starts: bool = True) -> None:
        self.catalog = catalog
        self.changes = Changes()
        self.result = BatchResult()
        self.customers = tx.customers(customer_ids)
        self.active: dict[str, list[Enrollment]] = defaultdict(list)
        self.entries = tx.entries(customer_ids) if starts else {}  # only events start enrollments
        self.positions: dict[str, int] = {}
        self.updated: set[str] = set()  # customers whose profile a step changed
        self.escalations = Escalations(tx, customer_ids, catalog.rules)
        self._histories = Histories(tx, customer_ids, catalog.scorer) if catalog.scorer is not None else None

    def run(self, enrollments) -> None:
        """Take these stored enrollments into the batch: the active ones run, their versions compiled."""
        for enrollment in enrollments:
            if enrollment.is_active:
                self.catalog.get(enrollment.journey_id, enrollment.version)
                self.active[enrollment.customer_id].append(enrollment)

    def customer(self, customer_id: str) -> Customer:
        found = self.customers.get(customer_id)
        if found is None:
            found = self.customers[customer_id] = Customer(id=customer_id)
        return found

    def scores(self, customer_id: str, now: datetime) -> LazyScores | None:
        """The customer's model scores, for conditions; None when no journey reads one."""
        if self._histories is None or not self.catalog.reads_scores:
            return None
        scorer, histories, fresh = self.catalog.scorer, self._histories, self.changes.events
        return LazyScores(
            lambda: scorer.score(self.customer(customer_id), histories.of(customer_id, fresh), now)
        )

    def take(self, decision: Decision, original: Enrollment | None) -> None:
        enrollment = decision.enrollment
        if enrollment is original:
            return
        effects = decision.effects
        if effects and any(isinstance(effect, OpenTask) for effect in effects):
            enrollment, effects = self.escalations.merged(decision)  # one open task per customer and reason
        self.changes.enrollments[enrollment.id] = enrollment
        if not enrollment.is_active or enrollment.goal_reached_at is not None:
            self.changes.outbound.extend(enrollment_events(original, enrollment))
        running = self.active[enrollment.customer_id]
        if original is not None:
            running.remove(original)
        if enrollment.is_active:
            running.append(enrollment)
        for effect in effects:
            self._take_effect(effect)

    def _take_effect(self, effect) -> None:
        changes = self.changes
        if isinstance(effect, SendMessage):
            changes.messages[effect.message_id] = effect
            self.result.messages += 1
        elif isinstance(effect, ScheduleTimer):
            changes.timers[effect.timer_id] = effect
        elif isinstance(effect, CancelTimer):
            if changes.timers.pop(effect.timer_id, None) is None:
                changes.cancelled_timers.add(effect.timer_id)
        elif isinstance(effect, UpdateCustomer):
            customer = self.customer(effect.customer_id)
            self.customers[customer.id] = apply_update(
                customer, set_traits=effect.set_traits, unset=effect.unset,
                add_tags=effect.add_tags, remove_tags=effect.remove_tags, at=effect.at,
            )
            self.updated.add(customer.id)
        elif isinstance(effect, OpenTask):
            changes.tasks[effect.task_id] = effect
            changes.outbound.append(task_opened(effect))
        elif isinstance(effect, CallWebhook):
            changes.calls[effect.call_id] = effect

    def feed(self, event: Event, now: datetime, *, journeys: bool = True) -> None:
        """Apply one event: update the profile, move running enrollments, start new ones.

        Without `journeys` the event is only recorded and counted in the profile (history backfill).
        """
        customer = self.customer(event.customer_id)
        updated = apply_event(customer, event)
        if updated is not customer:
            self.customers[customer.id] = customer = updated
        position = self.positions[customer.id] = self.positions.get(customer.id, customer.events_count) + 1
        self.changes.events.append((event, position))
        if carries_consent(event):  # ledger lines are written with the event, in its transaction
            self.changes.consents.extend(consents_carried_by(event))
        if not journeys:
            return
        running = self.active.get(customer.id)
        zone = self.catalog.default_zone
        scores = self.scores(customer.id, now)
        if running and self.catalog.may_move(event.name):
            for enrollment in list(running):
                version = self.catalog.get(enrollment.journey_id, enrollment.version)
                if version.reacts_to(event.name):
                    current = self.customers[customer.id]  # as the steps before may have updated it
                    decision = advance(version, enrollment, EventReceived(event), customer=current, now=now,
                                       default_zone=zone, scores=scores)
                    self.take(decision, enrollment)
        for version in self.catalog.by_trigger.get(event.name, ()):
            share = self.catalog.rollout.get(version.id)
            if share is None or in_rollout(version.id, customer.id, share):  # a phased roll-out
                self._maybe_start(version, customer, event, now, scores)
        profile, running = self.customers[customer.id], self.active.get(customer.id, ())
        for task in self.escalations.opened_by(event, profile, running, self.catalog, now):
            self.changes.tasks[task.task_id] = task

    def finish(self) -> Changes:
        """The changes to write: profiles changed, each with its count of events applied."""
        for customer_id, position in self.positions.items():
            customer = self.customers[customer_id]
            self.changes.customers[customer_id] = copy_customer(customer, events_count=position)
        for customer_id in self.updated - self.positions.keys():
            self.changes.customers[customer_id] = self.customers[customer_id]
        return self.changes

    def _maybe_start(self, version: JourneyVersion, customer: Customer, event: Event, now: datetime,
                     scores=None) -> None:
        entry = self.entries.get((version.id, customer.id))
        is_active = any(e.journey_id == version.id for e in self.active[customer.id])
        last = entry.started_at if entry else None
        customer = self.customers[customer.id]  # as an enrollment started before may have updated it
        if not admits(version, customer=customer, event=event, last_started_at=last, is_active=is_active,
                      now=now, scores=scores):
            return
        decision = start(version, customer=customer, event=event, now=now,
                         default_zone=self.catalog.default_zone, scores=scores)
        entry = Entry(version.id, customer.id, decision.enrollment.id, now)
        self.entries[(version.id, customer.id)] = self.changes.entries[(version.id, customer.id)] = entry
        self.result.started += 1
        self.take(decision, None)


def process_events(
    tx: Transaction,
    catalog: Catalog,
    events: list[Event],
    *,
    now: datetime,
    at_event_time: bool = False,
    journeys: bool = True,
) -> BatchResult:
    """Run a batch of events, in order, through the engine; duplicates (by id) are dropped.

    `at_event_time` treats each event's own time as now (replays and simulation on a virtual clock);
    without `journeys` events are recorded and profiles updated, but no journey moves (backfill).
    """
    fresh, duplicates = _drop_duplicates(tx, events)
    customer_ids = {event.customer_id for event in fresh}
    batch = Batch(tx, catalog, customer_ids, starts=journeys)
    if journeys:
        batch.run(tx.active_enrollments(customer_ids))
        if catalog.paused:
            hold_for_paused(batch, fresh)
    for event in fresh:
        batch.feed(event, event.at if at_event_time else now, journeys=journeys)
    tx.apply(batch.finish())
    batch.result.events, batch.result.duplicates = len(fresh), duplicates
    return batch.result


def _drop_duplicates(tx: Transaction, events: list[Event]) -> tuple[list[Event], int]:
    seen: set[str] = set()
    unique = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            unique.append(event)
    known = tx.known_event_ids(seen)
    fresh = [event for event in unique if event.id not in known] if known else unique
    return fresh, len(events) - len(fresh)


def fire_due_timers(
    tx: Transaction,
    catalog: Catalog,
    *,
    now: datetime,
    partitions: list[int] | None = None,
    limit: int = 5000,
    at_due_time: bool = False,
) -> BatchResult:
    """Fire every timer due by `now` (up to `limit`), each one more stimulus to its enrollment.

    `at_due_time` treats each timer's due time as now (replays and simulation on a virtual clock).
    """
    due = tx.due_timers(partitions, now, limit, excluding=catalog.paused)
    return fire_timers(tx, catalog, due, now=now, at_due_time=at_due_time)


def fire_timers(
    tx: Transaction, catalog: Catalog, due: list[ScheduleTimer], *, now: datetime, at_due_time: bool = False
) -> BatchResult:
    """Fire these timers (read from the store in this transaction): each a stimulus to its enrollment."""
    timers = sorted(due, key=lambda t: (t.customer_id, t.due_at, t.timer_id))
    if not timers:
        return BatchResult()
    enrollments = tx.enrollments({timer.enrollment_id for timer in timers})
    batch = Batch(tx, catalog, {timer.customer_id for timer in timers}, starts=False)
    batch.run(enrollments.values())
    for timer in timers:
        batch.changes.fired_timers.add(timer.timer_id)
        enrollment = batch.changes.enrollments.get(timer.enrollment_id) or enrollments.get(timer.enrollment_id)
        if enrollment is None or not enrollment.is_active:
            continue
        version = catalog.get(enrollment.journey_id, enrollment.version)
        customer = batch.customer(enrollment.customer_id)
        moment = timer.due_at if at_due_time else now
        decision = advance(
            version, enrollment, TimerFired(timer.timer_id), customer=customer, now=moment,
            default_zone=catalog.default_zone, scores=batch.scores(customer.id, moment),
        )
        batch.take(decision, enrollment)
    batch.result.timers_fired = len(timers)
    tx.apply(batch.finish())
    return batch.result


def partitions_of(events: list[Event]) -> list[int]:
    return sorted({partition_of(customer_id) for customer_id in {event.customer_id for event in events}})


class Engine:
    """The one engine the CLI, the worker, the demo and the simulator share: store and clock injected."""

    def __init__(
        self, store, *, clock, default_zone: str = "UTC", rules=(), scorer=None, sentiment=None
    ) -> None:
        """`rules`: the global escalation rules; `scorer`: gives `score.*` to conditions; `sentiment`: scores
        the text of tickets and reviews before they are processed (the `negative_sentiment` rule reads it)."""
        self.store = store
        self.clock = clock
        self.catalog = Catalog(store, default_zone=default_zone, rules=rules, scorer=scorer)
        self.sentiment = sentiment

    def publish(self, version: JourneyVersion, *, source: str | None = None) -> StoredVersion:
        """Make this journey content live; the same content again changes nothing."""
        return self.publish_version(version, source=source).stored

    def publish_version(self, version: JourneyVersion, *, source: str | None = None):
        """Publish, moving the customers the version's `migrate` maps, in one transaction: a Publication."""
        from onboardflow.engine.live import publish_version  # it builds on Batch, defined here

        with self.store.transaction() as tx:
            publication = publish_version(tx, self.catalog, version, source=source, now=self.clock.now())
        self.catalog.refresh()
        return publication

    def publish_stored(self, journey_id: str, version: int, *, migrate: dict | None = None):
        """Make stored version `version` live again: a Publication. Versions are numbered in the order they
        went live and the newest is live, so an older one's content goes live as a new version; the live
        one without `migrate` changes nothing. `migrate` (`{from_version, steps}`) moves customers as a
        journey's own `migrate` block does. JourneyNotFound, VersionNotFound, or MigrationInvalid."""
        from onboardflow.engine.live import Publication, VersionNotFound, stored_journey

        with self.store.transaction() as tx:
            state = journey_state(tx, journey_id)
        stored = self.store.version(journey_id, version)
        if stored is None:
            raise VersionNotFound(f"journey {journey_id!r} has no version {version}: its versions are 1 to "
                                  f"{state.live_version}")
        if version == state.live_version and migrate is None:
            return Publication(stored, is_new=False)
        again = stored_journey(stored, migrate=migrate)
        return self.publish_version(again, source=f"version {version}, published again")

    def launch(self, journey_id: str, version: int, *, percent: float = 100.0):
        """Make a stored version live for `percent` of triggered customers (governance decides whether it
        may: `governance.launch`); a Publication."""
        from onboardflow.engine.live import VersionNotFound, launch_version

        stored = self.store.version(journey_id, version)
        if stored is None:
            raise VersionNotFound(f"journey {journey_id!r} has no version {version}")
        with self.store.transaction() as tx:
            publication = launch_version(tx, self.catalog, stored, percent=percent, now=self.clock.now())
        self.catalog.refresh()
        return publication

    def set_rollout(self, journey_id: str, percent: float) -> None:
        with self.store.transaction() as tx:
            tx.set_rollout(journey_id, percent)
        self.catalog.refresh()

    def pause(self, journey_id: str) -> JourneyState:
        """Stop new entries and hold everyone in the journey where they are; pausing twice changes nothing."""
        with self.store.transaction() as tx:
            state = pause_journey(tx, journey_id, now=self.clock.now())
        self.catalog.refresh()
        return state

    def resume(self, journey_id: str):
        """Let a paused journey run again, applying what was held meanwhile: a Resumption."""
        from onboardflow.engine.live import resume_journey  # it builds on Batch, defined here

        with self.store.transaction() as tx:
            resumed = resume_journey(tx, self.catalog, journey_id, now=self.clock.now())
        self.catalog.refresh()
        return resumed

    def ingest(self, events: list[Event], *, at_event_time: bool = False, journeys: bool = True) -> BatchResult:
        """Process events now, in this process, in one transaction (the single-process path)."""
        with self.store.transaction() as tx:
            tx.lock_partitions(partitions_of(events))
            self.catalog.sync(tx)
            if journeys:
                events = with_sentiment(events, self.sentiment)
            return process_events(
                tx, self.catalog, events, now=self.clock.now(), at_event_time=at_event_time, journeys=journeys
            )

    def enqueue(self, events: list[Event]) -> int:
        """Queue events for workers; returns how many were new."""
        return self.store.enqueue(events, now=self.clock.now())

    def work(self, *, batch_size: int = 1000, partitions: int = 16) -> BatchResult:
        """One round of a worker: claim partitions, run their queued events, then their due timers."""
        with self.store.transaction() as tx:
            claimed = tx.claim_partitions(partitions)
            if not claimed:
                return BatchResult()
            self.catalog.sync(tx)
            queued = tx.queued_events(claimed, batch_size)
            now = self.clock.now()
            events = with_sentiment([q.event for q in queued], self.sentiment)
            result = process_events(tx, self.catalog, events, now=now)
            if queued:
                tx.apply(Changes(dequeued=[q.seq for q in queued]))
            result.add(fire_due_timers(tx, self.catalog, now=now, partitions=claimed, limit=batch_size))
            return result

    def resolve_task(self, task_id: str, *, outcome: str, by: str | None = None, queue: bool = False) -> Task:
        """Resolve a task and tell its journey: a `Task Resolved` event, processed now or queued for workers."""
        now = self.clock.now()
        task = self.store.resolve_task(task_id, outcome=outcome, at=now, by=by)
        event = task_resolved_event(task, now)
        if queue:
            self.enqueue([event])
        else:
            self.ingest([event])
        return task

    def run_due_calls(self, *, http, environ, limit: int = 100, queue: bool = False) -> CallsResult:
        """Make the webhook calls due now; their answers are processed now, or queued for workers."""
        emit = self.enqueue if queue else self.ingest
        return run_due_calls(self.store, clock=self.clock, http=http, environ=environ, emit=emit, limit=limit)

    def fire_due_timers(self, *, limit: int = 5000, at_due_time: bool = False) -> BatchResult:
        with self.store.transaction() as tx:
            self.catalog.sync(tx)
            return fire_due_timers(tx, self.catalog, now=self.clock.now(), limit=limit, at_due_time=at_due_time)

    def fire_timers(self, timers: list[ScheduleTimer], *, at_due_time: bool = True) -> BatchResult:
        """Fire these due timers, read from the store (the simulator picks them customer by customer)."""
        with self.store.transaction() as tx:
            self.catalog.sync(tx)
            return fire_timers(tx, self.catalog, timers, now=self.clock.now(), at_due_time=at_due_time)

    def replay(self, events: list[Event], *, batch_size: int = 1000) -> BatchResult:
        """Run a recorded stream on the engine's virtual clock: timers fire at their due time, between events."""
        clock = self.clock
        total = BatchResult()
        ordered = sorted(events, key=lambda event: event.at)
        delay = self.catalog.shortest_delay()
        position = 0
        while position < len(ordered):
            due = self._next_timer_due()
            if due is not None and due <= ordered[position].at:
                clock.jump_to(due)
                total.add(self.fire_due_timers(at_due_time=True))
                continue
            chunk = _until(ordered, position, batch_size, _earliest(due, ordered[position].at, delay))
            clock.jump_to(chunk[-1].at)
            total.add(self.ingest(chunk, at_event_time=True))
            position += len(chunk)
        return total

    def _next_timer_due(self) -> datetime | None:
        with self.store.transaction() as tx:
            self.catalog.sync(tx)
            return tx.next_timer_due(excluding=self.catalog.paused)

    def run_timers_until(self, moment: datetime) -> BatchResult:
        """Jump the engine's virtual clock timer by timer up to `moment`, firing each at its due time."""
        clock = self.clock
        total = BatchResult()
        while True:
            due = self._next_timer_due()
            if due is None or due > moment:
                clock.jump_to(moment)
                return total
            clock.jump_to(due)
            total.add(self.fire_due_timers(at_due_time=True))


def task_resolved_event(task: Task, at: datetime) -> Event:
    opened = task.task
    properties = {"task_id": opened.task_id, "enrollment_id": opened.enrollment_id, "outcome": task.outcome,
                  "queue": opened.queue, "reason": opened.reason}
    return Event(stable_id("evt", opened.task_id, "resolved"), TASK_RESOLVED, opened.customer_id, at, properties)


def _delays(version: JourneyVersion):
    for step in version.journey.steps:
        if isinstance(step, Wait):
            yield step.wait
        elif isinstance(step, WaitFor) and step.wait_for.timeout is not None:
            yield step.wait_for.timeout
        elif isinstance(step, WaitUntil):
            yield timedelta(0)  # the next local 10:00 may be a second away
        elif isinstance(step, Escalate) and step.escalate.wait and step.escalate.on_overdue:
            yield step.escalate.due  # the overdue timer


def _earliest(due: datetime | None, start: datetime, delay: timedelta | None) -> datetime | None:
    """Where a replay chunk starting at `start` must stop: the next timer due, or the earliest a new one can be."""
    horizon = None if delay is None else start + delay
    if due is None or horizon is None:
        return due if horizon is None else horizon
    return min(due, horizon)


def _until(ordered: list[Event], position: int, size: int, due: datetime | None) -> list[Event]:
    """The next events in time order, at most `size`, all before the next timer is due."""
    end = min(position + size, len(ordered))
    if due is not None:
        cut = position + 1
        while cut < end and ordered[cut].at < due:
            cut += 1
        end = cut
    return ordered[position:end]

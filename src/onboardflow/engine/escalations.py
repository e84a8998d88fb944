"""What a batch adds for escalation and scores: one open task per customer and reason, whether a rule or an
`escalate` step opens it; the rules that hold for each event; the customer's model scores, worked out only
when a condition reads one; and ticket and review text scored for sentiment before the batch runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime

from onboardflow.core.effects import Decision, Effect, OpenTask
from onboardflow.core.escalation import (
    SUPPORT_TICKET,
    Facts,
    Origin,
    RepeatedComplaints,
    RuleBase,
    escalations,
)
from onboardflow.core.escalation import event_text as text_of
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.ports import Scorer, SentimentModel, Transaction

SENTIMENT_EVENTS = frozenset({SUPPORT_TICKET, "Review Submitted"})


class Escalations:
    """The tasks one batch opens, against the tasks already open; the stored part is read at first need."""

    def __init__(self, tx: Transaction, customer_ids: set[str], rules: Iterable[RuleBase]) -> None:
        self._tx = tx
        self._customer_ids = customer_ids
        self.rules = tuple(rules)
        self._watched = frozenset(name for rule in self.rules for name in rule.events)  # global rules' events
        self._open: dict[tuple[str, str], str] | None = None
        self._tickets: dict[str, list[datetime]] | None = None
        self._batch_tickets: dict[str, list[datetime]] = {}

    def standing_for(self, task: OpenTask) -> str:
        """The id of the task that stands for `task`: the customer's open task of its reason, else its own."""
        if self._open is None:
            self._open = self._tx.open_tasks(self._customer_ids)
        return self._open.setdefault((task.customer_id, task.reason), task.task_id)

    def merged(self, decision: Decision) -> tuple[Enrollment, tuple[Effect, ...]]:
        """The decision without tasks that duplicate an open one; a wait on such a task moves to that one."""
        enrollment, kept = decision.enrollment, []
        for effect in decision.effects:
            if isinstance(effect, OpenTask):
                standing = self.standing_for(effect)
                if standing != effect.task_id:
                    waiting = enrollment.waiting
                    if waiting is not None and waiting.ref == effect.task_id:
                        enrollment = replace(enrollment, waiting=replace(waiting, ref=standing))
                    continue
            kept.append(effect)
        return enrollment, tuple(kept)

    def opened_by(
        self, event: Event, customer: Customer, enrollments: Iterable[Enrollment], catalog, now: datetime
    ) -> list[OpenTask]:
        """The new tasks the rules open for this event (global ones, and those of the customer's journeys)."""
        found = []
        if event.name in self._watched or catalog.journey_rules:  # most events: no rule reads them
            found = self._opened(event, customer, enrollments, catalog, now)
        if event.name == SUPPORT_TICKET:
            self._batch_tickets.setdefault(event.customer_id, []).append(event.at)
        return found

    def _opened(
        self, event: Event, customer: Customer, enrollments: Iterable[Enrollment], catalog, now: datetime
    ) -> list[OpenTask]:
        rules: list[tuple[RuleBase, Origin | None]] = [
            (rule, None) for rule in self.rules if event.name in rule.events
        ]
        for enrollment in enrollments if catalog.journey_rules else ():
            version = catalog.get(enrollment.journey_id, enrollment.version)
            origin = Origin(enrollment.journey_id, enrollment.version, enrollment.id)
            rules.extend((rule, origin) for rule in version.journey.escalation if event.name in rule.events)
        if not rules:
            return []
        tickets = self._ticket_times(event.customer_id, rules)
        candidates = escalations(rules, event=event, facts=Facts(customer, tickets), now=now)
        return [task for task in candidates if self.standing_for(task) == task.task_id]

    def _ticket_times(self, customer_id: str, rules: list[tuple[RuleBase, Origin | None]]) -> list[datetime]:
        if not any(isinstance(rule, RepeatedComplaints) for rule, _ in rules):
            return []
        if self._tickets is None:
            stored = self._tx.histories(self._customer_ids, [SUPPORT_TICKET])
            self._tickets = {customer: [event.at for event in found] for customer, found in stored.items()}
        return [*self._tickets.get(customer_id, ()), *self._batch_tickets.get(customer_id, ())]


class LazyScores(Mapping[str, float]):
    """A customer's scores as conditions see them (`score.repeat_purchase`): worked out at the first read."""

    __slots__ = ("_compute", "_values")

    def __init__(self, compute: Callable[[], Mapping[str, float | None]]) -> None:
        self._compute = compute
        self._values: dict[str, float] | None = None

    def _all(self) -> dict[str, float]:
        if self._values is None:
            self._values = {name: value for name, value in self._compute().items() if value is not None}
        return self._values

    def __getitem__(self, name: str) -> float:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class Histories:
    """The customers' stored history of the events a scorer reads, read for the whole batch at first need,
    with the batch's own events after it."""

    def __init__(self, tx: Transaction, customer_ids: set[str], scorer: Scorer) -> None:
        self._tx, self._customer_ids, self._scorer = tx, customer_ids, scorer
        self._stored: dict[str, list[Event]] | None = None

    def of(self, customer_id: str, fresh: list[tuple[Event, int]]) -> list[Event]:
        if self._stored is None:
            self._stored = self._tx.histories(self._customer_ids, self._scorer.events)
        names = self._scorer.events
        recent = [event for event, _ in fresh if event.customer_id == customer_id and event.name in names]
        return [*self._stored.get(customer_id, ()), *recent]


def with_sentiment(events: list[Event], model: SentimentModel | None) -> list[Event]:
    """Tickets and reviews with a `sentiment` property (-1 to 1) from their text, unless they carry one."""
    if model is None:
        return events
    return [_scored(event, model) if event.name in SENTIMENT_EVENTS else event for event in events]


def _scored(event: Event, model: SentimentModel) -> Event:
    if "sentiment" in event.properties:
        return event
    text = text_of(event)
    if not text:
        return event
    return replace(event, properties={**event.properties, "sentiment": round(model.score(text), 4)})

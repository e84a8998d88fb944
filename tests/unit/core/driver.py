"""A driver for the state machine in tests: one customer's enrollment, moved the way the engine moves it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import count
from textwrap import dedent

from onboardflow.core.durations import parse_duration
from onboardflow.core.effects import CancelTimer, Decision, ScheduleTimer, SendMessage, UpdateCustomer
from onboardflow.core.machine import EventReceived, TimerFired, advance, start
from onboardflow.core.migration import migrate
from onboardflow.core.model import Customer, Enrollment, Event, apply_update
from onboardflow.core.validation import load_journey

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RETAIL = Customer(id="c1", email="ana@example.com", country="US", traits={"type": "retail"}, orders_count=1)
WHOLESALE = replace(RETAIL, traits={"type": "wholesale"})


def journey(steps: str, **top: str) -> str:
    """A journey triggered by `Order Completed`, with `steps` and any top-level fields given."""
    head = "id: test\nname: Test\nowner: cs@shop.example\ntrigger: {event: Order Completed}\n"
    extra = "".join(f"{key}: {value}\n" for key, value in top.items())
    return head + extra + "steps:\n" + dedent(steps)


class Run:
    """One customer's enrollment, driven as the engine drives it."""

    def __init__(self, text: str, *, customer: Customer = RETAIL, default_zone: str = "UTC") -> None:
        self.version = load_journey(text, source="test.yaml")
        self.customer = customer
        self.default_zone = default_zone
        self.now = T0
        self.enrollment: Enrollment | None = None
        self.timers: dict[str, datetime] = {}  # pending: scheduled, not yet cancelled or fired
        self.effects: list = []
        self.decisions: list[Decision] = []
        self._ids = count(1)

    def event(self, name: str, **properties) -> Event:
        return Event(f"e{next(self._ids)}", name, self.customer.id, self.now, properties)

    def trigger(self, **properties) -> Decision:
        properties.setdefault("order_id", "o1")
        trigger = self.event(self.version.journey.trigger.event, **properties)
        return self._take(
            start(self.version, customer=self.customer, event=trigger, now=self.now,
                  default_zone=self.default_zone)
        )

    def receive(self, name: str, **properties) -> Decision:
        return self.apply(EventReceived(self.event(name, **properties)))

    def fire(self, timer_id: str) -> Decision:
        self.timers.pop(timer_id, None)
        return self.apply(TimerFired(timer_id))

    def apply(self, stimulus) -> Decision:
        return self._take(
            advance(
                self.version, self.enrollment, stimulus, customer=self.customer, now=self.now,
                default_zone=self.default_zone,
            )
        )

    def move_to(self, text: str, step_id: str, *, version: int = 2) -> Decision:
        """Migrate the enrollment to the journey `text` (as version `version`) at `step_id`, as publishing
        it would, and drive that version from then on."""
        new = load_journey(text, source="test.yaml", version=version)
        decision = migrate(self.version, new, self.enrollment, new_step_id=step_id, customer=self.customer,
                           now=self.now, default_zone=self.default_zone)
        self.version = new
        return self._take(decision)

    def sleep(self, duration: str) -> None:
        """Jump the clock forward, firing each timer that falls due on the way, at its due time."""
        until = self.now + parse_duration(duration)
        while self.timers and min(self.timers.values()) <= until:
            timer_id, due = min(self.timers.items(), key=lambda item: item[1])
            self.now = due
            self.fire(timer_id)
        self.now = until

    def _take(self, decision: Decision) -> Decision:
        self.enrollment = decision.enrollment
        self.decisions.append(decision)
        self.effects.extend(decision.effects)
        for effect in decision.effects:
            if isinstance(effect, ScheduleTimer):
                self.timers[effect.timer_id] = effect.due_at
            elif isinstance(effect, CancelTimer):
                del self.timers[effect.timer_id]
            elif isinstance(effect, UpdateCustomer):  # as the engine does
                self.customer = apply_update(
                    self.customer, set_traits=effect.set_traits, unset=effect.unset,
                    add_tags=effect.add_tags, remove_tags=effect.remove_tags, at=effect.at,
                )
        return decision

    @property
    def sent(self) -> list[str]:
        return [effect.template for effect in self.effects if isinstance(effect, SendMessage)]

    @property
    def ended(self) -> tuple[str, str | None]:
        return self.enrollment.status, self.enrollment.exit_reason


def only(effects, kind):
    found = [effect for effect in effects if isinstance(effect, kind)]
    assert len(found) == 1, effects
    return found[0]

"""A small shop for engine tests: the memory store, a virtual clock, the engine, and event makers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from onboardflow.catalog import example_templates
from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.demo import demo_journeys
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York: outside the examples' quiet hours

RETAIL = {"email": "ana@example.com", "phone": "+15551234567", "country": "US",
          "timezone": "America/New_York", "traits": {"type": "retail"}}
WHOLESALE = {**RETAIL, "email": "buyer@wholesale.example", "traits": {"type": "wholesale"}}
EMAIL_ONLY = {"email": "bo@example.com", "country": "GB"}


class Shop:
    """The engine on dicts and a virtual clock, with short ways to say what customers do."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.clock = VirtualClock(T0)
        self.engine = Engine(self.store, clock=self.clock)
        self._ids = count(1)

    def dispatcher(self, channels=None, **options) -> Dispatcher:
        """The outbox's dispatcher on this shop: sandbox channels and the example templates unless told."""
        channels = sandbox_channels() if channels is None else channels
        return Dispatcher(self.store, self.engine.catalog, channels, templates=example_templates(), **options)

    def publish_examples(self) -> None:
        for version in demo_journeys():
            self.engine.publish(version)

    def publish(self, text: str):
        return self.engine.publish(load_journey(text, source="test.yaml"))

    def event(self, name: str, customer_id: str = "c1", *, id: str | None = None, at: datetime | None = None,
              customer: dict | None = None, **properties) -> Event:
        event_id = id or f"e{next(self._ids)}"
        return Event(event_id, name, customer_id, at or self.clock.now(), properties, customer)

    def order(self, customer_id: str = "c1", order_id: str = "o1", *, profile: dict | None = RETAIL,
              total: float = 60.0, **kw) -> Event:
        """A first order by default: the profile makes the customer a retail buyer in the US."""
        return self.event("Order Completed", customer_id, customer=profile, order_id=order_id, total=total,
                          **kw)

    def delivered(self, customer_id: str = "c1", order_id: str = "o1", **kw) -> Event:
        return self.event("Order Delivered", customer_id, order_id=order_id, **kw)

    def after(self, **duration) -> datetime:
        return self.clock.advance(timedelta(**duration))

    def ingest(self, *events: Event):
        return self.engine.ingest(list(events))

    def enrollment(self, customer_id: str = "c1", journey_id: str = "first-purchase-welcome"):
        found = [e for e in self.store.enrollments_of(customer_id) if e.journey_id == journey_id]
        assert len(found) == 1, found
        return found[0]

    def sent(self, customer_id: str = "c1", journey_id: str | None = None) -> list[str]:
        """The steps that made a message for the customer, in order."""
        rows = self.store.messages(customer_id)
        return [row.message.step_id for row in rows if journey_id in (None, row.message.journey_id)]

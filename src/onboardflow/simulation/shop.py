"""The simulated shop: each customer's plan, drawn from their persona, as events to come and chances.

A plan is fixed by the seed and the customer's number alone (each customer has a random stream of
their own), so a customer does the same whatever else runs. Some of what a customer does is a
`Chance`, decided when its time comes: a support ticket, a refund, a review, another order. Its odds
are the persona's, multiplied by the reactions to the messages the customer had by then
(`simulation.behaviour`), which is how a journey's effect shows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from onboardflow.core.model import Event
from onboardflow.simulation.moments import Moments
from onboardflow.simulation.personas import CHANNELS, COUNTRIES, Numbers, Persona, PersonaSet
from onboardflow.simulation.plans import (  # noqa: F401 (Chance, Emit, random_stream: imported from here too)
    DAY,
    HOUR,
    START,
    Action,
    Chance,
    Emit,
    iso,
    random_stream,
    span_of,
)


@dataclass(frozen=True)
class CustomerPlan:
    customer_id: str
    persona: Persona
    history: list[Event]  # before the run: counted in the profile, seen by no journey
    actions: list[Action]


class Shop:
    """The customers of one run: `customers` of them, arriving over the first half of `days`."""

    def __init__(
        self, personas: PersonaSet, *, customers: int, days: int, seed: int, start: datetime = START
    ):
        self.personas = personas
        self.customers, self.days, self.seed, self.start = customers, days, seed, start
        self.end = start + timedelta(days=days)
        self._width = max(5, len(str(customers)))
        self._mix = list(personas.personas)
        self._cumulative = list(accumulate(persona.weight for persona in self._mix))

    def customer_id(self, number: int) -> str:
        return f"c_{number:0{self._width}d}"

    def plans(self) -> Iterator[CustomerPlan]:
        for number in range(1, self.customers + 1):
            yield self.plan(number)

    def arrival(self, number: int) -> datetime:
        """When customer `number` first shows up: evenly over the first half of the run."""
        return self.start + timedelta(
            seconds=random_stream(self.seed, number, "arrival").uniform(0, self.days * 43200)
        )

    def plan(self, number: int) -> CustomerPlan:
        rng = random_stream(self.seed, number)
        persona = rng.choices(self._mix, cum_weights=self._cumulative)[0]
        return _Story(self, self.customer_id(number), persona).plan(rng, self.arrival(number))


class _Story(Moments):
    """One customer's plan being drawn: their profile, their orders and what follows each."""

    def __init__(self, shop: Shop, customer_id: str, persona: Persona) -> None:
        self.shop, self.cid, self.persona = shop, customer_id, persona
        self.profile: dict[str, Any] | None = None  # the identify block, carried by the first event

    def plan(self, rng: random.Random, arrival: datetime) -> CustomerPlan:
        persona = self.persona
        self.profile = self._profile(rng)
        history = self._history(rng)
        actions: list[Action] = []
        first_order = arrival
        if rng.random() < persona.signup:
            actions.append(Emit(arrival, self._event("signup", "Signed Up", arrival, {})))
            if rng.random() < persona.activation:
                login = arrival + timedelta(seconds=rng.uniform(3600, 4 * 86400))
                actions.append(Emit(login, self._event("login", "First Login", login, {})))
                actions.extend(self._profile_completed(login))
            first_order = arrival + span_of(rng, persona.orders.first_after)
        actions.extend(self.order(1, first_order, rng))
        if persona.subscription is not None:
            actions.extend(self._subscription(first_order, rng))
        return CustomerPlan(self.cid, persona, history, actions)

    def _profile(self, rng: random.Random) -> dict[str, Any]:
        persona, cid = self.persona, self.cid
        country = _weighted(rng, persona.profile.countries)
        zone, locale, prefix = COUNTRIES[country]
        number = cid.rsplit("_", 1)[-1][-6:].rjust(6, "0")
        consent = {
            channel: {
                "status": "granted" if rng.random() < persona.consent.get(channel, 0) else "withdrawn",
                "source": "signup form",
            }
            for channel in CHANNELS
        }
        block = {
            "country": country,
            "timezone": zone,
            "locale": persona.profile.locale or locale,
            "traits": {**persona.profile.traits, "persona": persona.id},
            "consent": consent,
        }
        if rng.random() < persona.profile.email:
            block["email"] = f"{cid}@example.com"
        if rng.random() < persona.profile.phone:
            block["phone"] = f"{prefix}{number}"
        return block

    def _event(self, key: str, name: str, at: datetime, properties: dict[str, Any]) -> Event:
        block, self.profile = self.profile, None
        return Event(f"{self.cid}-{key}", name, self.cid, at, properties, block)

    def _history(self, rng: random.Random) -> list[Event]:
        count = _count(rng, self.persona.orders.history)
        moments = sorted(
            self.shop.start - timedelta(seconds=rng.uniform(20 * 86400, 400 * 86400)) for _ in range(count)
        )
        history = []
        for number, at in enumerate(moments, start=1):
            properties = self._basket(rng, f"{self.cid}-h{number}")
            history.append(self._event(f"h{number}-completed", "Order Completed", at, properties))
            delivered = at + timedelta(days=rng.uniform(2, 6))
            history.append(
                self._event(
                    f"h{number}-delivered",
                    "Order Delivered",
                    delivered,
                    {"order_id": f"{self.cid}-h{number}", "late": False},
                )
            )
        return history

    def _basket(self, rng: random.Random, order_id: str) -> dict[str, Any]:
        orders = self.persona.orders
        category = _weighted(rng, orders.categories)
        quantity = max(1, _count(rng, orders.items))
        total = round(rng.uniform(orders.value.low, orders.value.high), 2)
        price = round(total / quantity, 2)
        product = {"product_id": f"p_{category}", "category": category, "price": price, "quantity": quantity}
        return {"order_id": order_id, "total": total, "currency": orders.currency, "products": [product]}

    def order(self, number: int, at: datetime, rng: random.Random) -> list[Action]:
        """An order and what follows it: payment, shipping, delivery (on time, late or failed), then
        the chances of a ticket, a refund, a review and another order."""
        order_id = f"{self.cid}-o{number}"
        properties = self._basket(rng, order_id)
        estimate = (at + timedelta(days=self.persona.delivery.days.high + 2)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        properties["estimated_delivery_at"] = iso(estimate)
        actions: list[Action] = [*self._abandoned_checkout(number, at, properties)]
        actions.append(Emit(at, self._event(f"o{number}-completed", "Order Completed", at, properties)))
        paid = self._payment(order_id, number, at, rng, actions)
        if paid is None:
            return actions
        shipped = paid + timedelta(hours=rng.uniform(12, 48))
        actions.append(
            Emit(shipped, self._event(f"o{number}-shipped", "Order Shipped", shipped, {"order_id": order_id}))
        )
        delivered, late = self._delivery(properties, number, shipped, estimate, rng, actions)
        actions.extend(self._after_delivery(order_id, number, delivered, late, rng))
        return actions

    def _payment(
        self, order_id: str, number: int, at: datetime, rng: random.Random, actions: list
    ) -> datetime | None:
        payment = self.persona.payment
        if rng.random() >= payment.failure:
            paid = at + timedelta(minutes=rng.uniform(1, 30))
            actions.append(
                Emit(paid, self._event(f"o{number}-paid", "Payment Confirmed", paid, {"order_id": order_id}))
            )
            return paid
        failed = at + timedelta(minutes=rng.uniform(1, 10))
        actions.append(
            Emit(
                failed,
                self._event(
                    f"o{number}-payment-failed",
                    "Payment Failed",
                    failed,
                    {"order_id": order_id, "reason": "card declined"},
                ),
            )
        )
        actions.append(self._ticket(order_id, number, "payment", failed, rng))
        if rng.random() < payment.recovered:
            paid = failed + timedelta(hours=rng.uniform(1, 24))
            actions.append(
                Emit(paid, self._event(f"o{number}-paid", "Payment Confirmed", paid, {"order_id": order_id}))
            )
            return paid
        cancelled = failed + DAY
        actions.append(
            Emit(
                cancelled,
                self._event(
                    f"o{number}-cancelled",
                    "Order Cancelled",
                    cancelled,
                    {"order_id": order_id, "reason": "payment failed"},
                ),
            )
        )
        return None

    def _delivery(self, order: dict, number, shipped, estimate, rng, actions) -> tuple[datetime, bool]:
        """Delivered on time, late (announced by a `Delivery Delayed`) or after a failed attempt (a
        `Delivery Failed`, then a `Delivery Delayed` with the new estimate)."""
        delivery, order_id = self.persona.delivery, order["order_id"]
        known: datetime | None = None  # when the delay is known, after a failed attempt
        roll = rng.random()
        if roll < delivery.failed:
            failed = shipped + timedelta(days=rng.uniform(delivery.days.low, delivery.days.high))
            properties = {"order_id": order_id, "reason": "nobody home"}
            actions.append(
                Emit(failed, self._event(f"o{number}-delivery-failed", "Delivery Failed", failed, properties))
            )
            actions.append(self._ticket(order_id, number, "delivery", failed, rng))
            delivered = max(failed, estimate) + timedelta(
                days=rng.uniform(delivery.late_by.low, delivery.late_by.high)
            )
            known = failed + timedelta(minutes=5)
        elif roll < delivery.failed + delivery.late:
            delivered = estimate + timedelta(days=rng.uniform(delivery.late_by.low, delivery.late_by.high))
            actions.append(self._ticket(order_id, number, "delivery", estimate, rng))
        else:
            delivered = shipped + timedelta(days=rng.uniform(delivery.days.low, delivery.days.high))
        late = delivered.date() > estimate.date()
        if late:
            reason = "failed attempt" if known else "carrier delay"
            known = known or max(shipped, min(estimate + 8 * HOUR, delivered - HOUR))
            actions.append(self._delayed(order, number, known, delivered, reason))
        properties = {"order_id": order_id, "estimated_delivery_at": iso(estimate), "late": late}
        actions.append(
            Emit(delivered, self._event(f"o{number}-delivered", "Order Delivered", delivered, properties))
        )
        return delivered, late

    def _after_delivery(
        self, order_id: str, number: int, delivered: datetime, late: bool, rng: random.Random
    ) -> list[Action]:
        persona, cid = self.persona, self.cid
        review_at = delivered + timedelta(days=rng.uniform(2, 10))
        score = _weighted(rng, {"5": 5, "4": 3, "3": 1, "2": 0.5, "1": 0.5})
        review = self._event(
            f"o{number}-review", "Review Submitted", review_at, {"order_id": order_id, "score": int(score)}
        )
        refund_at = delivered + timedelta(days=rng.uniform(1, 6))
        refund = self._event(
            f"o{number}-refund",
            "Refund Requested",
            refund_at,
            {"order_id": order_id, "reason": "not as expected"},
        )
        again = delivered + span_of(rng, persona.repeat.after)
        stream = rng.random()  # the next order's own draws: fixed now, used only if it happens
        return [
            self._ticket(order_id, number, "setup", delivered, rng),
            Chance(
                refund_at,
                cid,
                "refund",
                min(1.0, persona.refund * (2 if late else 1)),
                rng.random(),
                lambda: [Emit(refund.at, refund)],
            ),
            Chance(review_at, cid, "review", persona.review, rng.random(), lambda: [Emit(review.at, review)]),
            Chance(
                again,
                cid,
                "repeat",
                persona.repeat.share,
                rng.random(),
                lambda: self.order(number + 1, again, random_stream(self.shop.seed, cid, number + 1, stream)),
            ),
        ]

    def _ticket(self, order_id: str, number: int, topic: str, since: datetime, rng: random.Random) -> Chance:
        support = self.persona.support
        at = since + span_of(rng, support.after)
        tone = _weighted(rng, support.tone)
        ticket = self._event(
            f"o{number}-ticket-{topic}",
            "Support Ticket Opened",
            at,
            {"order_id": order_id, "ticket_id": f"{order_id}-{topic}", "topic": topic, "tone": tone},
        )
        odds = {"setup": support.setup, "delivery": support.delivery, "payment": support.payment}[topic]
        return Chance(
            at,
            self.cid,
            f"{topic}_ticket",
            odds,
            rng.random(),
            lambda: [Emit(ticket.at, ticket), *self._resolved(ticket)],
        )


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[name] for name in names])[0]


def _count(rng: random.Random, numbers: Numbers) -> int:
    return rng.randint(int(numbers.low), int(numbers.high))


def recorded_stream(shop: Shop) -> tuple[list[Event], list[Event]]:
    """Every customer's plan as a fixed stream, as if nobody read a message: each chance decided at the
    persona's own odds. (history before the run, events of the run), each in time order."""
    history, events = [], []
    for plan in shop.plans():
        history.extend(plan.history)
        pending = list(plan.actions)
        while pending:
            action = pending.pop()
            if isinstance(action, Chance):
                if action.roll < action.odds:
                    pending.extend(action.then())
            elif action.at <= shop.end:
                events.append(action.event)
    order = lambda event: (event.at, event.id)  # noqa: E731
    return sorted(history, key=order), sorted(events, key=order)

"""The moments of a customer's plan around their orders: a checkout left unfinished, a completed profile,
a delivery delayed, a ticket resolved and rated, a subscription's renewals. Each draws from a random
stream of its own (beside the customer's), so adding one changes nothing else in the plan."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from onboardflow.core.model import Event
from onboardflow.simulation.plans import Action, Emit, iso, random_stream, span_of


class Moments:
    """Mixed into the shop's story of one customer: `shop`, `cid`, `persona`, `_event` and `order` are its."""

    def _abandoned_checkout(self, number: int, at: datetime, order: dict[str, Any]) -> list[Action]:
        """Maybe a checkout left unfinished before the order (the same basket): a `Checkout Started` the
        order does not follow at once. Its own random stream: it adds no draw to the customer's plan."""
        checkout = self.persona.checkout
        rng = random_stream(self.shop.seed, self.cid, number, "checkout")
        if rng.random() >= checkout.abandon:
            return []
        started = at - span_of(rng, checkout.before)
        checkout_id = f"{order['order_id']}-checkout"
        properties = {
            **order,
            "checkout_id": checkout_id,
            "checkout_url": f"https://shop.example/checkouts/{checkout_id}",
        }
        del properties["order_id"]
        return [Emit(started, self._event(f"o{number}-checkout", "Checkout Started", started, properties))]

    def _profile_completed(self, login: datetime) -> list[Action]:
        """Maybe a completed profile after the first login: preferences as traits, consent restated."""
        completion = self.persona.profile_completion
        rng = random_stream(self.shop.seed, self.cid, "profile")
        if rng.random() >= completion.share:
            return []
        at = login + span_of(rng, completion.after)
        channel = rng.choice(("email", "sms"))
        block = {
            "traits": {"preferred_channel": channel, "interests": sorted(self.persona.orders.categories)[:2]},
            "consent": {channel: {"status": "granted", "source": "profile form"}},
        }
        event = Event(
            f"{self.cid}-profile", "Profile Completed", self.cid, at, {"fields": ["preferences"]}, block
        )
        return [Emit(at, event)]

    def _delayed(self, order: dict, number: int, known: datetime, delivered: datetime, reason: str) -> Emit:
        """The carrier's word that an order will be late, with the new estimate (the day it will come)."""
        estimate = delivered.replace(hour=0, minute=0, second=0, microsecond=0)
        properties = {
            "order_id": order["order_id"],
            "reason": reason,
            "estimated_delivery_at": iso(estimate),
            "order_total": order["total"],
            "currency": order["currency"],
        }
        return Emit(known, self._event(f"o{number}-delayed", "Delivery Delayed", known, properties))

    def _resolved(self, ticket: Event) -> list[Emit]:
        """A ticket's resolution, and maybe the customer's rating of the help (drawn from a stream of the
        ticket's own, so it adds no draw to the customer's plan)."""
        support, properties = self.persona.support, ticket.properties
        rng = random_stream(self.shop.seed, ticket.id, "resolution")
        resolved_at = ticket.at + span_of(rng, support.resolved_after)
        about = {
            "order_id": properties["order_id"],
            "ticket_id": properties["ticket_id"],
            "topic": properties["topic"],
        }
        key = ticket.id.removeprefix(f"{self.cid}-")  # o1-ticket-setup
        emits = [
            Emit(resolved_at, self._event(f"{key}-resolved", "Support Ticket Resolved", resolved_at, about))
        ]
        if rng.random() < support.rated:
            rated_at = resolved_at + timedelta(hours=rng.uniform(4, 72))
            bad = rng.random() < support.rated_bad.get(properties["tone"], 0.0)
            rating = {
                **about,
                "rating": "bad" if bad else "good",
                "score": rng.randint(1, 2) if bad else rng.randint(4, 5),
            }
            rated = self._event(f"{key}-rated", "Satisfaction Rated", rated_at, rating)
            emits.append(Emit(rated_at, rated))
        return emits

    def _subscription(self, first_order: datetime, rng: random.Random) -> list[Action]:
        """Renewals until the run ends, each announced `notice` before it is due; a failed payment is
        paid later (a `Payment Confirmed`, then the box) by a share of subscribers, drawn apart."""
        plan = self.persona.subscription
        started = first_order + timedelta(minutes=1)
        properties = {"plan": plan.plan, "price": plan.price, "every": f"{plan.every.days}d"}
        actions: list[Action] = [
            Emit(started, self._event("subscription", "Subscription Started", started, properties))
        ]
        due, renewal = first_order + plan.every, 1
        while due < self.shop.end:
            about = {"plan": plan.plan, "renewal": renewal}
            notice = max(started, due - plan.notice)
            upcoming = {**about, "price": plan.price, "charge_at": iso(due)}
            actions.append(
                Emit(
                    notice,
                    self._event(f"r{renewal}-upcoming", "Subscription Renewal Upcoming", notice, upcoming),
                )
            )
            actions.append(Emit(due, self._event(f"r{renewal}-due", "Subscription Renewal Due", due, about)))
            if rng.random() < plan.failure:
                failed = due + timedelta(minutes=5)
                said = {**about, "reason": "card expired"}
                actions.append(
                    Emit(failed, self._event(f"r{renewal}-failed", "Payment Failed", failed, said))
                )
                actions.extend(self._recovery(renewal, failed))
            else:
                actions.extend(self.order(100 + renewal, due + timedelta(minutes=5), rng))
            due, renewal = due + plan.every, renewal + 1
        return actions

    def _recovery(self, renewal: int, failed: datetime) -> list[Action]:
        """Maybe the failed renewal paid later (the card updated), and then the box."""
        plan = self.persona.subscription
        own = random_stream(self.shop.seed, self.cid, renewal, "recovery")
        if own.random() >= plan.recovered:
            return []
        paid = failed + timedelta(hours=own.uniform(2, 48))
        about = {"plan": plan.plan, "renewal": renewal}
        confirmed = Emit(paid, self._event(f"r{renewal}-paid", "Payment Confirmed", paid, about))
        return [confirmed, *self.order(100 + renewal, paid + timedelta(minutes=5), own)]

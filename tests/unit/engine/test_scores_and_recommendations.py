"""What the models give the journeys: `score.*` in conditions, worked out only when a condition reads it
and from the customer's history; `recommendations` in message templates, never what they bought."""

from __future__ import annotations

from datetime import timedelta

from onboardflow.channels.recording import RecordingChannel
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.intelligence.recommendations import train_recommendations
from onboardflow.messages.loading import templates_from_texts

from .shop import RETAIL, Shop

ROUTED = """
id: nudge
name: Nudge
owner: growth@shop.example
trigger: {event: Order Completed}
steps:
  - {id: settle, wait: 5d}
  - id: route
    branch:
      - when: score.repeat_purchase < 0.2
        goto: reassure
    default: done
  - {id: reassure, send: {channel: email, template: picks}}
  - {id: done, exit: completed}
"""
PLAIN = """
id: plain
name: Plain
owner: growth@shop.example
trigger: {event: Order Completed}
steps:
  - {id: done, exit: completed}
"""


class CountingScorer:
    """Scores from the history it is given: low for a customer who left a bad review; counts its calls."""

    names = frozenset({"repeat_purchase"})
    events = frozenset({"Order Completed", "Review Submitted"})

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], object]] = []

    def score(self, customer, history, now):
        self.calls.append((customer.id, [event.name for event in history], now))
        bad = any(event.name == "Review Submitted" and event.properties["score"] <= 2 for event in history)
        return {"repeat_purchase": 0.1 if bad else 0.6}


def scored(shop: Shop) -> CountingScorer:
    scorer = CountingScorer()
    shop.engine = Engine(shop.store, clock=shop.clock, scorer=scorer)
    return scorer


def test_a_branch_on_the_score_routes_each_customer_by_their_own_history(shop):
    scorer = scored(shop)
    shop.publish(ROUTED)
    shop.ingest(shop.order("c1"), shop.order("c2", "o2"))
    shop.after(days=2)
    shop.ingest(shop.event("Review Submitted", "c1", score=1, order_id="o1"), shop.event("Page Viewed", "c2"))

    shop.engine.run_timers_until(shop.clock.now() + timedelta(days=4))

    assert shop.sent("c1") == ["reassure"]
    assert shop.sent("c2") == []
    assert sorted((customer, names) for customer, names, _ in scorer.calls) == [
        ("c1", ["Order Completed", "Review Submitted"]),
        ("c2", ["Order Completed"]),
    ]
    assert {now for _, _, now in scorer.calls} == {shop.clock.now() - timedelta(days=1)}  # the timer's time


def test_no_score_is_worked_out_while_no_journey_reads_one(shop):
    scorer = scored(shop)
    shop.publish(PLAIN)

    shop.ingest(shop.order("c1"), shop.event("Review Submitted", "c1", score=1))

    assert scorer.calls == []


def test_without_a_scorer_a_score_condition_does_not_hold(shop):
    shop.publish(ROUTED)
    shop.ingest(shop.order("c1"))

    shop.engine.run_timers_until(shop.clock.now() + timedelta(days=6))

    assert shop.sent("c1") == []
    assert [visit.step_id for visit in shop.enrollment("c1", "nudge").history] == ["settle", "route", "done"]


PICKS = {
    "picks": "email:\n  default:\n    subject: Picked for you\n    text: >-\n"
    "      {% for item in recommendations %}{{ item.name }} {{ item.price }} {{ item.url }};"
    "{% endfor %}\n"
}


def line(pid: str, category: str = "coffee") -> dict:
    return {
        "product_id": pid,
        "name": pid.title(),
        "category": category,
        "price": 12.0,
        "quantity": 1,
        "url": f"https://shop.example/{pid}",
        "image_url": f"https://shop.example/{pid}.jpg",
    }


def test_a_template_shows_recommendations_for_the_customer_without_what_they_bought(shop):
    past = [
        (shop.clock.now(), "x", [line("beans"), line("filter")]),
        (shop.clock.now(), "y", [line("beans"), line("mug")]),
        (shop.clock.now(), "z", [line("filter")]),
    ]
    recommender = train_recommendations(past)
    shop.publish(ROUTED)
    scored(shop).score = lambda customer, history, now: {"repeat_purchase": 0.1}
    shop.ingest(
        shop.event(
            "Order Completed", "c1", customer=RETAIL, order_id="o1", total=12.0, products=[line("beans")]
        )
    )
    shop.engine.run_timers_until(shop.clock.now() + timedelta(days=6))
    email = RecordingChannel("email")
    sender = Dispatcher(
        shop.store,
        shop.engine.catalog,
        {"email": email},
        templates=templates_from_texts(PICKS),
        recommender=recommender,
        recommendations=2,
    )

    sender.dispatch_due(now=shop.clock.now())

    [sent] = email.sent
    # mug's one buyer bought beans too (cosine 0.71); filter's two, one of them (0.5)
    assert sent.content.text == "Mug 12.0 https://shop.example/mug;Filter 12.0 https://shop.example/filter;"

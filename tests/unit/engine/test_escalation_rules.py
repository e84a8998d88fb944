"""Escalation rules on the engine: every kind opens its task from the event that fires it, one open task per
customer and reason, journeys' own rules while the customer is in them, overdue tasks marked once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onboardflow.core.escalation import event_text
from onboardflow.core.model import TASK_OVERDUE
from onboardflow.engine.engine import Engine
from onboardflow.escalation.rules import read_rules
from onboardflow.escalation.service import resolve_task, sweep_overdue

from .shop import RETAIL, Shop

GLOBAL = read_rules("""
rules:
  - {rule: high_value, order_total: 500, lifetime_value: 1000, queue: vip}
  - {rule: repeated_complaints, tickets: 3, within: 30d}
  - {rule: late_delivery}
  - {rule: failed_delivery}
  - {rule: payment_failure, due: 4h}
  - {rule: refund_request}
  - {rule: negative_sentiment, below: -0.3}
""")


class WordSentiment:
    """A stand-in model: -0.8 for a text with 'broken' in it, 0.6 otherwise."""

    name = "words"

    def score(self, text: str) -> float:
        return -0.8 if "broken" in text.lower() else 0.6


def ruled(shop: Shop, rules=GLOBAL, **options) -> Shop:
    shop.engine = Engine(shop.store, clock=shop.clock, rules=rules, sentiment=WordSentiment(), **options)
    return shop


@pytest.fixture
def desk(shop: Shop) -> Shop:
    return ruled(shop)


def opened(shop: Shop, customer_id: str = "c1") -> list[tuple[str, str, str]]:
    return [
        (row.task.reason, row.task.queue, row.task.priority)
        for row in shop.store.tasks(customer_id=customer_id)
    ]


def test_a_big_order_opens_a_high_value_task_with_the_order_in_its_context(desk):
    desk.ingest(desk.order(total=620.0))

    [row] = desk.store.tasks()
    assert (row.task.reason, row.task.queue, row.task.priority, row.task.rule) == (
        "high-value customer",
        "vip",
        "high",
        "high_value",
    )
    assert row.task.due_at == desk.clock.now() + timedelta(hours=48)  # the default SLA
    assert row.task.context["detail"] == "order total 620 is over 500"
    assert row.task.context["event"]["order_id"] == "o1"
    assert (row.task.journey_id, row.task.enrollment_id, row.task.step_id) == (None, None, None)


def test_lifetime_value_over_the_threshold_opens_the_task_on_the_order_that_passes_it(desk):
    desk.ingest(desk.order(order_id="o1", total=400.0), desk.order(order_id="o2", total=450.0))
    assert opened(desk) == []

    desk.ingest(desk.order(order_id="o3", total=300.0))

    [row] = desk.store.tasks()
    assert row.task.context["detail"] == "lifetime value 1150 is over 1000"


def test_the_lifetime_value_trait_counts_before_what_was_spent_here(desk):
    desk.ingest(desk.order(total=20.0, profile={**RETAIL, "traits": {"lifetime_value": 5000}}))

    assert opened(desk) == [("high-value customer", "vip", "high")]


def test_the_third_ticket_within_the_window_opens_a_repeated_complaints_task(desk):
    desk.ingest(desk.event("Support Ticket Opened", subject="where is my parcel"))
    desk.after(days=10)
    desk.ingest(desk.event("Support Ticket Opened", subject="still waiting"))
    assert opened(desk) == []

    desk.after(days=10)
    desk.ingest(desk.event("Support Ticket Opened", subject="third time asking"))

    [row] = desk.store.tasks()
    assert (row.task.reason, row.task.context["detail"]) == (
        "repeated complaints",
        "3 support tickets within 30 days",
    )
    assert row.task.context["text"] == "third time asking"


def test_tickets_older_than_the_window_do_not_count(desk):
    desk.ingest(desk.event("Support Ticket Opened", subject="one"))
    desk.after(days=25)
    desk.ingest(desk.event("Support Ticket Opened", subject="two"))
    desk.after(days=10)  # the first is 35 days old now

    desk.ingest(desk.event("Support Ticket Opened", subject="three"))

    assert opened(desk) == []


def test_tickets_in_one_batch_count_each_other(desk):
    events = [
        desk.event("Support Ticket Opened", at=desk.clock.now() + timedelta(hours=n), subject=f"#{n}")
        for n in range(3)
    ]

    desk.ingest(*events)

    assert opened(desk) == [("repeated complaints", "support", "high")]


@pytest.mark.parametrize(
    ("name", "properties", "reason"),
    [
        ("Order Delivered", {"order_id": "o1", "late": True}, "late delivery"),
        (
            "Order Delivered",
            {"order_id": "o1", "estimated_delivery_at": "2026-03-01T00:00:00Z"},
            "late delivery",
        ),
        ("Delivery Failed", {"order_id": "o1", "reason": "address not found"}, "failed delivery"),
        ("Payment Failed", {"reason": "card declined"}, "payment failed"),
        ("Refund Requested", {"order_id": "o1"}, "refund requested"),
    ],
)
def test_each_event_rule_opens_its_task(desk, name, properties, reason):
    desk.ingest(desk.event(name, **properties))

    assert [row.task.reason for row in desk.store.tasks()] == [reason]


def test_a_delivery_on_time_opens_nothing(desk):
    desk.ingest(desk.delivered(estimated_delivery_at="2026-03-09T00:00:00Z", late=False))

    assert desk.store.tasks() == []


def test_a_rule_sets_its_own_due_time(desk):
    desk.ingest(desk.event("Payment Failed"))

    assert desk.store.tasks()[0].task.due_at == desk.clock.now() + timedelta(hours=4)


def test_a_negative_review_is_scored_at_the_edge_and_escalated_with_its_text(desk):
    desk.ingest(
        desk.event("Review Submitted", title="Broken", text="arrived broken, nobody answers", score=1)
    )

    [row] = desk.store.tasks()
    assert row.task.reason == "negative sentiment"
    assert row.task.context["text"] == "Broken\narrived broken, nobody answers"
    assert row.task.context["detail"] == "review submitted reads negative (sentiment -0.80, below -0.3)"
    [stored] = desk.store.customer_history("c1")
    assert stored.properties["sentiment"] == -0.8  # kept on the event: conditions read event.sentiment


def test_a_positive_review_opens_nothing_and_a_given_sentiment_is_kept(desk):
    desk.ingest(
        desk.event("Review Submitted", text="lovely, thanks", score=5),
        desk.event("Support Ticket Opened", subject="broken?", sentiment=0.2),
    )

    assert desk.store.tasks() == []
    assert [e.properties["sentiment"] for e in desk.store.customer_history("c1")] == [0.6, 0.2]


def test_one_open_task_per_customer_and_reason_until_it_is_resolved(desk):
    desk.ingest(desk.event("Refund Requested", order_id="o1"))
    desk.ingest(
        desk.event("Refund Requested", order_id="o2"), desk.event("Refund Requested", "c2", order_id="o3")
    )
    assert sorted((row.task.customer_id, row.task.reason) for row in desk.store.tasks()) == [
        ("c1", "refund requested"),
        ("c2", "refund requested"),
    ]

    [first] = desk.store.tasks(customer_id="c1")
    resolve_task(store=desk.store, clock=desk.clock, task_id=first.task.task_id, outcome="refunded")
    desk.ingest(desk.event("Refund Requested", order_id="o4"))

    assert sorted(row.status for row in desk.store.tasks(customer_id="c1")) == ["open", "resolved"]


def test_the_same_event_twice_opens_one_task(desk):
    event = desk.event("Payment Failed", id="evt_pay")
    desk.ingest(event)
    desk.ingest(event)

    assert len(desk.store.tasks()) == 1


def test_history_backfill_opens_no_task(desk):
    desk.engine.ingest([desk.event("Refund Requested", order_id="o1")], journeys=False)

    assert desk.store.tasks() == []


REFUND_DESK = """
id: refund-desk
name: Refund desk
owner: cs@shop.example
trigger: {event: Refund Requested}
steps:
  - id: review
    escalate: {queue: refunds, reason: refund requested, wait: true, on_outcome: {refunded: sorry}}
  - {id: done, exit: completed}
  - id: sorry
    send: {channel: email, template: refund_apology}
    goto: done
"""


def test_an_escalate_step_joins_the_open_task_of_its_reason_and_resumes_on_its_outcome(desk):
    desk.ingest(desk.event("Refund Requested", order_id="o1"))  # the rule opens the task
    desk.publish(REFUND_DESK)
    desk.ingest(desk.event("Refund Requested", order_id="o2"))  # the step's task would be a second one

    [task] = desk.store.tasks()
    assert task.task.rule == "refund_request"
    assert desk.enrollment("c1", "refund-desk").waiting.ref == task.task.task_id

    desk.engine.resolve_task(task.task.task_id, outcome="refunded")

    assert desk.sent("c1") == ["sorry"]
    assert desk.enrollment("c1", "refund-desk").exit_reason == "completed"


JOURNEY_RULES = """
id: vip-care
name: VIP care
owner: cs@shop.example
trigger: {event: Signed Up}
escalation:
  - {rule: high_value, order_total: 100, queue: vip-care, reason: big first order}
steps:
  - {id: settle, wait: 30d}
  - {id: done, exit: completed}
"""


def test_a_journey_rule_holds_while_the_customer_is_in_the_journey(shop):
    ruled(shop, rules=())
    shop.publish(JOURNEY_RULES)
    shop.ingest(shop.event("Signed Up"), shop.order(total=150.0), shop.order("c2", "o9", total=150.0))

    [row] = shop.store.tasks()
    enrollment = shop.enrollment("c1", "vip-care")
    assert (row.task.customer_id, row.task.queue, row.task.reason) == ("c1", "vip-care", "big first order")
    assert (row.task.journey_id, row.task.version, row.task.enrollment_id) == ("vip-care", 1, enrollment.id)

    shop.engine.run_timers_until(shop.clock.now() + timedelta(days=31))  # the journey ends: its rule with it
    shop.ingest(shop.order(order_id="o2", total=900.0))
    assert len(shop.store.tasks()) == 1


def test_overdue_tasks_turn_urgent_once_and_tell_the_journeys(desk):
    desk.ingest(desk.event("Refund Requested", order_id="o1"))
    desk.after(hours=47)
    assert sweep_overdue(store=desk.store, now=desk.clock.now()) == []

    desk.after(hours=2)
    [marked] = sweep_overdue(store=desk.store, now=desk.clock.now())
    again = sweep_overdue(store=desk.store, now=desk.clock.now() + timedelta(hours=1))

    assert (marked.task.priority, marked.overdue_at) == ("urgent", desk.clock.now())
    assert again == []
    [queued] = [q.event for q in desk.store.queue.values()]
    assert (queued.name, queued.properties["task_id"]) == (TASK_OVERDUE, marked.task.task_id)


def test_the_text_of_a_ticket_is_its_subject_and_body(shop):
    ticket = shop.event("Support Ticket Opened", subject=" Late ", body="Where is it?", priority=2)

    assert event_text(ticket) == "Late\nWhere is it?"

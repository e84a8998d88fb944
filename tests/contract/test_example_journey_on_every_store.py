"""The example journey of DESIGN.md, end to end through the engine, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboardflow.catalog import example_files
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def welcome_journey():
    text = dict(example_files())["first-purchase-welcome.yaml"]
    return load_journey(text, source="first-purchase-welcome.yaml")


def order(cid: str, at: datetime, kind: str = "retail", country: str = "US") -> Event:
    profile = {"email": f"{cid}@example.com", "country": country, "traits": {"type": kind}}
    return Event(f"{cid}-order", "Order Completed", cid, at, {"order_id": f"{cid}-o1", "total": 80.0}, profile)


def delivered(cid: str, at: datetime) -> Event:
    return Event(f"{cid}-delivered", "Order Delivered", cid, at, {"order_id": f"{cid}-o1"})


def stream() -> list[Event]:
    return [
        order("retail", START),
        order("wholesale", START, kind="wholesale"),
        order("late", START),
        order("refund", START),
        order("abroad", START, country="BR"),
        delivered("retail", START + timedelta(days=2)),
        delivered("wholesale", START + timedelta(days=3)),
        Event("refund-refund", "Refund Requested", "refund", START + timedelta(days=1), {"order_id": "refund-o1"}),
        delivered("late", START + timedelta(days=12)),
    ]


def sent_steps(store, customer_id: str) -> list[str]:
    return [row.message.step_id for row in store.messages(customer_id)]


def test_example_journey_runs_end_to_end_and_a_second_run_writes_nothing(store):
    engine = Engine(store, clock=VirtualClock(START))
    engine.publish(welcome_journey())

    engine.replay(stream())
    engine.run_timers_until(START + timedelta(days=40))

    assert sent_steps(store, "retail") == ["welcome", "usage-tips", "review-request"]
    assert sent_steps(store, "wholesale") == ["welcome", "usage-tips", "account-manager"]
    assert sent_steps(store, "late") == ["welcome", "late-delivery", "usage-tips", "review-request"]
    assert sent_steps(store, "refund") == ["welcome"]
    assert sent_steps(store, "abroad") == []  # outside the audience
    reasons = {e.customer_id: e.exit_reason for e in store.enrollments_of("refund") + store.enrollments_of("retail")}
    assert reasons == {"refund": "exit_rule", "retail": "completed"}
    assert store.counts()["timers"] == 0

    before = store.counts()
    again = engine.ingest(stream())
    assert again.events == 0 and again.duplicates == len(stream())
    assert store.counts() == before

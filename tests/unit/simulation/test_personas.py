"""Personas: the built-ins, each behaving as its name says; files read with every problem located."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from onboardflow.simulation.personas import PersonasInvalid, built_in_personas, read_personas
from onboardflow.simulation.shop import Chance, Emit, Shop, recorded_stream

BUILT_INS = [
    "first-time-skincare",
    "first-time-electronics",
    "first-time-apparel",
    "returning-buyer",
    "wholesale",
    "high-value",
    "international",
    "subscriber",
]


@pytest.fixture(scope="module")
def shop() -> Shop:
    return Shop(built_in_personas(), customers=800, days=60, seed=5)


@pytest.fixture(scope="module")
def plans(shop):
    return list(shop.plans())


def events(plan) -> list:
    return [action.event for action in plan.actions if isinstance(action, Emit)]


def profile(plan) -> dict:
    """The identify block, carried by the customer's first event (an order from before the run, maybe)."""
    return next(event.customer for event in [*plan.history, *events(plan)] if event.customer)


def by_persona(plans, persona_id: str) -> list:
    return [plan for plan in plans if plan.persona.id == persona_id]


def test_the_built_ins_are_the_personas_the_issue_names():
    assert [persona.id for persona in built_in_personas().personas] == BUILT_INS


def test_every_built_in_persona_appears_in_a_mix_of_its_weight(plans):
    counts = Counter(plan.persona.id for plan in plans)

    assert set(counts) == set(BUILT_INS)
    assert counts["first-time-skincare"] > counts["wholesale"] * 2


def test_first_time_buyers_buy_in_their_category(plans):
    for persona, categories in (
        ("first-time-skincare", {"skincare", "bodycare"}),
        ("first-time-electronics", {"electronics", "accessories"}),
        ("first-time-apparel", {"apparel", "shoes", "accessories"}),
    ):
        for plan in by_persona(plans, persona):
            [order] = [e for e in events(plan) if e.name == "Order Completed"][:1]
            assert order.properties["products"][0]["category"] in categories


def test_returning_buyers_bring_orders_from_before_the_run(shop, plans):
    returning = by_persona(plans, "returning-buyer")

    assert returning and all(plan.history for plan in returning)
    assert all(event.at < shop.start for plan in returning for event in plan.history)
    assert not [plan for plan in plans if plan.history and plan.persona.id != "returning-buyer"]


def test_wholesale_accounts_are_wholesale_and_order_in_bulk(plans):
    for plan in by_persona(plans, "wholesale"):
        assert profile(plan)["traits"]["type"] == "wholesale"
        order = next(e for e in events(plan) if e.name == "Order Completed")
        assert order.properties["total"] >= 600 and order.properties["products"][0]["quantity"] >= 10


def test_high_value_buyers_spend_more(plans):
    totals = [
        next(e for e in events(plan) if e.name == "Order Completed").properties["total"]
        for plan in by_persona(plans, "high-value")
    ]

    assert totals and min(totals) >= 400


def test_international_buyers_live_in_another_zone_and_language(plans):
    for plan in by_persona(plans, "international"):
        said = profile(plan)
        assert said["country"] not in ("US", "CA", "GB")
        assert not said["locale"].startswith("en-US")
        ZoneInfo(said["timezone"])  # a real zone


def test_subscribers_renew_every_month_until_the_run_ends(shop, plans):
    renewed = 0
    for plan in by_persona(plans, "subscriber"):
        started = next(e for e in events(plan) if e.name == "Subscription Started").at
        renewals = [e.at for e in events(plan) if e.name == "Subscription Renewal Due"]
        months = int((shop.end - started).total_seconds() // (30 * 86400))
        assert len(renewals) in (months, months + 1)  # the first renewal is 30 days after the first order
        assert all(b - a == timedelta(days=30) for a, b in zip(renewals, renewals[1:], strict=False))
        renewed += len(renewals)
    assert renewed > 10


def test_deliveries_are_late_and_fail_in_about_the_shares_the_personas_say(plans):
    delivered = [e for plan in plans for e in events(plan) if e.name == "Order Delivered"]
    failed = [e for plan in plans for e in events(plan) if e.name == "Delivery Failed"]
    late = sum(1 for e in delivered if e.properties["late"])

    assert 0.04 < late / len(delivered) < 0.2
    assert 0 < len(failed) < len(delivered) * 0.06
    for event in delivered:
        estimate = event.properties["estimated_delivery_at"]
        assert event.properties["late"] == (event.at.date().isoformat() > estimate[:10])


def test_tickets_refunds_reviews_and_repeat_orders_are_chances_decided_when_they_come(plans):
    intentions = Counter(
        action.intention for plan in plans for action in plan.actions if isinstance(action, Chance)
    )

    assert {"setup_ticket", "refund", "review", "repeat"} <= set(intentions)


def test_consent_and_channels_follow_the_persona(plans):
    profiles = [profile(plan) for plan in plans]
    granted = Counter(
        channel for p in profiles for channel, said in p["consent"].items() if said["status"] == "granted"
    )

    assert 0.6 < granted["email"] / len(profiles) < 0.9
    assert granted["sms"] < granted["email"]
    assert 0.4 < sum(1 for p in profiles if "phone" in p) / len(profiles) < 0.85


def test_a_personas_file_reports_every_problem_with_its_line_and_persona():
    text = """\
personas:
  - id: shopper
    name: Shopper
    profile: {countries: {XX: 1}}
    orders: {value: [50, 10], colour: red}
    signup: 2
reactions:
  - when: {purpose: education}
"""
    with pytest.raises(PersonasInvalid) as raised:
        read_personas(text, source="mine.yaml")

    assert str(raised.value).splitlines() == [
        "mine.yaml:4: field profile.countries of persona 'shopper': unknown country 'XX': use US, CA, GB, "
        "IE, AU, DE, FR, ES, BR, MX, JP, IN",
        "mine.yaml:6: field signup of persona 'shopper': Input should be less than or equal to 1",
        "mine.yaml:5: field orders.value of persona 'shopper': the range's high end is below its low end: "
        "write [low, high]",
        "mine.yaml:5: field orders.colour of persona 'shopper': unknown field 'colour': remove it or check "
        "its spelling",
        "mine.yaml:8: field reactions.0: a reaction multiplies at least one chance: setup_ticket, "
        "delivery_ticket, payment_ticket, refund, review, repeat",
    ]


def test_choosing_an_unknown_persona_names_the_ones_there_are():
    with pytest.raises(PersonasInvalid) as raised:
        built_in_personas().only(["wholesale", "tourist"])

    assert "no persona 'tourist'; personas are: first-time-skincare" in str(raised.value)


def test_the_personas_file_in_the_docs_reads():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "simulator.md").read_text(encoding="utf-8")
    [example] = [block for block in re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL) if "personas:" in block]

    mix = read_personas(example, source="docs/simulator.md")

    assert [persona.id for persona in mix.personas] == ["first-time-skincare"]
    assert mix.personas[0].subscription.every == timedelta(days=30)


def test_some_orders_follow_a_checkout_left_unfinished_with_the_same_basket(plans):
    for plan in plans:
        orders = {e.properties["order_id"]: e for e in events(plan) if e.name == "Order Completed"}
        for checkout in (e for e in events(plan) if e.name == "Checkout Started"):
            order = orders[checkout.properties["checkout_id"].removesuffix("-checkout")]
            assert checkout.at < order.at and checkout.properties["total"] == order.properties["total"]
    started = sum(1 for plan in plans for e in events(plan) if e.name == "Checkout Started")
    assert 0.1 < started / len(plans) < 0.35


def test_a_late_or_failed_delivery_is_announced_before_it_comes_with_the_new_estimate(plans):
    delayed = [e for plan in plans for e in events(plan) if e.name == "Delivery Delayed"]
    delivered = {
        e.properties["order_id"]: e for plan in plans for e in events(plan) if e.name == "Order Delivered"
    }

    assert {e.properties["reason"] for e in delayed} == {"carrier delay", "failed attempt"}
    for event in delayed:
        arrival = delivered[event.properties["order_id"]]
        assert arrival.properties["late"] and event.at < arrival.at
        assert event.properties["estimated_delivery_at"][:10] == arrival.at.date().isoformat()
    assert len(delayed) == sum(1 for e in delivered.values() if e.properties["late"])


def test_tickets_are_resolved_and_rated_bad_more_often_when_the_customer_was_upset(shop):
    _, stream = recorded_stream(shop)
    tickets = {e.properties["ticket_id"]: e for e in stream if e.name == "Support Ticket Opened"}
    resolved = {e.properties["ticket_id"]: e for e in stream if e.name == "Support Ticket Resolved"}
    rated = [e for e in stream if e.name == "Satisfaction Rated"]

    assert set(resolved) <= set(tickets) and len(resolved) > 0.9 * len(tickets)  # a few after the run ends
    assert all(resolved[t].at > tickets[t].at for t in resolved)
    assert 0.4 < len(rated) / len(resolved) < 0.8
    bad = Counter(
        tickets[e.properties["ticket_id"]].properties["tone"]
        for e in rated
        if e.properties["rating"] == "bad"
    )
    all_tones = Counter(tickets[e.properties["ticket_id"]].properties["tone"] for e in rated)
    assert bad["negative"] / all_tones["negative"] > bad["positive"] / max(1, all_tones["positive"])


def test_some_customers_complete_their_profile_after_their_first_login(plans):
    completed = 0
    for plan in plans:
        profile_event = next((e for e in events(plan) if e.name == "Profile Completed"), None)
        if profile_event is not None:
            login = next(e for e in events(plan) if e.name == "First Login")
            assert profile_event.at > login.at
            assert profile_event.customer["traits"]["preferred_channel"] in ("email", "sms")
            completed += 1
    assert completed > 50


def test_renewals_are_announced_and_a_failed_one_is_sometimes_paid_later(shop, plans):
    recovered = 0
    for plan in by_persona(plans, "subscriber"):
        notices = [e for e in events(plan) if e.name == "Subscription Renewal Upcoming"]
        dues = [e for e in events(plan) if e.name == "Subscription Renewal Due"]
        assert [due.at - notice.at for notice, due in zip(notices, dues, strict=True)] == [
            timedelta(days=3)
        ] * len(dues)
        recovered += sum(
            1 for e in events(plan) if e.name == "Payment Confirmed" and "renewal" in e.properties
        )
    assert recovered > 0

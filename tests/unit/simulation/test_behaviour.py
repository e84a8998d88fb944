"""Customers answer messages, and the messages they had change what they do: a journey's effect shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboardflow.core.effects import SendMessage
from onboardflow.simulation.behaviour import Behaviour, Exposure

from .helpers import personas, run

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LESS_SETUP = "  - when: {purpose: education, engaged: opened}\n    setup_ticket: 0.2"


def chance(intention: str, at: datetime, odds: float = 0.5):
    from onboardflow.simulation.shop import Chance

    return Chance(at, "c1", intention, odds, 0.3, lambda: [])


def message(message_id: str = "msg_1", purpose: str = "education") -> SendMessage:
    return SendMessage(message_id, "enr_1", "welcome", 1, "c1", "tips", ("email",), "usage_tips", purpose, T0)


def test_a_reaction_changes_the_odds_only_once_the_customer_got_that_far_with_the_message():
    mix = personas(reactions=LESS_SETUP)
    behaviour, persona = Behaviour(mix, seed=1), mix.personas[0]
    opened = Exposure("usage_tips", "education", "email", T0, opened=T0 + timedelta(hours=2))

    assert behaviour.odds(persona, chance("setup_ticket", T0 + timedelta(hours=1)), [opened]) == 0.5
    assert behaviour.odds(persona, chance("setup_ticket", T0 + timedelta(hours=3)), [opened]) == 0.1
    assert behaviour.odds(persona, chance("refund", T0 + timedelta(hours=3)), [opened]) == 0.5
    unread = Exposure("usage_tips", "education", "email", T0)
    assert behaviour.odds(persona, chance("setup_ticket", T0 + timedelta(days=3)), [unread]) == 0.5


def test_a_reaction_counts_once_however_many_messages_match_it():
    mix = personas(reactions=LESS_SETUP)
    behaviour, persona = Behaviour(mix, seed=1), mix.personas[0]
    read = [
        Exposure("usage_tips", "education", "email", T0, opened=T0),
        Exposure("more_tips", "education", "email", T0, opened=T0),
    ]

    assert round(behaviour.odds(persona, chance("setup_ticket", T0 + timedelta(hours=1)), read), 6) == 0.1


def test_what_a_customer_does_with_a_message_depends_only_on_the_seed_and_the_message():
    mix = personas(open=0.5)
    persona = mix.personas[0]
    answers = [Behaviour(mix, seed=4).answer(persona, message(f"msg_{n}"), "email", T0) for n in range(200)]
    again = [Behaviour(mix, seed=4).answer(persona, message(f"msg_{n}"), "email", T0) for n in range(200)]

    assert answers == again
    opened = [exposure for exposure, _ in answers if exposure.opened is not None]
    assert 60 < len(opened) < 140
    for exposure, events in answers:
        names = [action.event.name for action in events]
        assert ("Email Opened" in names) == (exposure.opened is not None)
        assert all(action.at > T0 for action in events)


def test_usage_tips_that_customers_read_mean_fewer_setup_tickets():
    tips = """\
trigger: {event: Order Delivered}
steps:
  - id: tips
    send: {channel: email, template: tips, purpose: education}
"""
    silent = """\
trigger: {event: Order Delivered}
steps:
  - id: nothing
    wait: 1d
"""
    options = {"customers": 150, "setup": 0.6, "open": 1.0, "reactions": LESS_SETUP, "late": 0.0}

    with_tips = run(tips, **options)
    without = run(silent, **options)

    def tickets(result) -> int:
        return sum(
            1
            for t in result.timelines.values()
            for e in t
            if e["kind"] == "event" and e["name"] == "Support Ticket Opened"
        )

    assert tickets(without) > 60
    assert tickets(with_tips) < tickets(without) * 0.5

"""The simulator on the production engine: each customer's stimuli in time order, the policies applied,
the same seed giving the same result byte for byte."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from onboardflow.simulation.personas import built_in_personas

from .helpers import delivered, run

NEW_YORK = ZoneInfo("America/New_York")  # the test persona's customers live in the US, in this zone
WELCOME = """\
trigger: {event: Order Completed}
steps:
  - id: hello
    send: {channel: email, template: hello}
  - id: await-delivery
    wait_for: {event: Order Delivered, timeout: 7d}
    on_timeout: sorry
  - id: tips
    send: {channel: email, template: tips, purpose: education}
  - {id: done, exit: completed}
  - id: sorry
    escalate: {queue: support, reason: delivery late}
    goto: done
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_same_seed_gives_the_same_result_byte_for_byte_and_another_seed_another():
    first = run(WELCOME, customers=60, seed=11, mix=built_in_personas()).to_json()
    again = run(WELCOME, customers=60, seed=11, mix=built_in_personas()).to_json()
    other = run(WELCOME, customers=60, seed=12, mix=built_in_personas()).to_json()

    assert first == again
    assert first != other


def test_a_wait_for_takes_the_delivery_that_comes_before_its_timeout_and_times_out_on_the_others():
    result = run(WELCOME, customers=80, late=0.5, days=30)

    checked = 0
    for cid, timeline in result.timelines.items():
        entered = next((e for e in timeline if e["kind"] == "enter"), None)
        delivery = next(
            (e for e in timeline if e["kind"] == "event" and e["name"] == "Order Delivered"), None
        )
        if entered is None or delivery is None:
            continue
        steps = [e["step_id"] for e in timeline if e["kind"] == "step"]
        in_time = (at(delivery["at"]) - at(entered["at"])).total_seconds() <= 7 * 86400
        assert ("tips" in steps) == in_time, cid
        assert ("sorry" in steps) == (not in_time), cid
        checked += 1
    assert checked > 40
    assert {"tips", "sorry"} <= {step for step, count in result.counts["steps"]["test"].items() if count}


def test_every_message_is_decided_at_its_own_time_by_the_policies_of_production():
    quiet = WELCOME.replace("steps:", 'policies:\n  quiet_hours: {from: "21:00", to: "08:00"}\nsteps:')
    result = run(quiet, customers=60)

    put_off = [
        e for t in result.timelines.values() for e in t if e["kind"] == "message" and e["status"] == "put off"
    ]
    assert put_off, "some orders come at night"
    for entry in put_off:
        assert "quiet hours 21:00–08:00" in entry["why"]
        local = at(entry["until"]).astimezone(NEW_YORK)
        assert (local.hour, local.minute) == (8, 0)
    for timeline in result.timelines.values():
        for entry in delivered(timeline):
            local = at(entry["at"]).astimezone(NEW_YORK)
            assert 8 <= local.hour < 21


def test_no_consent_means_no_marketing_message_and_the_timeline_says_why():
    result = run(WELCOME, customers=30, consent=0.0, late=0.0)

    tips = [
        e for t in result.timelines.values() for e in t if e["kind"] == "message" and e["step_id"] == "tips"
    ]
    assert tips and all(e["status"] == "skipped" for e in tips)
    assert all("withdrew consent to education messages on email" in e["why"] for e in tips)
    hellos = [m for m in result.counts["messages"] if m["step_id"] == "hello"]
    assert len(hellos) == 30  # transactional: an address is enough


def test_a_message_no_channel_can_carry_takes_on_undeliverable():
    text = """\
trigger: {event: Order Completed}
steps:
  - id: hello
    send: {channel: sms, template: hello}
    on_undeliverable: by-mail
  - id: settle
    wait: 1d
  - {id: done, exit: completed}
  - id: by-mail
    send: {channel: email, template: hello}
    goto: done
"""
    result = run(text, customers=40, phone=0.5)

    for cid, story in result.stories.items():
        steps = [v.step_id for e in story.enrollments for v in e.history]
        assert ("by-mail" in steps) == (story.customer.phone is None), cid
    assert result.counts["steps"]["test"]["by-mail"] > 0


def test_the_holdout_group_is_sent_nothing_and_its_conversion_is_reported_beside_the_treated():
    text = """\
trigger: {event: Order Completed, where: customer.orders_count == 1}
holdout: 30%
goal: {event: Order Completed, within: 20d, where: event.order_id != trigger.order_id}
steps:
  - id: hello
    send: {channel: email, template: hello}
  - id: later
    wait: 15d
"""
    result = run(text, customers=120, repeat=0.5, days=40)

    goals = result.counts["goals"]["test"]
    held = {cid for cid, story in result.stories.items() if story.is_held_out("test")}
    assert goals["holdout"]["entrants"] == len(held) > 10
    assert goals["journey"]["entrants"] + goals["holdout"]["entrants"] == 120
    assert not [m for m in result.counts["messages"] if m["customer_id"] in held]
    assert goals["journey"]["converted"] > 0 and goals["holdout"]["converted"] > 0


def test_a_webhook_step_gets_a_stand_in_answer_and_the_journey_goes_on():
    text = """\
trigger: {event: Order Completed}
steps:
  - id: crm
    webhook: {url: "https://crm.example/hook", secret: CRM_SECRET, map: {crm: response}}
  - id: hello
    send: {channel: email, template: hello}
"""
    result = run(text, customers=10)

    assert result.counts["steps"]["test"] == {"crm": 10, "hello": 10}
    assert all(story.customer.traits.get("crm") == {} for story in result.stories.values())


def test_a_customer_who_opens_every_email_has_an_email_opened_event_after_each_delivery():
    result = run(WELCOME, customers=30, open=1.0, late=0.0)
    last_open = at(result.run["end"]) - timedelta(days=2, hours=1)  # an open comes at most 48h05m later

    for timeline in result.timelines.values():
        sent = {e["template"]: at(e["at"]) for e in delivered(timeline)}
        opened = {
            e["details"]["template"]: at(e["at"])
            for e in timeline
            if e["kind"] == "event" and e["name"] == "Email Opened"
        }
        assert {name for name, moment in sent.items() if moment < last_open} <= opened.keys() <= sent.keys()
        assert all(opened[name] > sent[name] for name in opened)


def test_a_run_in_two_processes_gives_the_result_of_one_byte_for_byte():
    from onboardflow.catalog import example_templates
    from onboardflow.demo import demo_journeys
    from onboardflow.simulation.flows import simulate

    options = {"journeys": demo_journeys(), "personas": built_in_personas(), "customers": 90, "days": 25,
               "seed": 8, "templates": example_templates()}

    assert simulate(**options, workers=2).to_json() == simulate(**options).to_json()


def test_a_promotion_held_until_the_delivery_is_one_timeline_entry_however_often_it_was_rechecked():
    text = """\
trigger: {event: Order Completed}
policies: {no_promotion_before: Order Delivered}
steps:
  - id: offer
    send: {channel: email, template: offer, purpose: promotion}
"""
    result = run(text, customers=15, late=0.0)

    for cid, timeline in result.timelines.items():
        offers = [e for e in timeline if e["kind"] == "message"]
        held, sent = offers[0], offers[-1]
        delivery = next(e for e in timeline if e["kind"] == "event" and e["name"] == "Order Delivered")
        assert held["status"] == "held" and held["times"] > 24, cid  # rechecked hourly for days
        assert [e["status"] for e in offers] == ["held", "delivered"]
        assert at(sent["at"]) >= at(delivery["at"])
    assert result.counts["outcomes"]["held"] > 15 * 24

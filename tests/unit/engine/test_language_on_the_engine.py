"""The journey language's effects carried out by the engine: profiles updated, tasks opened and
resolved, webhook calls queued, exit conditions and concurrent entries, on the memory store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onboardflow.core.model import WEBHOOK_SUCCEEDED
from onboardflow.ports import TaskClosed

HEAD = "id: j\nname: J\nowner: cs@shop.example\ntrigger: {event: Order Completed}\n"


def test_an_update_step_changes_the_stored_profile_and_later_events_see_it(shop):
    shop.publish(HEAD + """steps:
  - {id: mark, update: {set: {stage: welcomed}, add_tags: [new-buyer]}}
  - id: await
    wait_for: {event: First Login, timeout: 3d}
  - id: route
    branch: [{when: 'customer.stage == "welcomed"', goto: hi}]
  - {id: hi, send: {channel: email, template: hi}}
""")
    shop.ingest(shop.order())
    stored = shop.store.customer("c1")
    assert stored.traits["stage"] == "welcomed" and stored.traits["tags"] == ["new-buyer"]
    assert stored.traits["type"] == "retail"  # the rest of the profile stays

    shop.after(hours=2)
    shop.ingest(shop.event("First Login"))
    assert shop.sent(journey_id="j") == ["hi"]


def test_an_update_made_while_a_timer_fires_is_stored_too(shop):
    shop.publish(HEAD + "steps:\n  - {id: settle, wait: 1d}\n  - {id: mark, update: {unset: [type]}}\n")
    shop.ingest(shop.order())
    shop.after(days=1)
    shop.engine.fire_due_timers()
    assert "type" not in shop.store.customer("c1").traits


ESCALATE = HEAD + """steps:
  - id: hand-off
    escalate: {queue: support, reason: check order, priority: high, due: 24h, wait: true,
               on_outcome: {refunded: sorry}}
  - {id: thanks, send: {channel: email, template: thanks}, goto: done}
  - {id: sorry, send: {channel: email, template: sorry}}
  - {id: done, exit: completed}
"""


def test_an_escalation_opens_a_task_and_its_resolution_moves_the_journey_on(shop):
    shop.publish(ESCALATE)
    shop.ingest(shop.order())
    [task] = shop.store.tasks(status="open")
    assert (task.task.queue, task.task.priority, task.task.customer_id) == ("support", "high", "c1")

    shop.after(hours=3)
    resolved = shop.engine.resolve_task(task.task.task_id, outcome="refunded", by="agent@shop.example")

    assert resolved.status == "resolved"
    assert shop.sent(journey_id="j") == ["sorry"]
    assert shop.enrollment(journey_id="j").exit_reason == "completed"
    with pytest.raises(TaskClosed):
        shop.engine.resolve_task(task.task.task_id, outcome="resolved")


def test_a_resolution_queued_for_workers_waits_in_the_queue(shop):
    shop.publish(ESCALATE)
    shop.ingest(shop.order())
    [task] = shop.store.tasks()
    shop.engine.resolve_task(task.task.task_id, outcome="resolved", queue=True)
    assert shop.store.counts()["queued"] == 1 and shop.sent(journey_id="j") == []

    shop.engine.work()
    assert shop.sent(journey_id="j") == ["thanks"]


def test_a_webhook_step_queues_its_call_and_resumes_on_the_answer(shop):
    shop.publish(HEAD + """steps:
  - id: crm
    webhook: {url: 'https://crm.example/hook', body: '{"id": "{{ customer.id }}"}', map: {tier: response.tier}}
  - {id: hi, send: {channel: email, template: hi}}
""")
    shop.ingest(shop.order())
    [call] = shop.store.call_rows.values()
    assert (call["status"], call["request"]["url"], call["request"]["timeout"]) == ("pending",
                                                                                     "https://crm.example/hook", 10.0)

    shop.ingest(shop.event(WEBHOOK_SUCCEEDED, call_id=call["id"], status=200, response={"tier": "gold"}))
    assert shop.store.customer("c1").traits["tier"] == "gold"
    assert shop.sent(journey_id="j") == ["hi"]


def test_an_exit_condition_is_checked_on_events_the_journey_does_not_otherwise_wait_for(shop):
    shop.publish(HEAD + "exit_when: [{where: customer.vip == true}]\nsteps:\n  - {id: settle, wait: 5d}\n"
                 "  - {id: hi, send: {channel: email, template: hi}}\n")
    shop.ingest(shop.order())
    shop.after(hours=1)
    shop.ingest(shop.event("Profile Updated", customer={"traits": {"vip": True}}))

    assert shop.enrollment(journey_id="j").exit_reason == "exit_rule"
    assert shop.store.counts()["timers"] == 0


def test_concurrent_reentry_runs_an_enrollment_per_trigger(shop):
    shop.publish(HEAD.replace("trigger:", "reentry: always concurrent\ntrigger:")
                 + "steps:\n  - {id: settle, wait: 5d}\n")
    shop.ingest(shop.order(order_id="o1"))
    shop.after(hours=1)
    shop.ingest(shop.order(order_id="o2"))

    running = [e for e in shop.store.enrollments_of("c1") if e.is_active]
    assert sorted(e.trigger["order_id"] for e in running) == ["o1", "o2"]


def test_replay_fires_an_overdue_escalation_before_a_later_event_of_the_same_batch(shop):
    shop.publish(HEAD + """reentry: never
exit_when: [{event: Refund Requested}]
steps:
  - id: hand-off
    escalate: {queue: support, reason: check order, due: 1h, wait: true, on_overdue: chase}
  - {id: settle, wait: 5d}
  - {id: chase, send: {channel: email, template: chase}}
  - {id: linger, wait: 5d}
""")
    order = shop.order(at=shop.clock.now())
    refund = shop.event("Refund Requested", at=order.at + timedelta(hours=2))

    shop.engine.replay([order, refund])

    assert shop.sent() == ["chase"]  # at the due time, an hour before the refund ended the enrollment

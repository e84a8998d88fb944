"""What the playbook tests share: a journey with a goal and an exception path (a late delivery escalated),
and a scenario that reaches it (an order never delivered)."""

WELCOME = """\
id: welcome
name: Welcome
owner: cs-lead@shop.example
trigger: {event: Order Completed}
goal: {event: Order Completed, within: 30d, where: event.order_id != trigger.order_id}
steps:
  - {id: hello, send: {channel: email, template: welcome, purpose: transactional}}
  - id: await-delivery
    wait_for: {event: Order Delivered, where: event.order_id == trigger.order_id, timeout: 4d}
    on_timeout: late
  - {id: done, exit: completed}
  - id: late
    escalate: {queue: support, reason: delivery late, priority: high, due: 48h}
acceptance:
  - {max_messages: 3, within: 7d}
"""
UNDELIVERED_ORDER = {"id": "o1", "name": "Order Completed", "customer_id": "c1", "at": "2026-03-02T09:00:00Z",
                     "properties": {"order_id": "A1", "total": 80.0}, "customer": {"email": "c1@example.com"}}

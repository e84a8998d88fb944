"""The dispatcher: policies decide, templates render, channels deliver; what became of each message is
recorded, and what a journey may react to comes back as events."""

from __future__ import annotations

from datetime import timedelta

from onboardflow.channels.recording import RecordingChannel
from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.core.consent import consent_record
from onboardflow.core.policies import PolicyRules, RetryPolicy
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.messages.loading import read_template, templates_from_texts
from onboardflow.messages.templates import TemplateSet

from .shop import RETAIL, T0

PROMO = """\
id: promo
name: Promo
owner: growth@shop.example
trigger: {event: Order Completed}
policies: {no_promotion_before: Order Delivered}
steps:
  - {id: hello, send: {channel: email, template: hello}}
  - id: offer
    send: {channel: email, template: offer, purpose: promotion}
"""
TEMPLATES = {
    "hello": "email:\n  default:\n    subject: \"Thanks, {{ customer.first_name | default: 'friend' }}\"\n"
             "    text: \"Order {{ trigger.order_id }} is in.\"\n",
    "offer": "email:\n  default:\n    subject: 10% off your next order\n    text: 'Use code AGAIN: {{ unsubscribe_url }}'\n",
}


def templates() -> TemplateSet:
    return templates_from_texts(TEMPLATES)


def dispatcher(shop, email=None, **options) -> Dispatcher:
    """The dispatcher of `shop` with one email channel (a recording one unless given) and TEMPLATES."""
    channels = {"email": email or RecordingChannel("email")}
    return Dispatcher(shop.store, shop.engine.catalog, channels, templates=templates(), **options)


def grant_marketing(shop, customer_id="c1"):
    shop.store.record_consent(consent_record(customer_id=customer_id, channel="email", purpose="marketing",
                                             status="granted", source="api", at=T0))


def statuses(shop, customer_id="c1"):
    return {row.message.step_id: row.status for row in shop.store.messages(customer_id)}


def test_each_due_message_is_rendered_delivered_once_and_recorded(examples):
    examples.ingest(examples.order("c1"), examples.order("c2"))
    channels = sandbox_channels()
    sender = examples.dispatcher(channels)

    result = sender.dispatch_due(now=examples.clock.now())
    again = sender.dispatch_due(now=examples.clock.now() + timedelta(hours=1))

    assert (result.delivered, result.total, again.total) == (2, 2, 0)
    [first, _] = channels["email"].sent
    assert first.content.subject and "{{" not in first.content.text  # the welcome template, rendered
    for row in examples.store.messages():
        assert (row.status, row.channel, row.attempts, row.delivered_at) == ("delivered", "email", 1, T0)
        assert row.provider_id.startswith("sandbox-")


def test_quiet_hours_defer_a_message_to_the_next_allowed_minute(examples):
    at_night = T0 + timedelta(hours=12)  # 02:00 UTC, 21:00 in New York: the example is quiet 21:00-08:00
    examples.clock.jump_to(at_night)
    examples.ingest(examples.order())
    sender = examples.dispatcher()

    deferred = sender.dispatch_due(now=at_night)
    [row] = examples.store.messages("c1")

    assert deferred.deferred == 1 and row.status == "pending"
    assert row.next_attempt_at == T0 + timedelta(hours=23)  # 08:00 EST the next morning, 13:00 UTC
    assert "quiet hours" in row.note
    assert sender.dispatch_due(now=row.next_attempt_at - timedelta(minutes=1)).total == 0
    assert sender.dispatch_due(now=row.next_attempt_at).delivered == 1


def test_marketing_without_consent_is_skipped_and_with_it_goes_after_the_awaited_event(shop):
    shop.publish(PROMO)
    shop.ingest(shop.order("c1"), shop.order("c2"))
    grant_marketing(shop, "c1")
    sender = dispatcher(shop)

    first = sender.dispatch_due(now=shop.clock.now())

    assert statuses(shop, "c2") == {"hello": "delivered", "offer": "skipped"}  # no consent: never sent
    assert statuses(shop, "c1") == {"hello": "delivered", "offer": "pending"}  # held: not delivered yet
    assert first.held == 1
    [held] = [row for row in shop.store.messages("c1") if row.message.step_id == "offer"]
    assert "no promotion before 'Order Delivered'" in held.note

    shop.after(hours=2)
    shop.ingest(shop.delivered("c1"))
    assert sender.dispatch_due(now=shop.clock.now()).delivered == 1
    assert statuses(shop, "c1")["offer"] == "delivered"


def test_a_marketing_email_carries_its_unsubscribe_link_and_a_transactional_one_does_not(shop):
    shop.publish(PROMO.replace("policies: {no_promotion_before: Order Delivered}\n", ""))
    shop.ingest(shop.order())
    grant_marketing(shop)
    email = RecordingChannel("email")
    links = []
    sender = dispatcher(shop, email, unsubscribe_link=lambda *args: links.append(args) or "https://u.example/t")

    sender.dispatch_due(now=shop.clock.now())

    by_step = {d.message_id: d for d in email.sent}
    hello, offer = sorted(by_step.values(), key=lambda d: d.purpose != "transactional")
    assert (hello.unsubscribe_url, offer.unsubscribe_url) == (None, "https://u.example/t")
    assert "https://u.example/t" in offer.content.text
    assert links == [("c1", "email", "promotion")]


def test_a_transient_failure_is_retried_after_its_back_off_and_sent_once(examples):
    examples.ingest(examples.order())
    email = RecordingChannel("email")
    email.fail_next(2, reason="503 from the provider")
    sender = examples.dispatcher({"email": email})

    now = examples.clock.now()
    assert sender.dispatch_due(now=now).retrying == 1
    [row] = examples.store.messages("c1")
    assert row.status == "pending" and row.next_attempt_at > now and row.attempts == 1
    assert sender.dispatch_due(now=row.next_attempt_at - timedelta(seconds=1)).total == 0
    while examples.store.messages("c1")[0].status == "pending":
        sender.dispatch_due(now=examples.store.messages("c1")[0].next_attempt_at)

    [row] = examples.store.messages("c1")
    assert (row.status, row.attempts) == ("delivered", 3)
    assert len({d.idempotency_key for d in email.sent}) == 1  # every attempt carried the same key


def test_retries_run_out_into_parked_and_the_cli_path_retries_them(examples):
    examples.ingest(examples.order())
    email = RecordingChannel("email")
    email.fail_always("provider down")
    sender = examples.dispatcher({"email": email}, rules=PolicyRules(retry=RetryPolicy(max_attempts=2)))
    now = examples.clock.now()
    for _ in range(3):
        sender.dispatch_due(now=now)
        now += timedelta(days=1)

    [row] = examples.store.messages("c1")
    assert row.status == "parked" and "gave up after 2 attempt(s): provider down" in row.error

    email.recover()
    assert examples.store.retry_parked(None, now=now) == 1
    assert sender.dispatch_due(now=now).delivered == 1


BOUNCY = """\
id: bouncy
name: Bouncy
owner: cs@shop.example
trigger: {event: Order Completed}
steps:
  - {id: hello, send: {channel: email, template: hello}, on_undeliverable: call-them}
  - {id: settle, wait: 3d}
  - {id: again, send: {channel: email, template: hello}, goto: done}
  - {id: call-them, escalate: {queue: support, reason: email bounced}}
  - {id: done, exit: completed}
"""


def test_a_permanent_failure_marks_the_address_and_the_journey_takes_its_error_path(shop):
    shop.publish(BOUNCY)
    shop.ingest(shop.order())
    email = RecordingChannel("email")
    email.fail_next(1, reason="550 no such user", permanent=True)
    sender = dispatcher(shop, email)

    assert sender.dispatch_due(now=shop.clock.now()).undeliverable == 1
    assert shop.store.counts()["queued"] == 2  # Message Undeliverable and Email Bounced, for the engine
    shop.engine.work()

    assert shop.store.customer("c1").traits["undeliverable"] == {"email": RETAIL["email"]}
    [task] = shop.store.tasks()
    assert task.task.reason == "email bounced"  # the send's on_undeliverable path, taken during the wait
    assert shop.enrollment(journey_id="bouncy").exit_reason == "completed"
    [row] = shop.store.messages("c1")
    assert (row.status, row.error) == ("undeliverable", "550 no such user")


def test_a_bounced_address_is_no_address_until_the_customer_gives_a_new_one(shop):
    shop.publish("id: hi\nname: Hi\nowner: cs@shop.example\nreentry: always\ntrigger: {event: Order Completed}\n"
                 "steps:\n  - {id: hello, send: {channel: email, template: hello}}\n")
    email = RecordingChannel("email")
    email.fail_next(1, reason="550 no such user", permanent=True)
    sender = dispatcher(shop, email)

    def order(order_id: str):
        shop.after(hours=1)
        shop.ingest(shop.order(order_id=order_id, profile=RETAIL if order_id == "o1" else None))
        result = sender.dispatch_due(now=shop.clock.now())
        shop.engine.work()
        return result

    assert order("o1").undeliverable == 1  # bounced
    assert order("o2").undeliverable == 1  # the same address: not tried again
    assert len(email.sent) == 0
    shop.ingest(shop.event("Profile Updated", customer={"email": "ana.new@example.com"}))
    assert order("o3").delivered == 1
    assert email.sent[-1].to == "ana.new@example.com"


def test_a_message_whose_template_cannot_render_is_parked_with_the_reason(shop):
    shop.publish(PROMO.replace("template: hello", "template: missing"))
    shop.ingest(shop.order())

    dispatcher(shop).dispatch_due(now=shop.clock.now())

    [row] = [r for r in shop.store.messages("c1") if r.message.step_id == "hello"]
    assert row.status == "parked" and "no template 'missing'" in row.error


WHATSAPP = """\
id: chat
name: Chat
owner: cs@shop.example
trigger: {event: Order Completed}
steps:
  - {id: hi, send: {channel: whatsapp, template: hi}}
"""


def test_whatsapp_free_text_goes_only_inside_the_window_the_customers_own_message_opened(shop):
    shop.publish(WHATSAPP)
    hi, problems, _ = read_template(
        "whatsapp:\n  default:\n    template: order_update\n    language: en_US\n"
        "    parameters: [\"{{ trigger.order_id }}\"]\n    text: \"Thanks for writing! Order {{ trigger.order_id }}\"\n",
        name="hi", source="hi.yaml")
    assert hi is not None, problems
    whatsapp = RecordingChannel("whatsapp")
    sender = Dispatcher(shop.store, shop.engine.catalog, {"whatsapp": whatsapp}, templates=TemplateSet({"hi": hi}))

    shop.ingest(shop.order("c1"))
    shop.ingest(shop.event("WhatsApp Message Received", "c2", customer=RETAIL), shop.order("c2"))
    sender.dispatch_due(now=shop.clock.now())

    by_customer = {delivery.customer_id: delivery.content for delivery in whatsapp.sent}
    assert (by_customer["c1"].template, by_customer["c1"].text) == ("order_update", None)  # window closed
    assert by_customer["c2"].text == "Thanks for writing! Order o1"  # the customer wrote: free text

"""Delivery end to end: journeys on the engine (SQLite), the dispatcher with its policies and templates,
real channel adapters talking to a real SMTP server and a local Twilio, and the one-click unsubscribe."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from onboardflow.api import create_app
from onboardflow.channels import ChannelContext
from onboardflow.channels.twilio import TwilioChannel
from onboardflow.compliance.tokens import unsubscribe_url
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.messages.loading import templates_from_texts
from onboardflow.messages.templates import TemplateSet
from onboardflow.settings import Settings

from .conftest import twilio_settings
from .servers import Reply

SECRET = "unsubscribe-signing-secret-0123456789abcdef"
BASE = "https://shop.example"
OFFERS = """\
id: offers
name: Offers
owner: growth@shop.example
trigger: {event: Order Completed}
steps:
  - {id: first-offer, send: {channel: email, template: offer, purpose: promotion}}
  - {id: settle, wait: 1d}
  - {id: second-offer, send: {channel: email, template: offer, purpose: promotion}}
"""
RECEIPTS = """\
id: receipts
name: Receipts
owner: ops@shop.example
trigger: {event: Order Completed}
steps:
  - {id: receipt, send: {channel: sms, template: receipt}}
"""
TEMPLATES = {
    "offer": "email:\n  default:\n    subject: 10% off, just for you\n"
             "    text: \"Use AGAIN10. Unsubscribe: {{ unsubscribe_url }}\"\n",
    "receipt": "sms:\n  default:\n    text: \"Order {{ trigger.order_id }} confirmed.\"\n",
}


def templates() -> TemplateSet:
    return templates_from_texts(TEMPLATES)


def order(customer_id: str, at, *, email: str | None = None, phone: str | None = None) -> Event:
    profile = {"timezone": "Europe/London", "email": email, "phone": phone,
               "consent": {"email": {"status": "granted", "source": "checkout"}}}
    return Event(f"{customer_id}-o1", "Order Completed", customer_id, at, {"order_id": f"{customer_id}-o1"},
                 {key: value for key, value in profile.items() if value})


def test_marketing_mail_arrives_with_one_click_headers_and_a_one_click_unsubscribe_stops_the_next(
    sqlite_store, clock, smtp, mail_server
):
    engine = Engine(sqlite_store, clock=clock)
    engine.publish(load_journey(OFFERS))
    links = lambda customer_id, channel, purpose: unsubscribe_url(customer_id, channel, BASE, SECRET)  # noqa: E731
    dispatcher = Dispatcher(sqlite_store, engine.catalog, {"email": smtp}, templates=templates(),
                            unsubscribe_link=links)
    engine.ingest([order("c1", clock.now(), email="ana@example.com")])

    assert dispatcher.dispatch_due(now=clock.now()).delivered == 1
    [mail] = mail_server.received
    link = mail.message["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{BASE}/unsubscribe/") and mail.message["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click")
    assert mail.recipients == ["ana@example.com"] and link in mail.message.get_body(("plain",)).get_content()

    api = TestClient(create_app(store=sqlite_store, settings=Settings(unsubscribe_secret=SECRET, public_url=BASE),
                                clock=clock))
    answer = api.post(link.removeprefix(BASE), content=b"List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200

    clock.advance(timedelta(days=1))
    engine.fire_due_timers()
    result = dispatcher.dispatch_due(now=clock.now())
    assert (result.delivered, result.skipped) == (0, 1)
    assert len(mail_server.received) == 1  # the second offer never went
    [second] = [row for row in sqlite_store.messages("c1") if row.message.step_id == "second-offer"]
    assert second.note == "the customer withdrew consent to promotion messages on email"


def test_a_customer_without_marketing_consent_never_gets_marketing_mail(sqlite_store, clock, smtp, mail_server):
    engine = Engine(sqlite_store, clock=clock)
    engine.publish(load_journey(OFFERS))
    dispatcher = Dispatcher(sqlite_store, engine.catalog, {"email": smtp}, templates=templates())
    unconsented = Event("c2-o1", "Order Completed", "c2", clock.now(), {"order_id": "c2-o1"},
                        {"email": "bo@example.com", "timezone": "Europe/London"})
    engine.ingest([unconsented])
    for _ in range(3):
        dispatcher.dispatch_due(now=clock.now())
        clock.advance(timedelta(days=1))
        engine.fire_due_timers()

    assert mail_server.received == []
    assert {row.status for row in sqlite_store.messages("c2")} == {"skipped"}


def test_a_provider_outage_ends_with_each_message_delivered_exactly_once(sqlite_store, clock, serve, fake_twilio):
    outage_ends = clock.now() + timedelta(minutes=20)

    def provider(request):
        if clock.now() < outage_ends:
            return Reply(503, {"code": 20500, "message": "Service unavailable", "status": 503})
        return fake_twilio(request)

    server = serve(provider)
    sms = TwilioChannel(twilio_settings(server.url), ChannelContext(clock=clock))
    engine = Engine(sqlite_store, clock=clock)
    engine.publish(load_journey(RECEIPTS))
    dispatcher = Dispatcher(sqlite_store, engine.catalog, {"sms": sms}, templates=templates())
    engine.ingest([order(f"c{n}", clock.now(), phone=f"+4477009000{n:02d}") for n in range(5)])

    rounds = 0
    while pending := [row for row in sqlite_store.messages() if row.status == "pending"]:
        dispatcher.dispatch_due(now=clock.now())
        due = [row.next_attempt_at for row in sqlite_store.messages() if row.status == "pending"]
        if due:
            clock.jump_to(max(clock.now(), min(due)))
        rounds += 1
        assert rounds < 100 and pending
    sms.close()

    rows = sqlite_store.messages()
    assert [row.status for row in rows] == ["delivered"] * 5
    assert all(row.attempts > 1 for row in rows)  # each one met the outage first
    assert sorted(form["To"] for form in fake_twilio.sent) == sorted(f"+4477009000{n:02d}" for n in range(5))
    tokens = {}
    for request in server.requests:
        tokens.setdefault(request.form()["To"], set()).add(request.headers["i-twilio-idempotency-token"])
    assert all(len(keys) == 1 for keys in tokens.values())  # every retry of a message carried its one key


def test_a_busy_provider_is_tried_again_when_its_retry_after_says_not_on_the_back_off(
        sqlite_store, clock, serve, fake_twilio):
    answers = iter([Reply(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "7"}),
                    Reply(503, {"code": 20500, "message": "down"}, {"Retry-After": "86400"})])
    server = serve(lambda request: next(answers, None) or fake_twilio(request))
    sms = TwilioChannel(twilio_settings(server.url), ChannelContext(clock=clock))
    engine = Engine(sqlite_store, clock=clock)
    engine.publish(load_journey(RECEIPTS))
    dispatcher = Dispatcher(sqlite_store, engine.catalog, {"sms": sms}, templates=templates())
    engine.ingest([order("c1", clock.now(), phone="+447700900001")])
    start = clock.now()

    dispatcher.dispatch_due(now=clock.now())
    [first] = sqlite_store.messages()
    clock.jump_to(first.next_attempt_at)
    dispatcher.dispatch_due(now=clock.now())
    [second] = sqlite_store.messages()
    clock.jump_to(second.next_attempt_at)
    dispatcher.dispatch_due(now=clock.now())
    sms.close()

    assert first.next_attempt_at == start + timedelta(seconds=7)  # the provider's wait, not the back-off's
    assert second.next_attempt_at == first.next_attempt_at + timedelta(hours=6)  # a day asked: at most 6 h
    [row] = sqlite_store.messages()
    assert (row.status, row.attempts) == ("delivered", 3) and len(server.requests) == 3

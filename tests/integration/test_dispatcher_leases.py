"""Two dispatchers on one store: when a round is so slow that the leases of the messages it claimed run out
and another worker claims them, the first one leaves them to it. Every message goes out exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from onboardflow.channels.recording import RecordingChannel
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.dispatcher import CLAIMED_TOGETHER, LEASE_SECONDS, Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.messages.content import Delivery
from onboardflow.messages.loading import templates_from_texts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JOURNEY = """\
id: receipt
name: Receipt
owner: ops@shop.example
trigger: {event: Order Completed}
steps:
  - {id: receipt, send: {channel: email, template: receipt, purpose: transactional}}
"""
TEMPLATES = {"receipt": 'email:\n  default:\n    subject: "Thanks"\n    text: "Order {{ trigger.order_id }}"'}
SEND_SECONDS = 10  # a slow provider: seven sends outlast a lease


class SlowChannel(RecordingChannel):
    """Each send takes SEND_SECONDS of the clock; on the seventh, the other worker runs a round."""

    def __init__(self, clock: VirtualClock, meanwhile=None) -> None:
        super().__init__("email")
        self.clock, self.meanwhile = clock, meanwhile

    def send(self, delivery: Delivery) -> str:
        self.clock.advance(timedelta(seconds=SEND_SECONDS))
        if self.meanwhile is not None and len(self.attempts) == 6:
            self.meanwhile()
        return super().send(delivery)


def test_a_worker_whose_leases_ran_out_mid_round_sends_none_of_the_messages_another_took(store):
    clock = VirtualClock(T0)
    engine = Engine(store, clock=clock)
    engine.publish(load_journey(JOURNEY, source="receipt.yaml"))
    engine.ingest([Event(f"o{n}", "Order Completed", f"c{n:02d}", clock.now(), {"order_id": f"o{n}"},
                         {"email": f"c{n}@example.com"}) for n in range(CLAIMED_TOGETHER)])
    templates = templates_from_texts(TEMPLATES)
    other_email = RecordingChannel("email")
    other = Dispatcher(store, engine.catalog, {"email": other_email}, templates=templates, clock=clock)
    other_rounds = []
    first_email = SlowChannel(clock, lambda: other_rounds.append(other.dispatch_due(now=clock.now())))
    first = Dispatcher(store, engine.catalog, {"email": first_email}, templates=templates, clock=clock)

    mine = first.dispatch_due(now=clock.now())

    [theirs] = other_rounds
    assert clock.now() - T0 > timedelta(seconds=LEASE_SECONDS)  # the round outlived its leases
    assert theirs.delivered > 0 and mine.lost == theirs.delivered  # the other worker took the rest
    sent = Counter(d.message_id for d in first_email.sent + other_email.sent)
    assert len(sent) == CLAIMED_TOGETHER and set(sent.values()) == {1}  # every message once, none twice
    assert {row.status for row in store.messages()} == {"delivered"}
    assert mine.delivered + theirs.delivered == CLAIMED_TOGETHER

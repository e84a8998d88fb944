"""The Store contract: every store (memory, SQLite, PostgreSQL) behaves the same on the same calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from onboardflow.core.effects import ScheduleTimer, SendMessage
from onboardflow.core.journey import Journey
from onboardflow.core.model import Customer, Enrollment, Event, Visit, Waiting
from onboardflow.ports import PARTITIONS, Changes, Entry, partition_of

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def journey(journey_id: str = "welcome", template: str = "welcome") -> Journey:
    return Journey.model_validate(
        {
            "id": journey_id,
            "name": f"Journey {journey_id}",
            "owner": "cs@shop.example",
            "trigger": {"event": "Signed Up"},
            "steps": [
                {
                    "id": "hello",
                    "send": {"channel": "email", "template": template, "purpose": "transactional"},
                }
            ],
        }
    )


def event(event_id: str, customer_id: str = "c1", minutes: float = 0, name: str = "Signed Up") -> Event:
    return Event(
        event_id,
        name,
        customer_id,
        at(minutes),
        {"order_id": "o_1", "products": [{"price": 60.0}]},
        {"email": f"{customer_id}@example.com", "traits": {"type": "retail"}},
    )


def enrollment(enrollment_id: str = "en1", customer_id: str = "c1", **changes) -> Enrollment:
    fields = dict(
        id=enrollment_id,
        journey_id="welcome",
        version=1,
        customer_id=customer_id,
        trigger={**event("e1", customer_id).scope(), "nested": {"when": at(-60)}},
        started_at=at(0),
        step_id="await",
        waiting=Waiting(
            "await", timer_id="t1", until=at(60 * 24), events=("Order Delivered", "Order Cancelled"), ref="task_1"
        ),
        seq=2,
        history=(Visit("hello", at(0)), Visit("await", at(0.5))),
        group="holdout",
        paths={"ab": "variant-b"},
    )
    return Enrollment(**{**fields, **changes})


def timer(timer_id: str, customer_id: str = "c1", minutes: float = 10, journey_id: str = "welcome"
          ) -> ScheduleTimer:
    return ScheduleTimer(timer_id, f"en_{customer_id}", customer_id, at(minutes), journey_id)


def message(message_id: str, customer_id: str = "c1", minutes: float = 0) -> SendMessage:
    return SendMessage(
        message_id,
        "en1",
        "welcome",
        1,
        customer_id,
        "hello",
        ("sms", "email"),
        "welcome",
        "transactional",
        at(minutes),
    )


def apply(store, changes: Changes) -> None:
    with store.transaction() as tx:
        tx.apply(changes)


def customers_in(partition: int, count: int) -> list[str]:
    found = [f"c{n}" for n in range(10_000) if partition_of(f"c{n}") == partition]
    return found[:count]


# journeys and their versions


def test_first_save_makes_version_one_live(store):
    stored = store.save_version(journey(), digest="d1", source="journeys/welcome.yaml", now=T0)

    assert (stored.journey_id, stored.version, stored.digest, stored.source) == (
        "welcome",
        1,
        "d1",
        "journeys/welcome.yaml",
    )
    assert stored.definition == journey().model_dump(mode="json", by_alias=True, exclude_none=True)
    assert store.live_versions() == [stored]
    assert store.version("welcome", 1) == stored


def test_saving_the_live_content_again_returns_the_live_version_unchanged(store):
    first = store.save_version(journey(), digest="d1", source="a.yaml", now=T0)

    again = store.save_version(journey(), digest="d1", source="b.yaml", now=at(5))

    assert again == first
    assert store.version("welcome", 2) is None


def test_new_content_becomes_the_next_live_version_and_old_ones_stay_readable(store):
    store.save_version(journey(), digest="d1", source=None, now=T0)
    second = store.save_version(journey(template="hi"), digest="d2", source=None, now=at(1))
    back = store.save_version(journey(), digest="d1", source=None, now=at(2))

    assert (second.version, back.version) == (2, 3)
    assert store.live_versions() == [back]
    assert store.version("welcome", 2) == second
    assert store.version("welcome", 9) is None


def test_live_versions_are_in_journey_id_order(store):
    for journey_id in ("zeta", "alpha", "mid"):
        store.save_version(journey(journey_id), digest=journey_id, source=None, now=T0)

    assert [v.journey_id for v in store.live_versions()] == ["alpha", "mid", "zeta"]


# the queue


def test_enqueue_counts_new_events_once(store):
    assert store.enqueue([event("e1"), event("e2"), event("e1")], now=T0) == 2
    assert store.enqueue([event("e2"), event("e3")], now=T0) == 1
    assert store.counts()["queued"] == 3


def test_enqueue_skips_events_already_processed(store):
    apply(store, Changes(events=[(event("e1"), 1)]))

    assert store.enqueue([event("e1"), event("e2")], now=T0) == 1


def test_queue_events_names_the_ids_it_queued_and_not_those_seen_before(store):
    apply(store, Changes(events=[(event("e1"), 1)]))
    store.enqueue([event("e2")], now=T0)

    assert store.queue_events([event("e1"), event("e2"), event("e3"), event("e3"), event("e4")], now=T0) == {
        "e3", "e4"
    }
    assert store.queue_events([], now=T0) == set()
    assert store.queue_events([event("e4")], now=T0) == set()
    assert store.counts()["queued"] == 3


def test_queued_events_come_in_queue_order_from_the_asked_partitions(store):
    here, there = customers_in(3, 2), customers_in(5, 1)
    batch = [event("e1", here[0]), event("e2", there[0]), event("e3", here[1]), event("e4", here[0])]
    store.enqueue(batch, now=T0)

    with store.transaction() as tx:
        queued = tx.queued_events([3], limit=10)
        first_two = tx.queued_events([3, 5], limit=2)

    assert [q.event for q in queued] == [batch[0], batch[2], batch[3]]
    assert [q.seq for q in queued] == sorted(q.seq for q in queued)
    assert [q.event.id for q in first_two] == ["e1", "e2"]


def test_dequeued_events_leave_the_queue(store):
    store.enqueue([event("e1"), event("e2"), event("e3")], now=T0)
    with store.transaction() as tx:
        queued = tx.queued_events(range(PARTITIONS), limit=2)
        tx.apply(Changes(dequeued=[q.seq for q in queued]))

    with store.transaction() as tx:
        assert [q.event.id for q in tx.queued_events(range(PARTITIONS), limit=10)] == ["e3"]
    assert store.enqueue([event("e1")], now=T0) == 1  # dequeued but never processed: it may come again


# events and customers


def test_known_event_ids_are_those_processed_in_any_number(store):
    apply(store, Changes(events=[(event(f"e{n}", minutes=n), n) for n in range(0, 2000, 2)]))

    with store.transaction() as tx:
        known = tx.known_event_ids(f"e{n}" for n in range(2000))

    assert known == {f"e{n}" for n in range(0, 2000, 2)}


def test_an_event_is_written_once_at_its_first_position(store):
    apply(store, Changes(events=[(event("e1"), 1), (event("e2"), 2)]))
    apply(store, Changes(events=[(event("e1"), 7), (event("e3", "c2"), 1)]))

    assert store.customer_events("c1") == [("e1", 1), ("e2", 2)]
    assert store.counts()["events"] == 3


def test_the_same_event_twice_in_one_batch_keeps_the_first(store):
    apply(store, Changes(events=[(event("e1"), 1), (event("e1"), 2)]))

    assert store.customer_events("c1") == [("e1", 1)]


def test_customers_round_trip_and_update(store):
    ana = Customer(
        "c1",
        email="ana@example.com",
        phone="+15551234567",
        locale="en-US",
        timezone="America/New_York",
        country="US",
        traits={"type": "retail", "ltv": 120.5},
        consent={"email": {"granted": True, "at": at(-5)}},
        orders_count=2,
        total_spent=120.1,
        first_order_at=at(-100),
        last_order_at=at(0),
        events_count=4,
        updated_at=at(0),
    )
    apply(store, Changes(customers={"c1": ana, "c2": Customer("c2")}))
    renamed = Customer("c1", email="ana@new.example", events_count=5)
    apply(store, Changes(customers={"c1": renamed}))

    with store.transaction() as tx:
        found = tx.customers(["c1", "c2", "c3"])
    assert found == {"c1": renamed, "c2": Customer("c2")}
    assert store.customer("c2") == Customer("c2")
    assert store.customer("c3") is None
    apply(store, Changes(customers={"c1": ana}))
    assert store.customer("c1") == ana


# enrollments and entries


def test_enrollments_round_trip_with_their_waiting_history_and_trigger(store):
    written = enrollment()
    apply(store, Changes(enrollments={written.id: written}))

    with store.transaction() as tx:
        assert tx.enrollments(["en1", "missing"]) == {"en1": written}
        assert tx.active_enrollments(["c1"]) == [written]
    assert store.enrollments_of("c1") == [written]
    assert written.trigger["at"] == at(0) and written.trigger["nested"]["when"] == at(-60)


def test_an_ended_enrollment_is_no_longer_active(store):
    running = enrollment("en1", started_at=at(0))
    apply(store, Changes(enrollments={"en1": running, "en2": enrollment("en2", started_at=at(1))}))
    ended = enrollment(
        "en1", status="ended", exit_reason="completed", ended_at=at(9), waiting=None, step_id=None
    )
    apply(store, Changes(enrollments={"en1": ended}))

    with store.transaction() as tx:
        assert [e.id for e in tx.active_enrollments(["c1", "c2"])] == ["en2"]
    assert store.enrollments_of("c1") == [ended, enrollment("en2", started_at=at(1))]
    assert store.counts()["active_enrollments"] == 1


def test_step_counts_tally_enrollments_by_journey_version_step_and_state(store):
    apply(
        store,
        Changes(
            enrollments={
                "en1": enrollment("en1", "c1"),
                "en2": enrollment("en2", "c2"),
                "en3": enrollment(
                    "en3", "c3", version=2, step_id=None, status="ended", exit_reason="goal_reached"
                ),
                "en4": enrollment("en4", "c4", journey_id="alpha", status="ended", exit_reason=None),
            }
        ),
    )

    assert store.step_counts() == [
        ("alpha", 1, "await", "ended:None", 1),
        ("welcome", 1, "await", "active", 2),
        ("welcome", 2, "-", "ended:goal_reached", 1),
    ]


def test_entries_keep_the_latest_enrollment_per_journey_and_customer(store):
    first = Entry("welcome", "c1", "en1", at(0))
    apply(
        store,
        Changes(entries={("welcome", "c1"): first, ("other", "c2"): Entry("other", "c2", "en2", at(1))}),
    )
    later = Entry("welcome", "c1", "en3", at(90))
    apply(store, Changes(entries={("welcome", "c1"): later}))

    with store.transaction() as tx:
        assert tx.entries(["c1", "c9"]) == {("welcome", "c1"): later}


# timers


def test_due_timers_come_by_due_time_then_id_up_to_the_limit(store):
    apply(
        store,
        Changes(
            timers={
                t.timer_id: t
                for t in [
                    timer("b", minutes=5),
                    timer("a", minutes=5),
                    timer("c", minutes=1),
                    timer("late", minutes=60),
                ]
            }
        ),
    )

    with store.transaction() as tx:
        assert [t.timer_id for t in tx.due_timers(None, at(10), limit=10)] == ["c", "a", "b"]
        assert [t.timer_id for t in tx.due_timers(None, at(10), limit=2)] == ["c", "a"]
        assert tx.due_timers(None, at(5), limit=10)[2] == timer("b", minutes=5)
        assert tx.next_timer_due() == at(1)


def test_due_timers_of_some_partitions(store):
    here, there = customers_in(7, 1)[0], customers_in(8, 1)[0]
    apply(store, Changes(timers={"t1": timer("t1", here), "t2": timer("t2", there)}))

    with store.transaction() as tx:
        assert [t.timer_id for t in tx.due_timers([7], at(10), limit=10)] == ["t1"]
        assert tx.due_timers([], at(10), limit=10) == []


def test_cancelled_and_fired_timers_are_gone_and_a_timer_is_scheduled_once(store):
    apply(
        store,
        Changes(timers={"t1": timer("t1", minutes=1), "t2": timer("t2"), "t3": timer("t3", minutes=30)}),
    )
    apply(
        store, Changes(cancelled_timers={"t1"}, fired_timers={"t2"}, timers={"t3": timer("t3", minutes=99)})
    )

    with store.transaction() as tx:
        assert tx.due_timers(None, at(1000), limit=10) == [timer("t3", minutes=30)]
    assert store.counts()["timers"] == 1


def test_a_fired_timer_scheduled_again_in_the_same_changes_stays(store):
    apply(store, Changes(timers={"t1": timer("t1", minutes=1)}))
    apply(store, Changes(fired_timers={"t1"}, timers={"t1": timer("t1", minutes=50)}))

    with store.transaction() as tx:
        assert tx.next_timer_due() == at(50)


def test_no_timers_no_next_due(store):
    with store.transaction() as tx:
        assert tx.next_timer_due() is None
        assert tx.due_timers(None, at(0), limit=10) == []


# the outbox


def test_the_same_messages_twice_are_written_once(store):
    changes = Changes(messages={"m1": message("m1"), "m2": message("m2", "c2", minutes=-1)})
    apply(store, changes)
    apply(store, changes)

    assert [row.message.message_id for row in store.messages()] == ["m2", "m1"]
    assert [(row.message, row.status, row.attempts) for row in store.messages("c1")] == [
        (message("m1"), "pending", 0)
    ]
    assert store.counts()["messages"] == 2


def test_a_claimed_message_is_not_claimed_again_before_its_lease_ends(store):
    apply(store, Changes(messages={"m1": message("m1"), "later": message("later", minutes=30)}))

    claimed = store.claim_messages(at(1), 10, lease_seconds=60)

    assert [row.message for row in claimed] == [message("m1")]
    assert store.claim_messages(at(1.5), 10) == []
    assert [row.message.message_id for row in store.claim_messages(at(2), 10)] == ["m1"]


def test_a_lease_is_renewed_only_by_its_holder_and_only_while_no_one_else_claimed_the_message(store):
    apply(store, Changes(messages={"m1": message("m1")}))
    store.claim_messages(at(1), 10, lease_seconds=60)
    mine = at(2)  # the claim's lease: at(1) + 60 s

    assert store.renew_message_lease("m1", held_until=mine, until=at(2.5))
    assert store.claim_messages(at(2.2), 10) == []  # renewed: still held
    assert not store.renew_message_lease("m1", held_until=mine, until=at(3))  # the lease is at(2.5) now
    [taken] = store.claim_messages(at(2.6), 10, lease_seconds=60)  # it ran out; another worker claims it
    assert not store.renew_message_lease("m1", held_until=at(2.5), until=at(4))  # the first holder lost it
    store.record_delivery("m1", status="delivered", channel="sms", at=at(2.7))
    assert not store.renew_message_lease("m1", held_until=at(3.6), until=at(5))  # done: nothing to hold


def test_claim_messages_takes_at_most_the_limit_oldest_first(store):
    apply(store, Changes(messages={f"m{n}": message(f"m{n}", minutes=n) for n in range(5)}))

    assert [row.message.message_id for row in store.claim_messages(at(10), 2)] == ["m0", "m1"]
    assert [row.message.message_id for row in store.claim_messages(at(10), 10)] == ["m2", "m3", "m4"]


def test_a_delivered_message_is_recorded_and_never_claimed_again(store):
    apply(store, Changes(messages={"m1": message("m1")}))
    store.claim_messages(at(1), 10)

    store.record_delivery("m1", status="delivered", channel="sms", at=at(1))

    [row] = store.messages()
    assert (row.status, row.channel, row.attempts, row.delivered_at, row.error) == (
        "delivered",
        "sms",
        1,
        at(1),
        None,
    )
    assert store.claim_messages(at(500), 10) == []
    assert store.counts()["delivered"] == 1


def test_a_failed_delivery_can_be_claimed_again_at_once(store):
    apply(store, Changes(messages={"m1": message("m1")}))
    store.claim_messages(at(1), 10)

    store.record_delivery("m1", status="pending", channel="sms", at=at(1), error="provider timed out")

    [row] = store.claim_messages(at(1), 10)
    assert (row.status, row.channel, row.attempts, row.delivered_at, row.error) == (
        "pending",
        "sms",
        1,
        None,
        "provider timed out",
    )


def test_recording_a_delivery_of_an_unknown_message_fails(store):
    with pytest.raises(KeyError):
        store.record_delivery("nope", status="delivered", channel="sms", at=at(1))


# transactions and reading


def test_reads_in_a_transaction_see_what_it_applied(store):
    with store.transaction() as tx:
        tx.apply(
            Changes(events=[(event("e1"), 1)], enrollments={"en1": enrollment()}, timers={"t1": timer("t1")})
        )
        assert tx.known_event_ids(["e1"]) == {"e1"}
        assert [e.id for e in tx.active_enrollments(["c1"])] == ["en1"]
        assert tx.next_timer_due() == at(10)


def test_times_in_any_zone_come_back_as_the_same_instant(store):
    tokyo = timezone(timedelta(hours=9))
    apply(
        store,
        Changes(customers={"c1": Customer("c1", updated_at=datetime(2026, 3, 1, 19, 0, 0, 123456, tokyo))}),
    )

    assert store.customer("c1").updated_at == datetime(2026, 3, 1, 10, 0, 0, 123456, UTC)


def test_counts_of_an_empty_store_are_zero(store):
    assert store.counts() == dict.fromkeys(
        (
            "events",
            "queued",
            "customers",
            "enrollments",
            "active_enrollments",
            "timers",
            "messages",
            "delivered",
        ),
        0,
    )


def test_claims_take_the_oldest_due_messages_first_up_to_the_limit(store):
    apply(store, Changes(messages={m.message_id: m for m in (message("m3", minutes=3), message("m1", minutes=1),
                                                             message("m2", minutes=2))}))

    first = store.claim_messages(at(10), 2)
    second = store.claim_messages(at(10), 2)

    assert [row.message.message_id for row in first] == ["m1", "m2"]
    assert [row.message.message_id for row in second] == ["m3"]

"""The inbox contract: every store keeps in-app messages the same way (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboardflow.ports import InboxMessage

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def item(message_id: str, customer_id: str = "c1", minutes: float = 0, **changes) -> InboxMessage:
    fields = dict(
        message_id=message_id,
        customer_id=customer_id,
        title="Your order is on its way",
        body="Track it from your account — ünïcode kept.",
        purpose="transactional",
        created_at=T0 + timedelta(minutes=minutes),
        deep_link="shop://orders/o_1",
    )
    return InboxMessage(**{**fields, **changes})


def test_a_message_added_is_read_back_whole(store):
    message = item("m1")

    assert store.add_to_inbox(message) is True

    assert store.inbox("c1") == [message]


def test_the_same_message_id_twice_is_one_message_and_the_first_stays(store):
    store.add_to_inbox(item("m1"))

    added_again = store.add_to_inbox(item("m1", title="changed on retry", minutes=5))

    assert added_again is False
    assert [(m.message_id, m.title) for m in store.inbox("c1")] == [("m1", "Your order is on its way")]


def test_inbox_lists_only_that_customer_newest_first_ties_by_id(store):
    for message in (item("m1", minutes=0), item("m3", minutes=10), item("m2", minutes=10), item("x", "c2")):
        store.add_to_inbox(message)

    assert [m.message_id for m in store.inbox("c1")] == ["m2", "m3", "m1"]
    assert [m.message_id for m in store.inbox("c2")] == ["x"]
    assert store.inbox("nobody") == []


def test_a_message_without_deep_link_keeps_none(store):
    store.add_to_inbox(item("m1", deep_link=None))

    assert store.inbox("c1")[0].deep_link is None


def test_mark_read_sets_the_time_and_unread_only_leaves_it_out(store):
    store.add_to_inbox(item("m1"))
    store.add_to_inbox(item("m2", minutes=1))
    read_at = T0 + timedelta(hours=1)

    marked = store.mark_read("c1", ["m1"], at=read_at)

    assert marked == 1
    assert {m.message_id: m.read_at for m in store.inbox("c1")} == {"m1": read_at, "m2": None}
    assert [m.message_id for m in store.inbox("c1", unread_only=True)] == ["m2"]


def test_marking_read_again_keeps_the_first_time_and_counts_nothing(store):
    store.add_to_inbox(item("m1"))
    store.mark_read("c1", ["m1"], at=T0 + timedelta(hours=1))

    marked = store.mark_read("c1", ["m1", "m1"], at=T0 + timedelta(hours=2))

    assert marked == 0
    assert store.inbox("c1")[0].read_at == T0 + timedelta(hours=1)


def test_mark_read_ignores_other_customers_messages_and_unknown_ids(store):
    store.add_to_inbox(item("mine"))
    store.add_to_inbox(item("theirs", "c2"))

    marked = store.mark_read("c1", ["mine", "theirs", "missing"], at=T0)

    assert marked == 1
    assert store.inbox("c2")[0].read_at is None


def test_mark_read_of_many_ids_at_once(store):
    for number in range(1000):
        store.add_to_inbox(item(f"m{number:04d}", minutes=number))

    marked = store.mark_read("c1", [f"m{number:04d}" for number in range(0, 1000, 1)], at=T0)

    assert marked == 1000
    assert store.inbox("c1", unread_only=True) == []

"""The in-app inbox through the API: what the inbox channel stored, newest first, and marking it read."""

from __future__ import annotations

from datetime import timedelta

from onboardflow.ports import InboxMessage

from .conftest import ADMIN, T0

AUTH = {"Authorization": f"Bearer {ADMIN}"}


def stored(api, message_id: str, minutes: int) -> None:
    api.store.add_to_inbox(InboxMessage(message_id, "c1", f"Tip {message_id}", "Rinse, then moisturise.",
                                        "education", T0 + timedelta(minutes=minutes), "shop://tips/1"))


def test_the_inbox_lists_a_customers_messages_newest_first_and_marks_them_read(api):
    stored(api, "m1", 1)
    stored(api, "m2", 2)

    listed = api.client.get("/v1/customers/c1/inbox", headers=AUTH).json()
    assert [m["message_id"] for m in listed["messages"]] == ["m2", "m1"] and listed["unread"] == 2
    assert listed["messages"][0]["deep_link"] == "shop://tips/1"

    api.clock.advance(timedelta(hours=1))
    marked = api.client.post("/v1/customers/c1/inbox/read", json={"message_ids": ["m1", "m1", "nope"]}, headers=AUTH)
    assert marked.json() == {"marked": 1}
    unread = api.client.get("/v1/customers/c1/inbox?unread_only=true", headers=AUTH).json()
    assert [m["message_id"] for m in unread["messages"]] == ["m2"]


def test_the_inbox_needs_a_key_and_a_list_of_ids(memory_api):
    assert memory_api.client.get("/v1/customers/c1/inbox").status_code == 401
    empty = memory_api.client.post("/v1/customers/c1/inbox/read", json={"message_ids": []}, headers=AUTH)
    assert empty.status_code == 422

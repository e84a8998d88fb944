"""The in-app inbox, read through the API: a customer's messages, and marking them read.

Reading needs an API key with the `read` scope, marking read one with `write`.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from onboardflow.api.dependencies import ClockDep, StoreDep, keyed_router, require_read, require_write
from onboardflow.api.params import CustomerIdPath, Id

router = keyed_router("/v1/customers", "inbox")


class InboxItem(BaseModel):
    message_id: str
    title: str
    body: str
    purpose: str
    deep_link: str | None
    created_at: datetime
    read_at: datetime | None


class InboxRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "c_42", "unread": 1, "messages": [{
            "message_id": "msg_5c1f0e9a2b7d4e6f8a9b0c1d.3", "title": "Your first week", "body": "Three tips…",
            "purpose": "education", "deep_link": "/account/tips", "created_at": "2026-03-02T09:00:00Z",
            "read_at": None,
        }],
    }]})

    customer_id: str
    unread: int
    messages: list[InboxItem]


class MarkedRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marked": 1}]})

    marked: int = Field(description="Messages marked read now (ones read already keep their time)")


class MarkRead(BaseModel):
    message_ids: list[Id] = Field(min_length=1, max_length=1000, description="The messages the customer read")


@router.get("/{customer_id}/inbox", dependencies=[Depends(require_read)])
def inbox(customer_id: CustomerIdPath, store: StoreDep, unread_only: bool = False) -> InboxRead:
    """The customer's in-app messages, newest first."""
    found = store.inbox(customer_id, unread_only=unread_only)
    items = [InboxItem(message_id=m.message_id, title=m.title, body=m.body, purpose=m.purpose,
                       deep_link=m.deep_link, created_at=m.created_at, read_at=m.read_at) for m in found]
    unread = sum(1 for m in found if m.read_at is None) if unread_only is False else len(found)
    return InboxRead(customer_id=customer_id, unread=unread, messages=items)


@router.post("/{customer_id}/inbox/read", dependencies=[Depends(require_write)])
def mark_read(customer_id: CustomerIdPath, body: MarkRead, store: StoreDep, clock: ClockDep) -> MarkedRead:
    """Mark messages read (ones read already keep their time); says how many changed."""
    return MarkedRead(marked=store.mark_read(customer_id, body.message_ids, at=clock.now()))

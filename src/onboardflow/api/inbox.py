"""The in-app inbox, read through the API: a customer's messages, and marking them read.

Reading needs an API key with the `read` scope, marking read one with `write`.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from onboardflow.api.dependencies import ClockDep, StoreDep, require_read, require_write

router = APIRouter(prefix="/v1/customers", tags=["inbox"])


class InboxItem(BaseModel):
    message_id: str
    title: str
    body: str
    purpose: str
    deep_link: str | None
    created_at: datetime
    read_at: datetime | None


class InboxRead(BaseModel):
    customer_id: str
    unread: int
    messages: list[InboxItem]


class MarkRead(BaseModel):
    message_ids: list[str] = Field(min_length=1, max_length=1000, description="The messages the customer opened")


@router.get("/{customer_id}/inbox", dependencies=[Depends(require_read)])
def inbox(customer_id: str, store: StoreDep, unread_only: bool = False) -> InboxRead:
    """The customer's in-app messages, newest first."""
    found = store.inbox(customer_id, unread_only=unread_only)
    items = [InboxItem(message_id=m.message_id, title=m.title, body=m.body, purpose=m.purpose,
                       deep_link=m.deep_link, created_at=m.created_at, read_at=m.read_at) for m in found]
    unread = sum(1 for m in found if m.read_at is None) if unread_only is False else len(found)
    return InboxRead(customer_id=customer_id, unread=unread, messages=items)


@router.post("/{customer_id}/inbox/read", dependencies=[Depends(require_write)])
def mark_read(customer_id: str, body: MarkRead, store: StoreDep, clock: ClockDep) -> dict[str, int]:
    """Mark messages read (ones read already keep their time); says how many changed."""
    return {"marked": store.mark_read(customer_id, body.message_ids, at=clock.now())}

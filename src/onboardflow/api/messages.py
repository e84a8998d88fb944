"""The outbox through the API: messages with what became of each, one by id, and parked ones tried again
(`onboardflow messages list|retry`). Reading needs the `read` scope, retrying `write`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from onboardflow.api.dependencies import ClockDep, StoreDep, keyed_router, require_read, require_write
from onboardflow.api.params import (
    BAD_CURSOR,
    DEFAULT_LIMIT,
    CursorQuery,
    Id,
    Limit,
    decode_cursor,
    id_path,
    id_query,
    page,
)
from onboardflow.api.problems import Problem, problem_responses
from onboardflow.ports import MESSAGE_STATUSES, OutboxMessage

router = keyed_router("/v1/messages", "messages")

MessageStatus = Literal[MESSAGE_STATUSES]  # type: ignore[valid-type]
RETRY_MAX = 1000

MESSAGE_EXAMPLE = {
    "id": "msg_5c1f0e9a2b7d4e6f8a9b0c1d.1", "customer_id": "c_42", "journey_id": "first-purchase-welcome",
    "version": 1, "step_id": "welcome", "enrollment_id": "enr_5c1f0e9a2b7d4e6f8a9b0c1d",
    "template": "welcome", "purpose": "transactional", "channels": ["email"], "channel": "email",
    "status": "delivered", "attempts": 1, "at": "2026-03-02T09:00:00Z",
    "delivered_at": "2026-03-02T09:00:04Z", "next_attempt_at": None, "error": None, "note": None,
    "provider_id": "<20260302090004.1@shop.example>",
}


class MessageRead(BaseModel):
    """One message and what became of it: `pending` (due at `next_attempt_at`, else `at`), `delivered`,
    `skipped` (a policy said no: `note` says which), `undeliverable`, `parked` (gave up: `error`), or
    `cancelled` (its customer was erased)."""

    model_config = ConfigDict(json_schema_extra={"examples": [MESSAGE_EXAMPLE]})

    id: str
    customer_id: str
    journey_id: str
    version: int
    step_id: str
    enrollment_id: str
    template: str
    purpose: str
    channels: list[str] = Field(description="The step's channels, in order of preference")
    channel: str | None = Field(description="The channel it went out on (or was skipped or parked on)")
    status: str
    attempts: int
    at: datetime = Field(description="When the journey sent it")
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    error: str | None
    note: str | None = Field(description="The policy that decided, and why (quiet hours, caps, consent)")
    provider_id: str | None

    @classmethod
    def of(cls, row: OutboxMessage) -> MessageRead:
        m = row.message
        return cls(
            id=m.message_id, customer_id=m.customer_id, journey_id=m.journey_id, version=m.version,
            step_id=m.step_id, enrollment_id=m.enrollment_id, template=m.template, purpose=m.purpose,
            channels=list(m.channels), channel=row.channel, status=row.status, attempts=row.attempts, at=m.at,
            delivered_at=row.delivered_at, next_attempt_at=row.next_attempt_at, error=row.error,
            note=row.note, provider_id=row.provider_id,
        )


class MessagePage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [MESSAGE_EXAMPLE], "next": None}]})

    items: list[MessageRead]
    next: str | None = Field(description="The cursor of the next page; null on the last one")


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"message_ids": ["msg_5c1f0e9a2b7d4e6f8a9b0c1d.1"]}, {"all": True},
    ]})

    message_ids: list[Id] | None = Field(
        default=None, min_length=1, max_length=RETRY_MAX, description="The parked messages to send again"
    )
    all: StrictBool = Field(default=False, description="Every parked message")

    @model_validator(mode="after")
    def _one_or_the_other(self) -> RetryRequest:
        if (self.message_ids is not None) == self.all:
            raise ValueError('name the parked messages in "message_ids", or send {"all": true}; not both')
        return self


class SkippedRetry(BaseModel):
    id: str
    reason: str


class RetryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"retried": 1, "skipped": [{"id": "msg_x.2", "reason": "delivered, not parked"}]},
    ]})

    retried: int = Field(description="Parked messages the next worker round sends, attempts counted anew")
    skipped: list[SkippedRetry] = Field(description="Ids named that are not parked messages, and why")


@router.get("", dependencies=[Depends(require_read)], responses=BAD_CURSOR)
def list_messages(
    store: StoreDep,
    customer_id: Annotated[str | None, id_query("Only this customer's messages", "c_42")] = None,
    status: Annotated[MessageStatus | None, Query(description="Only messages in this state")] = None,
    journey_id: Annotated[str | None, id_query("Only this journey's messages", "welcome")] = None,
    channel: Annotated[str | None, id_query("Only messages that went out (or were skipped or parked) on this "
                                            "channel; pending ones have none yet", "email")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> MessagePage:
    """Messages, oldest first, with the reason each was delivered, skipped or parked."""
    rows = store.messages_page(customer_id=customer_id, status=status, journey_id=journey_id, channel=channel,
                               after=decode_cursor(cursor), limit=limit + 1)
    items, after = page(rows, limit, lambda row: (row.message.at, row.message.message_id))
    return MessagePage(items=[MessageRead.of(row) for row in items], next=after)


@router.post("/retry", dependencies=[Depends(require_write)])
def retry(body: RetryRequest, store: StoreDep, clock: ClockDep) -> RetryRead:
    """Give parked messages another go: the next worker round sends them (as `onboardflow messages retry`).
    Ids that name no parked message are listed in `skipped`, with why; the others are retried."""
    if body.all:
        return RetryRead(retried=store.retry_parked(None, now=clock.now()), skipped=[])
    named = list(dict.fromkeys(body.message_ids or []))
    skipped = _not_parked(store, named)
    wanted = [mid for mid in named if mid not in {s.id for s in skipped}]
    retried = store.retry_parked(wanted, now=clock.now()) if wanted else 0
    return RetryRead(retried=retried, skipped=skipped)


@router.get("/{message_id}", dependencies=[Depends(require_read)],
            responses=problem_responses({404: "No such message"}))
def get_message(
    message_id: Annotated[str, id_path("The message's id", "msg_5c1f0e9a2b7d4e6f8a9b0c1d.1")], store: StoreDep
) -> MessageRead:
    """One message by id."""
    row = store.message(message_id)
    if row is None:
        raise Problem(404, "Message not found",
                      f"no message {message_id!r}: list them with GET /v1/messages?customer_id=...")
    return MessageRead.of(row)


def _not_parked(store, message_ids: list[str]) -> list[SkippedRetry]:
    skipped = []
    for message_id in message_ids:
        row = store.message(message_id)
        if row is None:
            skipped.append(SkippedRetry(id=message_id, reason="no such message"))
        elif row.status != "parked":
            skipped.append(SkippedRetry(id=message_id, reason=f"{row.status}, not parked"))
    return skipped

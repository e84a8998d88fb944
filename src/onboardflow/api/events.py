"""`POST /v1/events` and `POST /v1/events/batch`: canonical events into the queue, for an `ingest` key.

Each event is checked as `onboardflow ingest` checks a line; the answer (202) lists the ids queued, those
seen before (duplicates, not queued again), and for a batch each refused event's index and what to fix.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from onboardflow.api.dependencies import ingest_key
from onboardflow.api.event_schemas import (
    DELIVERED_EVENT,
    ORDER_EVENT,
    EventBatchCreate,
    EventCreate,
    EventsAccepted,
)
from onboardflow.api.intake import take
from onboardflow.api.openapi import BEARER, json_body, problems

router = APIRouter(prefix="/v1/events", tags=["events"])

BAD_EVENT = {**DELIVERED_EVENT, "id": "evt_03", "at": "2026-03-04 15:30"}


@router.post(
    "", status_code=202, response_model=EventsAccepted, summary="Send one event",
    responses=problems(400, 401, 403, 409, 413, 415, 422, 503),
    openapi_extra=json_body(EventCreate, {"order": ORDER_EVENT, "delivered": DELIVERED_EVENT},
                            security=BEARER),
)
async def post_event(request: Request) -> Response:
    """Queue one event for the workers. 202 once it is queued, or when its id was seen before (then it is
    listed under `duplicates`); 422 saying what to fix when it is not a valid event."""
    return await take(request, ingest_key(request), request.app.state.intake.event)


@router.post(
    "/batch", status_code=202, response_model=EventsAccepted, summary="Send up to 1,000 events",
    responses=problems(400, 401, 403, 409, 413, 415, 422, 503),
    openapi_extra=json_body(EventBatchCreate, {
        "two events": {"events": [ORDER_EVENT, DELIVERED_EVENT]},
        "one bad, taken with the others": {"events": [ORDER_EVENT, BAD_EVENT]},
    }, security=BEARER),
)
async def post_batch(request: Request) -> Response:
    """Queue up to 1,000 events in one request. The good ones are queued even when others are bad: each bad
    one is listed under `errors` with its index and what to fix. 422 when none is good."""
    return await take(request, ingest_key(request), request.app.state.intake.batch)

"""`POST /v1/segment`: Segment's `track` and `identify` calls (one, or Segment's batch) as events.

Point a Segment source's Webhooks destination (or a Segment library's host) here with an `ingest` key: as
a Bearer token, or as Segment sends its write key, the user name of HTTP Basic. The mapping of fields
is `integrations.segment`'s; page, screen, group and alias calls are answered and ignored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from onboardflow.api.dependencies import segment_key
from onboardflow.api.event_schemas import (
    SEGMENT_IDENTIFY,
    SEGMENT_TRACK,
    SegmentAccepted,
    SegmentBatch,
    SegmentCall,
)
from onboardflow.api.intake import take
from onboardflow.api.openapi import BEARER_OR_BASIC, json_body, problems

router = APIRouter(prefix="/v1/segment", tags=["events"])


@router.post(
    "", status_code=202, response_model=SegmentAccepted, summary="Send Segment calls",
    responses=problems(400, 401, 403, 409, 413, 415, 422, 503),
    openapi_extra=json_body(SegmentCall | SegmentBatch, {
        "track": SEGMENT_TRACK, "identify": SEGMENT_IDENTIFY,
        "batch": {"batch": [SEGMENT_IDENTIFY, SEGMENT_TRACK], "sentAt": "2026-03-01T10:00:01Z"},
    }, security=BEARER_OR_BASIC),
)
async def post_segment(request: Request) -> Response:
    """Queue Segment calls: `messageId` is the event id, `userId` (else `anonymousId`) the customer; an
    identify call becomes an `Identify` event whose traits update the profile. A batch takes its good calls
    and lists each bad one under `errors`; other call types are listed under `ignored`."""
    return await take(request, segment_key(request), request.app.state.intake.segment)

"""What routes take in paths and queries: ids, filters, page sizes and cursors, each checked so that odd
input is a 4xx saying what to send, never a 500 from the database.

Lists are keyset pages: each answer's `next` is an opaque cursor for the row it ended on; send it back as
`cursor` for the following page. No `next`, no more rows.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from pydantic import AwareDatetime, BeforeValidator, Field

from onboardflow.api.problems import Problem, problem_responses
from onboardflow.ports import Cursor

# no control characters (PostgreSQL refuses NUL in text), and a sane length
ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
ID_MAX = 200
MAX_LIMIT = 500
BAD_CURSOR = problem_responses({400: "The cursor is not one this API gave"})
DEFAULT_LIMIT = 50

Id = Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]  # an id in a body


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("write the time as ISO-8601 with a zone, e.g. 2026-03-01T08:00:00Z")
    return value


# a time in a body: ISO-8601 text with a zone (a bare number is not taken for seconds since 1970)
IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
CustomerIdPath = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN,
                                     description="The customer's id, as events name it", examples=["c_42"])]
JourneyIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80,
                                    description="The journey's id, as its document names it",
                                    examples=["first-purchase-welcome"])]
VersionPath = Annotated[int, Path(ge=1, le=1_000_000, description="A version number, from 1",
                                  examples=[1])]


def id_path(description: str, example: str) -> Any:
    return Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN, description=description,
                examples=[example])


def id_query(description: str, example: str) -> Any:
    return Query(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN, description=description,
                 examples=[example])


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page, 1 to {MAX_LIMIT}")]
CursorQuery = Annotated[str | None, Query(
    max_length=500, description="The `next` of the previous page, unchanged; leave out for the first page",
)]


def encode_cursor(at: datetime, row_id: str) -> str:
    """An opaque token for the row a page ended on: its time and id."""
    text = json.dumps([at.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(token: str | None) -> Cursor | None:
    """The (time, id) a cursor stands for; a 400 problem when it is not one this API gave."""
    if token is None:
        return None
    cursor = _read_cursor(token)
    if cursor is None:
        raise Problem(400, "Invalid cursor",
                      "the cursor is not one this API gave: send the `next` of the previous page unchanged, "
                      "or leave `cursor` out to start from the first page")
    return cursor


def _read_cursor(token: str) -> Cursor | None:
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        moment = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        return None
    if moment.tzinfo is None or not isinstance(row_id, str) or not re.match(ID_PATTERN, row_id):
        return None
    return moment, row_id


Row = TypeVar("Row")


def page(
    rows: Sequence[Row], limit: int, key: Callable[[Row], tuple[datetime, str]]
) -> tuple[list[Row], str | None]:
    """The rows of a page fetched with `limit + 1`, and the cursor for the next one (None: there is none)."""
    if len(rows) <= limit:
        return list(rows), None
    kept = list(rows[:limit])
    return kept, encode_cursor(*key(kept[-1]))

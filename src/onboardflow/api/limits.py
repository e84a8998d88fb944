"""What a request body may be, checked before any route runs: at most so many bytes (413), and JSON on the
`/v1/` routes (415); both answered as problem+json naming the limit or the type to send.

A body that declares its length is refused before a byte of it is read; one sent in chunks is counted as
it arrives. Starlette's own `max_body_size` answers in plain text when a route answers before reading the
body, and does not say the limit; this middleware does both the way the API's other errors do.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onboardflow.api.problems import Problem, problem_response

WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
OWN_MEDIA_TYPES = ("/v1/journeys",)  # routes that take YAML too, and say themselves what they take (415)


class BodyTooLarge(HTTPException):
    """The body grew past the route's limit while it was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=too_large_detail(limit))
        self.limit = limit


def too_large_detail(limit: int) -> str:
    return (f"the body is larger than this route takes ({describe_size(limit)}): send less a request "
            "(a batch of fewer events), or have the server's ONBOARDFLOW_MAX_BODY_BYTES or "
            "ONBOARDFLOW_MAX_BATCH_BODY_BYTES raised")


def describe_size(size: int) -> str:
    if size % (1 << 20) == 0:
        return f"{size >> 20} MiB"
    if size % (1 << 10) == 0:
        return f"{size >> 10} KiB"
    return f"{size:,} bytes"


def is_json(content_type: str | None) -> bool:
    """application/json, or a JSON-based type such as application/problem+json; parameters allowed."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestLimits:
    """ASGI middleware: the body size limit of each path (`limit_for`) and JSON bodies under `/v1/`."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WITH_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = Headers(scope=scope)
        problem = _refusal(scope, headers, limit)
        if problem is not None:
            await problem_response(Request(scope), problem)(scope, receive, send)
            return
        await self.app(scope, _counted(receive, limit), send)


def _refusal(scope: Scope, headers: Headers, limit: int) -> Problem | None:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return Problem(413, "Body too large", too_large_detail(limit), limit_bytes=limit)
    has_body = (declared.isdigit() and int(declared) > 0) or "transfer-encoding" in headers
    if not scope["path"].startswith("/v1/") or scope["path"].startswith(OWN_MEDIA_TYPES) or not has_body:
        return None
    if not is_json(headers.get("content-type")):
        sent = headers.get("content-type") or "no Content-Type"
        return Problem(415, "Unsupported media type",
                       f"send the body as JSON with `Content-Type: application/json` (it came as {sent})")
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        return Problem(415, "Unsupported content encoding",
                       f"send the body uncompressed: Content-Encoding {encoding!r} is not taken")
    return None


def _counted(receive: Receive, limit: int) -> Receive:
    received = 0

    async def receive_counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_counted

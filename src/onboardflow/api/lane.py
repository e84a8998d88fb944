"""The event routes' fast lane: `POST /v1/events`, `/v1/events/batch` and `/v1/segment` go straight from
this middleware to their endpoints, past FastAPI's routing, dependency solving and response handling.

On the benchmark of single events, that machinery cost about as much CPU as the rest of the request
(reading, checking, queueing, answering). The routes stay declared in FastAPI, which documents them in
the OpenAPI document (and would serve them without this lane): their endpoints take only the request and
authenticate it themselves, so both ways run the same code. Errors become problem+json here as the app's
handlers make them; anything else goes on to the app's 500 handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from onboardflow.api.problems import Problem, http_problem, problem_response

Endpoint = Callable[[Request], Awaitable[Response]]


class EventLane:
    """ASGI middleware: a POST to one of `routes` (path → endpoint) is answered by its endpoint."""

    def __init__(self, app: ASGIApp, *, routes: dict[str, Endpoint]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except Problem as problem:
            response = problem_response(request, problem)
        except HTTPException as error:  # a body past the limit, found while it was read
            response = problem_response(request, http_problem(request, error))
        await response(scope, receive, send)

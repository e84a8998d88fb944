"""The event routes' fast lane: `POST /v1/events`, `/v1/events/batch` and `/v1/segment` go straight from
the app to their endpoints, in front of FastAPI's middleware stack, routing, dependency solving and
response handling: only the 500 handler and the body limits come first.

On the benchmark of single events, that machinery cost about as much CPU as the rest of the request
(reading, checking, queueing, answering). The routes stay declared in FastAPI, which documents them in
the OpenAPI document (and would serve them without this lane): their endpoints take only the request and
authenticate it themselves, so both ways run the same code. Errors become problem+json here as the app's
handlers make them; anything else goes to the app's 500 handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from onboardflow.api.limits import RequestLimits
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


class LanedApp(FastAPI):
    """FastAPI, with POSTs to the lane's routes answered before its middleware stack is entered."""

    _lane_routes: dict[str, Endpoint] = {}
    _lane_limits: Callable[[str], int] | None = None
    _lane: ASGIApp | None = None

    def add_lane(self, routes: dict[str, Endpoint], *, limit_for: Callable[[str], int]) -> None:
        """Serve POSTs to `routes` (path → endpoint) through the lane, with the body limits of `limit_for`."""
        self._lane_routes, self._lane_limits, self._lane = routes, limit_for, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self._lane_routes:
            scope["app"] = self  # what Request.app reads, as Starlette sets it
            if self._lane is None:
                self._lane = self._build_lane()
            await self._lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _build_lane(self) -> ASGIApp:
        assert self._lane_limits is not None
        lane = RequestLimits(EventLane(self.router, routes=self._lane_routes), limit_for=self._lane_limits)
        return ServerErrorMiddleware(lane, handler=self.exception_handlers.get(Exception), debug=self.debug)

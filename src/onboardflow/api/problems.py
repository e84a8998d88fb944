"""Errors as RFC 9457 `application/problem+json` bodies that say what to fix; HTML pages for people who
followed a link (unsubscribe and preference pages)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from onboardflow.api import pages
from onboardflow.compliance.gdpr import CustomerNotFound
from onboardflow.compliance.tokens import TokenError

PROBLEM_JSON = "application/problem+json"

# the problem document, for the OpenAPI answers of every route (inline: it is the same everywhere)
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What is wrong, and what to do about it"},
        "errors": {"type": "array", "description": "Invalid requests: each field and what is wrong with it",
                   "items": {"type": "object", "properties": {"field": {"type": "string"},
                                                              "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
    "example": {"type": "about:blank", "title": "Invalid request", "status": 422,
                "detail": "body.phone: '555' is not in E.164: write + and the country code",
                "errors": [{"field": "body.phone",
                            "message": "'555' is not in E.164: write + and the country code"}]},
}


def problem_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers for these statuses, each an `application/problem+json` document."""
    return {status: {"description": text, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
            for status, text in descriptions.items()}


# what any route behind an API key may answer besides its own
KEYED_PROBLEMS = problem_responses({
    400: "The body cannot be read: not JSON, or not UTF-8",
    401: "No API key, or one that is malformed, unknown or revoked",
    403: "The API key lacks the scope this route needs",
    422: "The request is not valid: `errors` names each field and what is wrong",
})


class Problem(Exception):
    """An error for the API's caller: its status, a short title, and the detail that says what to fix."""

    def __init__(
        self, status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(request: Request, problem: Problem) -> Response:
    if wants_html(request):
        body = pages.problem_page(problem.title, problem.detail)
        return HTMLResponse(body, status_code=problem.status, headers={**pages.HEADERS, **problem.headers})
    document = {"type": "about:blank", "title": problem.title, "status": problem.status,
                "detail": problem.detail, **problem.extra}
    return JSONResponse(
        document, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


def wants_html(request: Request) -> bool:
    """A person's browser (a page, or a form posted from one) rather than a program."""
    if request.url.path.startswith("/v1/"):
        return False
    return request.method == "GET" or "text/html" in request.headers.get("accept", "")


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, error: Exception) -> Response:
        assert isinstance(error, Problem)
        return problem_response(request, error)

    async def on_token(request: Request, error: Exception) -> Response:
        return problem_response(request, Problem(400, "Invalid link", str(error)))

    async def on_not_found(request: Request, error: Exception) -> Response:
        return problem_response(request, Problem(404, "Customer not found", str(error)))

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        title = HTTPStatus(error.status_code).phrase
        return problem_response(request, Problem(error.status_code, title, str(error.detail),
                                                 headers=dict(error.headers or {})))

    async def on_invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"field": ".".join(str(part) for part in item["loc"]),
             "message": item["msg"].removeprefix("Value error, ")}
            for item in error.errors()
        ]
        detail = "; ".join(f"{item['field']}: {item['message']}" for item in errors)
        return problem_response(request, Problem(422, "Invalid request", detail, errors=errors))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(TokenError, on_token)
    app.add_exception_handler(CustomerNotFound, on_not_found)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)

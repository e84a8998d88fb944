"""The OpenAPI document as the app really answers: bodies the routes read themselves (described by Pydantic
models and examples), and every error answer as `application/problem+json` with the statuses it can have.

FastAPI documents a validation error as its own JSON shape; onboardflow answers problem+json, so the
document is corrected for every operation, those of routers added later included: 401 and 403 where a
key is needed, 400, 413, 415 and 422 where a body is sent, 404 where the path names something.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from onboardflow.api.problems import PROBLEM_JSON

REF = "#/components/schemas/{model}"
# the security of routes that read the key themselves (`lane.EventLane`), by scheme name
BEARER = [{"HTTPBearer": []}]
BEARER_OR_BASIC = [{"HTTPBearer": []}, {"HTTPBasic": []}]
SECURITY_SCHEMES = {
    "HTTPBearer": {"type": "http", "scheme": "bearer",
                   "description": "An API key (`onboardflow apikey create --scopes ...`), or the admin token "
                   "(ONBOARDFLOW_ADMIN_TOKEN), which has every scope"},
    "HTTPBasic": {"type": "http", "scheme": "basic",
                  "description": "Segment's way: the API key (its write key) as the user name, no password"},
}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Sent again with the same request, gets the first answer again (docs/api.md)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_BODY_MODELS: list[type[BaseModel]] = []

DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON (the detail says where), or a header is invalid",
    401: "No API key, or one that is malformed, unknown or revoked",
    403: "The API key lacks the scope this route needs",
    404: "Nothing found at this path",
    409: "The Idempotency-Key was used for another request, or its first request is still in flight",
    413: "The body is larger than the route's limit (the detail says the limit)",
    415: "The body is not JSON (send Content-Type: application/json), or is compressed",
    422: "The request is not valid: the detail says what to fix",
    503: "The store could not be written: nothing was taken, send it again",
}

PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `detail` says what to fix. Some problems add members "
                   "(`errors` for refused events, `line` and `column` for malformed JSON).",
    "type": "object",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}


def json_body(models: Any, examples: dict[str, Any], *, security: list[dict[str, list]]) -> dict[str, Any]:
    """`openapi_extra` for an event route, which reads its own JSON body and key: `models` (a model, or
    models joined with `|`) say its shape, `examples` (by name) show it, `security` how to send the key;
    it takes an Idempotency-Key."""
    choices = list(getattr(models, "__args__", (models,)))
    _BODY_MODELS.extend(model for model in choices if model not in _BODY_MODELS)
    refs = [{"$ref": REF.format(model=model.__name__)} for model in choices]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    return {"security": security, "parameters": [IDEMPOTENCY_PARAMETER],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": schema, "examples": {name: {"value": value} for name, value in examples.items()},
            }}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses` for a route's error answers."""
    return {status: problem_response(status) for status in statuses}


def problem_response(status: int, *, html: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}
    if html:  # pages for people, outside /v1: a browser gets the problem as a page
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": DESCRIPTIONS.get(status, "Problem"), "content": content}


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` the corrected document (built once, on first use)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = corrected(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def corrected(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema([(model, "validation") for model in _BODY_MODELS], ref_template=REF)
    for name, schema in definitions.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemes = document["components"].setdefault("securitySchemes", {})
    for name, scheme in SECURITY_SCHEMES.items():
        schemes.setdefault(name, scheme)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _add_problems(path, method, operation)
    return document


def _add_problems(path: str, method: str, operation: dict[str, Any]) -> None:
    statuses = set()
    if operation.get("security"):
        statuses |= {401, 403}
    if method in ("post", "put", "patch"):
        statuses |= {400, 413, 422} | ({415} if path.startswith("/v1/") else set())
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses |= {400, 404} if not path.startswith("/v1/") else {404}
    if operation.get("parameters"):
        statuses.add(422)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        existing = responses.get(str(status))
        if existing is None or _is_fastapi_validation_error(existing):
            responses[str(status)] = problem_response(status, html=not path.startswith("/v1/"))


def _is_fastapi_validation_error(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")

"""What routes are given: the store, settings and clock of the app, and the API key check.

`require_scope` is the one place that decides who may call a route: an API key with the route's scope.
"""

from __future__ import annotations

import base64
import hmac
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onboardflow.api.keys import SCOPES, BadKey, KeyRing, grants
from onboardflow.api.problems import KEYED_PROBLEMS, Problem
from onboardflow.compliance.tokens import UnsubscribeToken, verify
from onboardflow.core.text import unstorable_text
from onboardflow.engine.engine import Engine
from onboardflow.policy_settings import PolicySettings
from onboardflow.ports import ApiKey, Clock, Store
from onboardflow.settings import Settings


# async, though they only read the app's state: a plain `def` dependency costs a trip to the thread pool
async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


_engine_lock = threading.Lock()


def get_engine(request: Request) -> Engine:
    """The engine on the app's store and clock (the CLI's and the workers' engine), made on first use:
    publishing, pausing and resuming go through it, never around it."""
    state = request.app.state
    with _engine_lock:
        if getattr(state, "engine", None) is None:
            zone = PolicySettings().store_timezone
            state.engine = Engine(state.store, clock=state.clock, default_zone=zone)
    return state.engine


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key (`onboardflow apikey create --scopes ...`), or the admin token "
    "(ONBOARDFLOW_ADMIN_TOKEN), which has every scope",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring


def authorize(request: Request, token: str | None, scope: str, *, challenge: str = "Bearer") -> ApiKey:
    """The key `token` is, if it may call a route that needs `scope`.

    401 without a key or with one that is unknown, malformed or revoked; 403 with a key that lacks the
    scope. The admin token of the settings, when set, counts as a key with every scope.
    """
    if not token:
        raise Problem(
            401, "Authentication required",
            f"send an API key with the {scope!r} scope: `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": challenge},
        )
    # the key ring answers from memory; it reads the store (on the event loop: a quick read by id) only
    # once per key id and ONBOARDFLOW_API_KEY_CACHE_SECONDS
    admin = request.app.state.settings.admin_token
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        return ADMIN_TOKEN_KEY
    try:
        key = get_keyring(request).check(token)
    except BadKey as error:
        raise Problem(401, "Invalid API key", str(error), headers={"WWW-Authenticate": challenge}) from None
    if not grants(key.scopes, scope):
        raise Problem(
            403, "Missing scope",
            f"API key {key.id} ({key.name}) has the scopes {', '.join(key.scopes)}; this route needs "
            f"{scope!r}: create a key with `onboardflow apikey create --scopes {scope}`",
        )
    return key


def require_scope(scope: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that lets the request through only with a key that has `scope` (or `admin`)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def check(request: Request, credentials: Credentials) -> ApiKey:
        return authorize(request, credentials.credentials if credentials else None, scope)

    check.__name__ = f"require_{scope}"
    return check


SEGMENT_CHALLENGE = 'Basic realm="onboardflow", Bearer'


def ingest_key(request: Request) -> ApiKey:
    """The `ingest` key of an event route's request, read from the header here rather than through
    FastAPI's dependencies: these routes are served by `lane.EventLane`, without FastAPI's routing."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return authorize(request, token.strip() if scheme.lower() == "bearer" else None, "ingest")


def segment_key(request: Request) -> ApiKey:
    """`ingest`, with the key as a Bearer token or, as Segment sends its write key, as the Basic user name."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    token = None
    if scheme.lower() == "bearer":
        token = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            token = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            raise Problem(401, "Invalid credentials",
                          "HTTP Basic credentials are base64 of `<key>:`: the API key as the user name, the "
                          "password empty", headers={"WWW-Authenticate": SEGMENT_CHALLENGE}) from None
    return authorize(request, token, "ingest", challenge=SEGMENT_CHALLENGE)


# the settings' admin token, as the key it stands for
ADMIN_TOKEN_KEY = ApiKey("admin-token", "ONBOARDFLOW_ADMIN_TOKEN", ("admin",), "",
                         datetime.min.replace(tzinfo=UTC))
require_admin = require_scope("admin")
require_read = require_scope("read")
require_write = require_scope("write")
require_ingest = require_scope("ingest")


async def storable_body(request: Request) -> None:
    """A JSON body's text must be storable (no NUL, valid Unicode): a 422 naming the field, not a 500 from
    the database. Bodies that are not JSON are left to the route."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    try:
        document = await request.json()
    except (ValueError, UnicodeDecodeError):
        return  # FastAPI reports a body it cannot read
    found = unstorable_text(document)
    if found:
        field = ".".join(str(part) for part in ("body", *found[0]))
        raise Problem(422, "Invalid request", f"{field}: {found[1]}",
                      errors=[{"field": field, "message": found[1]}])


def keyed_router(prefix: str, tag: str, *, check_body: bool = True) -> APIRouter:
    """A router for /v1 routes: their problem answers documented and, unless the route reads its body
    itself, JSON bodies checked storable."""
    dependencies = [Depends(storable_body)] if check_body else []
    return APIRouter(prefix=prefix, tags=[tag], responses=KEYED_PROBLEMS, dependencies=dependencies)


def unsubscribe_token(token: str, settings: SettingsDep) -> UnsubscribeToken:
    """The claims of the `{token}` in the path; TokenError (400) when it is not one we signed."""
    secret = settings.unsubscribe_secret
    if secret is None:
        raise Problem(
            503, "Unsubscribe links are not set up",
            "the server has no signing secret: set ONBOARDFLOW_UNSUBSCRIBE_SECRET to the one the links "
            "were made with",
        )
    return verify(token, secret.get_secret_value())


TokenDep = Annotated[UnsubscribeToken, Depends(unsubscribe_token)]


def request_evidence(request: Request, *, method: str) -> dict[str, Any]:
    """What the ledger keeps as proof of a request: how it came, from where, and with what client."""
    evidence: dict[str, Any] = {"method": method}
    if request.client is not None:
        evidence["ip"] = request.client.host
    if request.headers.get("user-agent"):
        evidence["user_agent"] = request.headers["user-agent"][:300]
    return evidence

"""What routes are given: the store, settings and clock of the app, and the API key check.

`require_scope` is the one place that decides who may call a route: an API key with the route's scope.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onboardflow.api.keys import SCOPES, BadKey, KeyRing, grants
from onboardflow.api.problems import Problem
from onboardflow.compliance.tokens import UnsubscribeToken, verify
from onboardflow.ports import ApiKey, Clock, Store
from onboardflow.settings import Settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key (`onboardflow apikey create --scopes ...`), or the admin token "
    "(ONBOARDFLOW_ADMIN_TOKEN), which has every scope",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring


def require_scope(scope: str) -> Callable[..., ApiKey]:
    """A dependency that lets the request through only with a key that has `scope` (or `admin`).

    401 without a key or with one that is unknown, malformed or revoked; 403 with a key that lacks the
    scope. The admin token of the settings, when set, counts as a key with every scope.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def check(request: Request, settings: SettingsDep, credentials: Credentials) -> ApiKey:
        if credentials is None:
            raise Problem(
                401, "Authentication required",
                f"send an API key with the {scope!r} scope: `Authorization: Bearer <key>`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = credentials.credentials
        admin = settings.admin_token
        if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
            return ADMIN_TOKEN_KEY
        try:
            key = get_keyring(request).check(token)
        except BadKey as error:
            raise Problem(401, "Invalid API key", str(error),
                          headers={"WWW-Authenticate": "Bearer"}) from None
        if not grants(key.scopes, scope):
            raise Problem(
                403, "Missing scope",
                f"API key {key.id} ({key.name}) has the scopes {', '.join(key.scopes)}; this route needs "
                f"{scope!r}: create a key with `onboardflow apikey create --scopes {scope}`",
            )
        return key

    check.__name__ = f"require_{scope}"
    return check


# the settings' admin token, as the key it stands for
ADMIN_TOKEN_KEY = ApiKey("admin-token", "ONBOARDFLOW_ADMIN_TOKEN", ("admin",), "",
                         datetime.min.replace(tzinfo=UTC))
require_admin = require_scope("admin")
require_read = require_scope("read")
require_write = require_scope("write")
require_ingest = require_scope("ingest")


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

"""The web UI's session and its CSRF protection.

The session is a signed cookie (Starlette's SessionMiddleware, signed with itsdangerous) holding the signed-in
user's email and a CSRF token. Every request that changes something (POST, PUT, PATCH, DELETE) must carry
that token back: the `csrf_token` field of a form, or the `X-CSRF-Token` header that htmx sends on every
request of a page. A forged request from another site has the cookie but not the token, and is refused.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from onboardflow.api.problems import Problem
from onboardflow.settings import MIN_SECRET_LENGTH, Settings

SESSION_COOKIE = "onboardflow_session"
SESSION_DAYS = 14
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def session_secret(settings: Settings) -> str:
    """ONBOARDFLOW_SECRET_KEY, or the key kept in `secret_key_file`, made there (mode 0600) the first time."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.secret_key_file)
    kept = _read_key(path)
    if kept is not None:
        return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    made = secrets.token_urlsafe(48)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server process made it first: use theirs
        return _read_key(path) or made
    with os.fdopen(handle, "w") as file:
        file.write(made + "\n")
    return made


def _read_key(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if len(text) < MIN_SECRET_LENGTH:
        raise ValueError(f"{path} holds a session key shorter than {MIN_SECRET_LENGTH} characters: delete "
                         "the file to have a new one made, or set ONBOARDFLOW_SECRET_KEY")
    return text


class WebSessions:
    """ASGI middleware: the session cookie on the web UI's paths only. The API, the store webhooks and the
    static files go past it untouched, so the event routes pay nothing for it. The key is read (or made) at
    the first page asked for: an app that serves only the API never touches the key file."""

    def __init__(self, app: ASGIApp, *, settings: Settings, prefixes: Iterable[str]) -> None:
        self.app, self.settings = app, settings
        self.prefixes = tuple(prefixes)
        self.with_session: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.is_web(scope["path"]):
            await self._sessions()(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def is_web(self, path: str) -> bool:
        return path == "/" or any(path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes)

    def _sessions(self) -> SessionMiddleware:
        if self.with_session is None:
            self.with_session = SessionMiddleware(
                self.app, secret_key=session_secret(self.settings), session_cookie=SESSION_COOKIE,
                max_age=SESSION_DAYS * 24 * 3600, same_site="lax",
                https_only=is_https(self.settings.public_url),
            )
        return self.with_session


def is_https(public_url: str) -> bool:
    return urlsplit(public_url).scheme == "https"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def start_session(request: Request, email: str) -> None:
    """A new session for a user who just signed in: nothing carried over from before (no fixation)."""
    request.session.clear()
    request.session["user"] = email
    csrf_token(request)


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request that does not carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        sent = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise Problem(403, "Form refused",
                      "this form did not come with the token of your session (it expired, or another site "
                      "sent it): reload the page and send it again")

"""Signing in to the web UI: a user (`onboardflow user add ... --password`) with their password; the session
keeps their email. Every page but the sign-in page needs a signed-in, enabled user (`Viewer`), some actions
a role (`require_role`); every state-changing request, the session's CSRF token (`security.check_csrf`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from onboardflow.api.dependencies import StoreDep
from onboardflow.api.problems import Problem
from onboardflow.governance.passwords import verify_password
from onboardflow.ports import Store, User
from onboardflow.web.rendering import go_to, is_htmx, page
from onboardflow.web.security import check_csrf, start_session


class LoginRequired(Exception):
    """The page needs a signed-in user; `next` is where to come back to."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next = next_url


def web_router() -> APIRouter:
    """A router for web pages: kept out of the API's OpenAPI document, every POST checked for CSRF."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


def signed_in(request: Request, store: StoreDep) -> User:
    """The signed-in user, kept where the templates find them; LoginRequired if there is none."""
    email = request.session.get("user")
    user = store.user(email) if email else None
    if user is None or user.disabled:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else request.headers.get("hx-current-url", "/"))
    request.state.viewer = user
    return user


Viewer = Annotated[User, Depends(signed_in)]


def require_role(role: str) -> Callable[[User], User]:
    """A dependency that lets only users with `role` (or admin) through."""

    def check(viewer: Viewer) -> User:
        if not viewer.has_role(role):
            raise Problem(403, "Not allowed", f"this needs the {role!r} role; you ({viewer.email}) have "
                          f"{', '.join(viewer.roles)}: an admin can add it (`onboardflow user add`)")
        return viewer

    return check


async def on_login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    url = f"/login?next={quote(safe_next(error.next))}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never `//elsewhere` or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/journeys"
    return target


router = web_router()


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/journeys", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/journeys") -> Response:
    return page(request, "login.html", {"next": safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(request: Request, store: StoreDep, email: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str, Form()] = "/journeys") -> Response:
    user = authenticate(store, email, password)
    if user is None:
        context = {"next": safe_next(next), "email": email,
                   "error": "That email and password do not match an enabled user. Check both, or ask an "
                   "admin to set your password (`onboardflow user passwd EMAIL`)."}
        return page(request, "login.html", context, status=400)
    start_session(request, user.email)
    return go_to(request, safe_next(next))


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return go_to(request, "/login")


def authenticate(store: Store, email: str, password: str) -> User | None:
    """The enabled user with this email and password; None otherwise (never saying which was wrong)."""
    user = store.user(email.strip().lower())
    if user is None or user.disabled or not user.password_hash:
        return None
    return user if verify_password(user.password_hash, password) else None

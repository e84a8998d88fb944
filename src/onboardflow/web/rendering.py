"""Pages from the Jinja2 templates beside this module: every page gets the navigation, the signed-in user
and the session's CSRF token, and goes out with headers that keep it from being framed or cached."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse, Response

from onboardflow.web.security import csrf_token

HERE = Path(__file__).parent
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # scripts only from here (htmx, vendored); inline styles for the SVG pictures' own attributes
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
# the pages in the navigation, in order
NAVIGATION = (
    ("/journeys", "Journeys"),
    ("/review", "Review"),
    ("/outcomes", "Outcomes"),
    ("/playbooks", "Playbooks"),
    ("/simulate", "Simulate"),
    ("/escalations", "Escalations"),
    ("/customers", "Customers"),
    ("/settings", "Settings"),
)


def when(moment: datetime | None, *, seconds: bool = False) -> str:
    """A time as people read it in the UI: UTC, to the minute."""
    if moment is None:
        return "–"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{100 * rate:.1f}%"


def section_of(path: str) -> str:
    """The navigation entry a page is under: a journey's review is under Review, the rest by prefix."""
    if path.startswith("/journeys/") and (path.endswith("/review") or "/review/" in path):
        return "/review"
    return next((entry for entry, _ in NAVIGATION if path == entry or path.startswith(entry + "/")), path)


def _common(request: Request) -> dict[str, Any]:
    return {
        "csrf": csrf_token(request),
        "viewer": getattr(request.state, "viewer", None),
        "navigation": NAVIGATION,
        "here": section_of(request.url.path),
        "htmx": is_htmx(request),  # a fragment's template then leaves out the page around it
    }


templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_common])
templates.env.filters["when"] = when
templates.env.filters["percent"] = percent


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """The template `name` rendered for `request` (a fragment of it when htmx asks for one)."""
    return templates.TemplateResponse(request, name, context or {}, status_code=status, headers=HEADERS)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def go_to(request: Request, url: str) -> Response:
    """After a form: the page to see next (a full page load for htmx too, as a normal form would)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)

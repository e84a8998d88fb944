"""The Customer page: the profile, consent, and everything that happened to the customer as one timeline
(events, messages, enrollments, tasks), from one read of their data, as `GET /v1/customers/{id}` tells it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from onboardflow.api.dependencies import StoreDep
from onboardflow.api.problems import Problem
from onboardflow.core.consent import current_state
from onboardflow.profiles import timeline
from onboardflow.web.auth import Viewer, web_router
from onboardflow.web.rendering import page

router = web_router()
RECENT = 25


@router.get("/customers")
def customers_page(request: Request, store: StoreDep, viewer: Viewer, id: str = "") -> Response:
    """Find a customer by id; the customers of the tasks due soonest, to start from."""
    if id.strip():
        return RedirectResponse(f"/customers/{quote(id.strip(), safe='')}", status_code=303)
    waiting = store.tasks_page(status="open", limit=RECENT)
    return page(request, "customers.html", {"waiting": waiting})


@router.get("/customers/{customer_id}")
def customer_page(request: Request, customer_id: str, store: StoreDep, viewer: Viewer) -> Response:
    data = store.customer_data(customer_id)
    if data.is_empty:
        raise Problem(404, "Customer not found", f"the store holds nothing on {customer_id!r}: check the id, "
                      "or send an event for them first")
    consent = sorted(current_state(data.consents).values(), key=lambda r: (r.channel, r.purpose))
    return page(request, "customer.html", {
        "data": data, "consent": consent, "timeline": list(reversed(timeline(data))),
    })

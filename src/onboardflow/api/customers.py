"""Routes on one customer: the profile (update, and read with everything that happened to them), the
consent ledger, and GDPR export and erasure.

Reading needs an API key with the `read` scope, updating and adding consent `write`, export and erasure
`admin`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from onboardflow.api.consent import ConsentCreate, ConsentLedger, ConsentRead, add_line, ledger_of
from onboardflow.api.customer_schemas import (
    CustomerRead,
    CustomerUpdate,
    EnrollmentRead,
    ProfileRead,
    ProfileUpdateRead,
    TimelineEntryRead,
)
from onboardflow.api.dependencies import (
    ClockDep,
    StoreDep,
    keyed_router,
    require_admin,
    require_read,
    require_write,
)
from onboardflow.api.messages import MessageRead
from onboardflow.api.params import CustomerIdPath
from onboardflow.api.problems import Problem, problem_responses
from onboardflow.api.tasks import TaskRead
from onboardflow.compliance import gdpr
from onboardflow.compliance.gdpr import CustomerNotFound
from onboardflow.core.consent import current_state
from onboardflow.profiles import timeline, update_profile

router = keyed_router("/v1/customers", "customers")

TIMELINE_MAX = 1000
NO_CUSTOMER = problem_responses({404: "The store holds nothing on this customer"})
TimelineLimit = Annotated[int, Query(ge=1, le=TIMELINE_MAX, description="How many of the latest entries")]


class ErasureRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "erased": True, "pseudonym": "anon_3f9c2a7d41e0b6c5a4d3e2f1", "erased_at": "2026-03-02T09:00:00Z",
        "counts": {"customers": 1, "events": 4, "enrollments": 1, "messages": 2, "consents": 1},
    }]})

    erased: bool = True
    pseudonym: str
    erased_at: datetime
    counts: dict[str, int]


@router.put("/{customer_id}", status_code=202, dependencies=[Depends(require_write)],
            responses=problem_responses({422: "A field is not valid: `errors` names it and what to write"}))
def put_customer(customer_id: CustomerIdPath, body: CustomerUpdate, store: StoreDep, clock: ClockDep
                 ) -> ProfileUpdateRead:
    """Create or update the profile: email, phone (E.164), locale (BCP 47), time zone (IANA), country (ISO
    3166-1 alpha-2), typed addresses, traits, and consent lines for the ledger.

    The change goes to the engine as a `Profile Updated` event, queued like every event the API takes, so
    journeys see it and `customer.*` conditions read it once a worker applies it: hence 202.
    """
    try:
        update = update_profile(store=store, customer_id=customer_id, changes=body.changes(),
                                consent_lines=[line.model_dump() for line in body.consent], now=clock.now())
    except ValueError as error:
        raise Problem(422, "Invalid consent", str(error)) from None
    return ProfileUpdateRead(
        customer_id=customer_id, state="queued" if update.queued else "queued_already",
        event_id=update.event.id, profile=ProfileRead.of(update.profile),
        consents=[ConsentRead.model_validate(gdpr.plain(record)) for record in update.consents],
    )


@router.get("/{customer_id}", dependencies=[Depends(require_read)],
            responses=problem_responses({404: "The store holds nothing on this customer"}))
def get_customer(
    customer_id: CustomerIdPath,
    store: StoreDep,
    timeline_limit: TimelineLimit = 200,
) -> CustomerRead:
    """The customer's profile, consent, enrollments, messages and tasks, and all of it as one timeline."""
    data = store.customer_data(customer_id)
    if data.is_empty:
        raise CustomerNotFound(customer_id)
    entries = timeline(data)
    state = sorted(current_state(data.consents).values(), key=lambda r: (r.channel, r.purpose))
    return CustomerRead(
        id=customer_id, profile=ProfileRead.of(data.profile) if data.profile else None,
        queued_events=len(data.queued), consent=[ConsentRead.model_validate(gdpr.plain(r)) for r in state],
        enrollments=[EnrollmentRead.of(e) for e in data.enrollments],
        messages=[MessageRead.of(m) for m in data.messages], tasks=[TaskRead.of(t) for t in data.tasks],
        timeline=[TimelineEntryRead.of(entry) for entry in entries[-timeline_limit:]],
        timeline_total=len(entries),
    )


@router.get("/{customer_id}/export", dependencies=[Depends(require_admin)], responses=NO_CUSTOMER)
def export(customer_id: CustomerIdPath, store: StoreDep, clock: ClockDep) -> JSONResponse:
    """Everything held on the customer, as one JSON document (GDPR right of access)."""
    document = gdpr.export_customer(store=store, customer_id=customer_id, now=clock.now())
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


@router.delete("/{customer_id}", dependencies=[Depends(require_admin)], responses=NO_CUSTOMER)
def erase(customer_id: CustomerIdPath, store: StoreDep, clock: ClockDep) -> ErasureRead:
    """Erase the customer (GDPR right to erasure): aggregates stay under a pseudonym, personal data goes."""
    erasure = gdpr.erase_customer(store=store, customer_id=customer_id, now=clock.now())
    return ErasureRead(pseudonym=erasure.pseudonym, erased_at=erasure.erased_at, counts=erasure.counts)


@router.get("/{customer_id}/consents", dependencies=[Depends(require_read)])
def consents(customer_id: CustomerIdPath, store: StoreDep) -> ConsentLedger:
    """The customer's consent ledger and its state (also at `GET /v1/consent?customer_id=`)."""
    return ledger_of(store, customer_id)


@router.post("/{customer_id}/consents", status_code=201, dependencies=[Depends(require_write)])
def record(customer_id: CustomerIdPath, body: ConsentCreate, store: StoreDep, clock: ClockDep) -> ConsentRead:
    """Add a line to the customer's consent ledger."""
    return add_line(store, customer_id, body, clock.now())

"""Admin routes on one customer: GDPR export and erasure, and the consent ledger (read, and record a line).

Export and erasure need an API key with the `admin` scope; reading the ledger `read`, adding to it `write`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from onboardflow.api.dependencies import ClockDep, StoreDep, require_admin, require_read, require_write
from onboardflow.api.problems import Problem
from onboardflow.compliance import consent, gdpr
from onboardflow.core.consent import PURPOSES

router = APIRouter(prefix="/v1/customers", tags=["customers"])


class ConsentCreate(BaseModel):
    channel: str = Field(min_length=1, examples=["email"])
    purpose: Literal[PURPOSES] = "marketing"  # type: ignore[valid-type]
    status: Literal["granted", "withdrawn"]
    source: str = Field(default="api", min_length=1, description="Where it was said: api, import, pos…")
    text_version: str | None = Field(default=None, description="The version of the consent text they saw")
    evidence: dict[str, Any] = Field(
        default_factory=dict, examples=[{"ip": "203.0.113.7", "double_opt_in": True}]
    )
    at: AwareDatetime | None = Field(default=None, description="When they said it; now if left out")


class ConsentRead(BaseModel):
    id: str
    customer_id: str
    channel: str
    purpose: str
    status: str
    source: str
    text_version: str | None
    at: datetime
    evidence: dict[str, Any]


class ConsentLedger(BaseModel):
    ledger: list[ConsentRead]
    state: list[ConsentRead] = Field(description="The latest line per channel and purpose")


class ErasureRead(BaseModel):
    erased: bool = True
    pseudonym: str
    erased_at: datetime
    counts: dict[str, int]


@router.get("/{customer_id}/export", dependencies=[Depends(require_admin)])
def export(customer_id: str, store: StoreDep, clock: ClockDep) -> JSONResponse:
    """Everything held on the customer, as one JSON document (GDPR right of access)."""
    document = gdpr.export_customer(store=store, customer_id=customer_id, now=clock.now())
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


@router.delete("/{customer_id}", dependencies=[Depends(require_admin)])
def erase(customer_id: str, store: StoreDep, clock: ClockDep) -> ErasureRead:
    """Erase the customer (GDPR right to erasure): aggregates stay under a pseudonym, personal data goes."""
    erasure = gdpr.erase_customer(store=store, customer_id=customer_id, now=clock.now())
    return ErasureRead(pseudonym=erasure.pseudonym, erased_at=erasure.erased_at, counts=erasure.counts)


@router.get("/{customer_id}/consents", dependencies=[Depends(require_read)])
def consents(customer_id: str, store: StoreDep) -> ConsentLedger:
    ledger = store.consents(customer_id)
    state = sorted(store.consent_state(customer_id).values(), key=lambda r: (r.channel, r.purpose))
    return ConsentLedger(ledger=[gdpr.plain(r) for r in ledger], state=[gdpr.plain(r) for r in state])


@router.post("/{customer_id}/consents", status_code=201, dependencies=[Depends(require_write)])
def record(customer_id: str, body: ConsentCreate, store: StoreDep, clock: ClockDep) -> ConsentRead:
    """Add a line to the customer's consent ledger."""
    try:
        line = consent.record_consent(store=store, customer_id=customer_id, **body.model_dump(exclude={"at"}),
                                      at=body.at or clock.now())
    except ValueError as error:
        raise Problem(422, "Invalid consent", str(error)) from None
    return ConsentRead.model_validate(gdpr.plain(line))

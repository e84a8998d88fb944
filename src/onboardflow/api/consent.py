"""The consent ledger as a resource: `GET /v1/consent?customer_id=` and `POST /v1/consent`, the same service
(`compliance.consent`) as `/v1/customers/{id}/consents`. Reading needs the `read` scope, adding `write`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from onboardflow.api.dependencies import ClockDep, StoreDep, keyed_router, require_read, require_write
from onboardflow.api.params import Id, IsoTime, id_query
from onboardflow.api.problems import Problem
from onboardflow.compliance import consent, gdpr
from onboardflow.core.consent import PURPOSES
from onboardflow.ports import Store

router = keyed_router("/v1/consent", "consent")

LINE_EXAMPLE = {
    "id": "cns_0a1b2c3d4e5f60718293a4b5", "customer_id": "c_42", "channel": "email", "purpose": "marketing",
    "status": "granted", "source": "api", "text_version": "2026-01", "at": "2026-03-01T08:00:00Z",
    "evidence": {"ip": "203.0.113.7", "double_opt_in": True},
}


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"channel": "sms", "purpose": "marketing", "status": "granted", "source": "pos",
         "text_version": "sms-v2", "evidence": {"double_opt_in": True}, "at": "2026-03-01T08:00:00Z"},
    ]})

    channel: str = Field(min_length=1, max_length=40, examples=["email"])
    purpose: Literal[PURPOSES] = "marketing"  # type: ignore[valid-type]
    status: Literal["granted", "withdrawn"]
    source: str = Field(default="api", min_length=1, max_length=80,
                        description="Where it was said: api, import, pos…")
    text_version: str | None = Field(default=None, max_length=80,
                                     description="The version of the consent text they saw")
    evidence: dict[str, Any] = Field(
        default_factory=dict, examples=[{"ip": "203.0.113.7", "double_opt_in": True}]
    )
    at: IsoTime | None = Field(default=None, description="When they said it; now if left out")


class ConsentLineCreate(ConsentCreate):
    """A ledger line for the customer the body names."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"customer_id": "c_42", "channel": "email", "status": "withdrawn", "source": "support-call"},
    ]})

    customer_id: Id


class ConsentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [LINE_EXAMPLE]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"customer_id": "c_42", "ledger": [LINE_EXAMPLE], "state": [LINE_EXAMPLE]},
    ]})

    customer_id: str
    ledger: list[ConsentRead] = Field(description="Every line, in the order written")
    state: list[ConsentRead] = Field(description="The latest line per channel and purpose")


def ledger_of(store: Store, customer_id: str) -> ConsentLedger:
    """The customer's ledger and its state; empty for a customer no one has said anything about."""
    lines = store.consents(customer_id)
    state = sorted(store.consent_state(customer_id).values(), key=lambda r: (r.channel, r.purpose))
    return ConsentLedger(customer_id=customer_id, ledger=[gdpr.plain(r) for r in lines],
                         state=[gdpr.plain(r) for r in state])


def add_line(store: Store, customer_id: str, body: ConsentCreate, now: datetime) -> ConsentRead:
    """Record one line (`compliance.consent.record_consent`); 422 saying which field to fix."""
    try:
        line = consent.record_consent(store=store, customer_id=customer_id,
                                      **body.model_dump(exclude={"at", "customer_id"}), at=body.at or now)
    except ValueError as error:
        raise Problem(422, "Invalid consent", str(error)) from None
    return ConsentRead.model_validate(gdpr.plain(line))


@router.get("", dependencies=[Depends(require_read)])
def read_ledger(
    customer_id: Annotated[str, id_query("Whose ledger", "c_42")], store: StoreDep
) -> ConsentLedger:
    """A customer's consent ledger and its state (the latest line per channel and purpose)."""
    return ledger_of(store, customer_id)


@router.post("", status_code=201, dependencies=[Depends(require_write)])
def record(body: ConsentLineCreate, store: StoreDep, clock: ClockDep) -> ConsentRead:
    """Add a line to a customer's consent ledger; the same statement twice (same time) is one line."""
    return add_line(store, body.customer_id, body, clock.now())

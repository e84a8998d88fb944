"""Lead capture: `POST /v1/signups` (the `ingest` scope, like a storefront's events) and the embeddable
form that posts to it (`GET /forms/signup.js`, no external assets). A signup creates or updates the
profile through the engine (a queued `Signed Up` event carrying the attribution: utm_*, referrer,
landing page), and records the consent with its evidence (wording, version, time, IP, user agent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from onboardflow.api.dependencies import ClockDep, StoreDep, keyed_router, request_evidence, require_ingest
from onboardflow.api.params import Id
from onboardflow.api.problems import Problem
from onboardflow.compliance import consent
from onboardflow.core.effects import stable_id
from onboardflow.core.model import Event
from onboardflow.core.profile import check_country, check_locale, check_phone

router = keyed_router("/v1/signups", "signups")
forms = APIRouter(tags=["signups"])  # public: the storefront's pages load the form script
SIGNED_UP = "Signed Up"
SOURCE = "signup-form"
ATTRIBUTION = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "referrer", "landing_page")
Short = Annotated[str | None, Field(default=None, max_length=200)]
Url = Annotated[str | None, Field(default=None, max_length=2000)]


class SignupConsent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description="The consent wording the person saw")
    version: str = Field(min_length=1, max_length=80, description="Its version, e.g. newsletter-2026-01")
    granted: bool = Field(default=True, description="Whether they ticked the box")
    channel: str | None = Field(default=None, description="email or sms; default: email if given, else sms")


class SignupCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ana@example.com",
                    "consent": {"text": "Send me tips and offers", "version": "nl-2026-01"},
                    "utm_source": "instagram",
                    "utm_medium": "social",
                    "utm_campaign": "spring",
                    "referrer": "https://instagram.com/",
                    "landing_page": "https://shop.example/welcome",
                }
            ]
        },
    )

    email: EmailStr | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40, description="E.164, or national with `country`")
    customer_id: Id | None = Field(
        default=None, description="The shop's id; default: derived from the address"
    )
    country: str | None = None
    locale: str | None = None
    consent: SignupConsent
    utm_source: Short
    utm_medium: Short
    utm_campaign: Short
    utm_content: Short
    referrer: Url
    landing_page: Url

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else check_country(value)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else check_locale(value)

    @model_validator(mode="after")
    def _an_address(self) -> SignupCreate:
        if self.phone is not None:
            self.phone = check_phone(self.phone, country=self.country)
        if self.email is None and self.phone is None:
            raise ValueError("give an email or a phone number to sign up with")
        return self


class SignupRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "cus_3f9c2a7d41e0b6c5a4d3e2f1", "event_id": "evt_0a1b2c3d4e5f60718293a4b5",
        "queued": True, "consent_id": "cns_5c1f0e9a2b7d4e6f8a9b0c1d",
    }]})

    customer_id: str
    event_id: str
    queued: bool = Field(description="False: this very signup was taken already")
    consent_id: str


def signup_event(body: SignupCreate, customer_id: str, now) -> Event:
    """The `Signed Up` event: the profile block, and the attribution as properties. One per customer and
    minute, so a form sent twice is one signup."""
    email = str(body.email).lower() if body.email else None
    block = {
        name: value
        for name, value in (
            ("email", email),
            ("phone", body.phone),
            ("country", body.country),
            ("locale", body.locale),
        )
        if value is not None
    }
    properties = {name: getattr(body, name) for name in ATTRIBUTION if getattr(body, name)}
    properties.update(source=SOURCE, consent_version=body.consent.version)
    event_id = stable_id("evt", "signup", customer_id, now.strftime("%Y-%m-%dT%H:%M"))
    return Event(event_id, SIGNED_UP, customer_id, now, properties, block)


@router.post("", status_code=202, dependencies=[Depends(require_ingest)])
def post_signup(body: SignupCreate, request: Request, store: StoreDep, clock: ClockDep) -> SignupRead:
    """Take a signup: the profile is created or updated by the engine (a queued `Signed Up` event with the
    attribution), and the consent goes in the ledger with its evidence."""
    now = clock.now()
    address = str(body.email).lower() if body.email else body.phone
    customer_id = body.customer_id or stable_id("cus", address)
    channel = body.consent.channel or ("email" if body.email else "sms")
    evidence = {
        **request_evidence(request, method="signup form"),
        "text": body.consent.text,
        "page": body.landing_page,
    }
    try:
        line = consent.record_consent(
            store=store,
            customer_id=customer_id,
            channel=channel,
            purpose="marketing",
            status="granted" if body.consent.granted else "withdrawn",
            source=SOURCE,
            at=now,
            text_version=body.consent.version,
            evidence={k: v for k, v in evidence.items() if v is not None},
        )
    except ValueError as error:
        raise Problem(422, "Invalid consent", str(error)) from None
    event = signup_event(body, customer_id, now)
    queued = store.enqueue([event], now=now) > 0
    return SignupRead(customer_id=customer_id, event_id=event.id, queued=queued, consent_id=line.id)


FORM_JS = """(function () {
  var script = document.currentScript;
  var endpoint = script.getAttribute("data-endpoint") ||
    script.src.replace(/\\/forms\\/signup\\.js.*$/, "/v1/signups");
  var key = script.getAttribute("data-key");
  var text = script.getAttribute("data-consent-text") || "Send me tips and offers by email.";
  var version = script.getAttribute("data-consent-version") || "1";
  var form = document.createElement("form");
  form.className = "onboardflow-signup";
  form.innerHTML = '<label>Email <input type="email" name="email" required></label>' +
    '<label><input type="checkbox" name="consent" required> <span class="consent"></span></label>' +
    '<button type="submit">Sign up</button><p class="status" role="status"></p>';
  form.querySelector(".consent").textContent = text;
  var params = new URLSearchParams(window.location.search);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var consent = {text: text, version: version, granted: form.consent.checked};
    var body = {email: form.email.value, consent: consent,
      referrer: document.referrer || null, landing_page: window.location.href};
    ["utm_source", "utm_medium", "utm_campaign", "utm_content"].forEach(function (name) {
      if (params.get(name)) { body[name] = params.get(name); }
    });
    var status = form.querySelector(".status");
    var failed = "Sorry, that did not work: try again.";
    var headers = {"Content-Type": "application/json", "Authorization": "Bearer " + key};
    fetch(endpoint, {method: "POST", headers: headers,
      body: JSON.stringify(body)}).then(function (response) {
      status.textContent = response.ok ? "Thank you: you are signed up." : failed;
    }, function () { status.textContent = failed; });
  });
  script.parentNode.insertBefore(form, script);
})();
"""


@forms.get(
    "/forms/signup.js",
    response_class=Response,
    responses={
        200: {
            "content": {"application/javascript": {}},
            "description": "The embeddable form: a script that draws it and posts to /v1/signups",
        }
    },
)
def form_script() -> Response:
    """The embeddable signup form: `<script src=".../forms/signup.js" data-key="INGEST_KEY"
    data-consent-text="..." data-consent-version="..."></script>` draws an email field and a consent box
    where it stands, and posts them with the page's UTM parameters, referrer and address."""
    return Response(
        FORM_JS, media_type="application/javascript", headers={"Cache-Control": "public, max-age=300"}
    )

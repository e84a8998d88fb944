"""Lead capture: POST /v1/signups makes a `Signed Up` event with the attribution and a consent line with its
evidence; the embeddable form; CORS for the storefront's origin; the KPIs cut by the signup's source."""

from __future__ import annotations

from datetime import timedelta

from onboardflow.api.keys import mint
from onboardflow.core.effects import stable_id

from .conftest import ADMIN, T0, make_api

BODY = {
    "email": "Ana@Example.com",
    "consent": {"text": "Send me tips and offers", "version": "nl-2026-01"},
    "utm_source": "instagram",
    "utm_medium": "social",
    "utm_campaign": "spring",
    "referrer": "https://instagram.com/",
    "landing_page": "https://shop.example/welcome?utm_source=instagram",
}


def ingest_key(api) -> dict[str, str]:
    record, token = mint("storefront", ["ingest"], now=T0)
    api.store.save_api_key(record)
    return {"Authorization": f"Bearer {token}", "User-Agent": "Mozilla/5.0 test"}


def test_a_signup_queues_signed_up_with_its_attribution_and_records_consent_with_evidence(api):
    answer = api.client.post("/v1/signups", json=BODY, headers=ingest_key(api))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    customer = stable_id("cus", "ana@example.com")
    assert body["customer_id"] == customer and body["queued"] is True
    api.engine.work(partitions=64)
    profile = api.store.customer(customer)
    assert profile.email == "ana@example.com"
    [event] = api.store.customer_history(customer, names=["Signed Up"])
    assert {k: event.properties[k] for k in ("utm_source", "utm_medium", "utm_campaign", "referrer")} == {
        "utm_source": "instagram",
        "utm_medium": "social",
        "utm_campaign": "spring",
        "referrer": "https://instagram.com/",
    }
    assert event.properties["landing_page"] == BODY["landing_page"]
    [line] = api.store.consents(customer)
    assert (line.channel, line.purpose, line.status, line.source, line.text_version) == (
        "email",
        "marketing",
        "granted",
        "signup-form",
        "nl-2026-01",
    )
    assert (
        line.evidence["text"] == "Send me tips and offers"
        and line.evidence["user_agent"] == "Mozilla/5.0 test"
    )
    assert "ip" in line.evidence and line.at == T0


def test_the_same_form_sent_twice_is_one_signup(memory_api):
    headers = ingest_key(memory_api)
    first = memory_api.client.post("/v1/signups", json=BODY, headers=headers).json()
    memory_api.clock.advance(timedelta(seconds=5))
    again = memory_api.client.post("/v1/signups", json=BODY, headers=headers).json()
    assert again["event_id"] == first["event_id"] and again["queued"] is False


def test_bad_signups_say_what_to_fix(memory_api):
    headers = ingest_key(memory_api)
    answer = memory_api.client.post("/v1/signups", json={"consent": BODY["consent"]}, headers=headers)
    assert answer.status_code == 422 and "give an email or a phone number" in answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    answer = memory_api.client.post("/v1/signups", json={**BODY, "email": "not-an-address"}, headers=headers)
    assert answer.status_code == 422 and "email" in answer.text
    assert memory_api.store.counts()["queued"] == 0
    assert memory_api.client.post("/v1/signups", json=BODY).status_code == 401


def test_a_read_key_may_not_sign_people_up(memory_api):
    record, token = mint("dashboard", ["read"], now=T0)
    memory_api.store.save_api_key(record)
    answer = memory_api.client.post("/v1/signups", json=BODY, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403


def test_the_embeddable_form_posts_to_the_endpoint_with_the_pages_attribution(memory_api):
    answer = memory_api.client.get("/forms/signup.js")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/javascript")
    script = answer.text
    assert "fetch(endpoint" in script and "utm_campaign" in script and "landing_page" in script
    assert "http://" not in script and "https://" not in script  # no external assets


def test_cors_lets_the_storefront_origin_post_and_no_other(store):
    api = make_api(store, signup_origins=["https://shop.example"])
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = api.client.options("/v1/signups", headers={"Origin": "https://shop.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    refused = api.client.options("/v1/signups", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers


def test_kpis_are_cut_by_the_signup_source_through_to_conversion(memory_api):
    api = memory_api
    api.client.post("/v1/signups", json=BODY, headers=ingest_key(api))
    api.engine.work(partitions=64)
    answer = api.client.get("/v1/kpis", params={"by": "source"}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 200
    assert {group["key"] for group in answer.json()["groups"]} <= {"instagram", "(none)"}

"""PUT /v1/customers/{id} (a profile change, queued for the engine as a Profile Updated event, consent to the
ledger) and GET /v1/customers/{id} (the profile with everything that happened, as a timeline)."""

from __future__ import annotations

from datetime import timedelta

from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.ports import PARTITIONS

from .conftest import ADMIN, PROFILE

AUTH = {"Authorization": f"Bearer {ADMIN}"}
ADDRESS = {"type": "shipping", "line1": "12 Harbour St", "city": "Boston", "postal_code": "02110",
           "country": "us"}


def work(api) -> None:
    """A worker round over every partition (on PostgreSQL a round claims partitions at random)."""
    api.engine.work(partitions=PARTITIONS)


def put(api, body, customer_id: str = "c9"):
    return api.client.put(f"/v1/customers/{customer_id}", json=body, headers=AUTH)


def get(api, customer_id: str = "c9", **params):
    return api.client.get(f"/v1/customers/{customer_id}", params=params, headers=AUTH)


# PUT: the change goes through the engine


def test_a_profile_change_is_queued_and_a_worker_applies_it(api):
    body = {"email": "ana@example.com", "phone": "+1 (555) 123-4567", "locale": "en_us",
            "timezone": "America/New_York", "country": "us", "traits": {"type": "retail"},
            "addresses": [ADDRESS]}

    response = put(api, body)

    assert response.status_code == 202
    answer = response.json()
    assert answer["state"] == "queued"
    expected = {"email": "ana@example.com", "phone": "+15551234567", "locale": "en-US",
                "timezone": "America/New_York", "country": "US", "traits": {"type": "retail"}}
    assert {name: answer["profile"][name] for name in expected} == expected
    assert answer["profile"]["addresses"] == [{**ADDRESS, "country": "US"}]
    assert api.store.customer("c9") is None  # nothing written behind the engine's back
    before = get(api).json()
    assert (before["profile"], before["queued_events"]) == (None, 1)
    assert [entry["kind"] for entry in before["timeline"]] == ["queued_event"]

    work(api)

    stored = api.store.customer("c9")
    assert (stored.email, stored.phone, stored.locale, stored.country) == (
        "ana@example.com", "+15551234567", "en-US", "US")
    assert stored.traits == {"type": "retail", "addresses": [{**ADDRESS, "country": "US"}]}
    after = get(api).json()
    assert after["profile"]["addresses"] == answer["profile"]["addresses"]
    assert after["profile"]["traits"] == {"type": "retail"}
    assert [(e["kind"], e["summary"], e["ref"]) for e in after["timeline"]] == [
        ("event", "Profile Updated", answer["event_id"])
    ]


def test_journeys_see_the_change_and_its_conditions_read_it(api):
    api.engine.publish(load_journey(PHONE_WELCOME, source="phone-welcome.yaml"))

    put(api, {"phone": "+447700900123", "country": "GB"})
    put(api, {"phone": "+15551234567", "country": "US"}, customer_id="c10")
    work(api)

    [enrollment] = [e for e in api.store.enrollments_of("c9") if e.journey_id == "phone-welcome"]
    assert enrollment.trigger["fields"] == ["country", "phone"]
    assert [m.message.template for m in api.store.messages("c9")] == ["welcome"]
    assert api.store.enrollments_of("c10") == []  # the audience condition read customer.country


PHONE_WELCOME = """\
id: phone-welcome
name: Welcome by text when a number is given
owner: growth@shop.example
trigger: {event: Profile Updated, where: '"phone" in trigger.fields'}
audience: customer.country == "GB"
steps:
  - id: hello
    send: {channel: sms, template: welcome, purpose: transactional}
"""


def test_traits_merge_addresses_replace_and_left_out_fields_stay(memory_api):
    put(memory_api, {"email": "ana@example.com", "traits": {"plan": "free", "type": "retail"},
                     "addresses": [ADDRESS]})
    memory_api.clock.advance(timedelta(minutes=1))
    billing = {**ADDRESS, "type": "billing", "line1": "1 Main St"}
    put(memory_api, {"traits": {"plan": "pro"}, "addresses": [billing], "email": None})
    work(memory_api)

    profile = get(memory_api).json()["profile"]

    assert profile["email"] == "ana@example.com"
    assert profile["traits"] == {"plan": "pro", "type": "retail"}
    assert [a["line1"] for a in profile["addresses"]] == ["1 Main St"]


def test_the_same_update_at_the_same_moment_is_taken_once(memory_api):
    first = put(memory_api, {"email": "ana@example.com"}).json()
    again = put(memory_api, {"email": "ana@example.com"}).json()

    assert (first["state"], again["state"]) == ("queued", "queued_already")
    assert first["event_id"] == again["event_id"]
    assert memory_api.store.counts()["queued"] == 1


def test_a_national_number_is_read_in_the_country_given(memory_api):
    profile = put(memory_api, {"country": "US", "phone": "(415) 555-2671"}).json()["profile"]

    assert profile["phone"] == "+14155552671"


def test_consent_lines_go_to_the_ledger_through_the_consent_service(api):
    body = {"email": "ana@example.com", "consent": [
        {"channel": "email", "status": "granted", "text_version": "2026-01",
         "evidence": {"double_opt_in": True}},
        {"channel": "sms", "purpose": "promotion", "status": "withdrawn", "source": "support-call"},
    ]}

    answer = put(api, body).json()

    assert [(c["channel"], c["purpose"], c["status"], c["source"]) for c in answer["consents"]] == [
        ("email", "marketing", "granted", "api"), ("sms", "promotion", "withdrawn", "support-call")]
    assert api.state("c9") == {("email", "marketing"): "granted", ("sms", "promotion"): "withdrawn"}
    assert [line.evidence for line in api.store.consents("c9")][0] == {"double_opt_in": True}
    state = get(api).json()["consent"]
    assert [(c["channel"], c["status"]) for c in state] == [("email", "granted"), ("sms", "withdrawn")]


def test_bad_fields_are_422_naming_each_and_nothing_is_queued_or_recorded(memory_api):
    body = {"email": "ana-at-example.com", "phone": "555", "locale": "english", "timezone": "Mars/Olympus",
            "country": "UK", "addresses": [{"type": "holiday", "line1": "x", "city": "y", "country": "ZZ"}],
            "traits": {"addresses": []}, "nickname": "Ana",
            "consent": [{"channel": "email", "status": "granted"}]}

    response = put(memory_api, body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert set(errors) == {"body.email", "body.phone", "body.locale", "body.timezone", "body.country",
                           "body.addresses.0.type", "body.addresses.0.country", "body.traits",
                           "body.nickname"}
    assert "the United Kingdom is GB" in errors["body.country"]
    assert "E.164" in errors["body.phone"] and "BCP 47" in errors["body.locale"]
    assert "IANA" in errors["body.timezone"] and "`addresses` field" in errors["body.traits"]
    assert memory_api.store.counts()["queued"] == 0
    assert memory_api.store.consents("c9") == []


def test_a_bad_consent_line_refuses_the_whole_update(memory_api):
    body = {"email": "ana@example.com", "consent": [{"channel": "email", "status": "granted"},
                                                     {"channel": "  ", "status": "granted"}]}

    response = put(memory_api, body)

    assert response.status_code == 422
    assert "consent[1]: channel must name a channel" in response.json()["detail"]
    assert memory_api.store.counts()["queued"] == 0
    assert memory_api.store.consents("c9") == []


def test_an_id_with_control_characters_is_422_not_a_database_error(api):
    response = api.client.put("/v1/customers/c%00x", json={"email": "ana@example.com"}, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.customer_id"


# GET: the customer and their timeline


VIP_DESK = """\
id: vip-desk
name: VIP desk
owner: cs@shop.example
trigger: {event: Order Completed}
steps:
  - {id: hand-off, escalate: {queue: vip, reason: first order, priority: high, wait: true}}
  - {id: done, exit: completed}
"""


def first_order(api, customer_id: str = "c1") -> None:
    order = Event(f"o-{customer_id}", "Order Completed", customer_id, api.clock.now(),
                  {"order_id": "o_9", "total": 60.0, "currency": "USD"}, PROFILE)
    api.engine.ingest([order])


def test_a_customer_is_their_profile_enrollments_messages_tasks_and_timeline(api):
    api.engine.publish(load_journey(VIP_DESK, source="vip-desk.yaml"))
    first_order(api)
    [task] = api.store.tasks(customer_id="c1")
    api.clock.advance(timedelta(hours=2))
    api.engine.resolve_task(task.task.task_id, outcome="called", by="agent@shop.example")

    response = get(api, "c1")

    assert response.status_code == 200
    customer = response.json()
    assert customer["profile"]["email"] == PROFILE["email"] and customer["profile"]["orders_count"] == 1
    enrollments = {e["journey_id"]: e for e in customer["enrollments"]}
    assert enrollments["first-purchase-welcome"]["status"] == "active"
    assert enrollments["first-purchase-welcome"]["waiting_for"] == ["Order Delivered"]
    vip = enrollments["vip-desk"]
    assert (vip["status"], vip["exit_reason"]) == ("ended", "completed")
    [message] = customer["messages"]
    assert (message["template"], message["status"], message["channels"]) == ("welcome", "pending", ["email"])
    tasks = [(t["queue"], t["status"], t["outcome"]) for t in customer["tasks"]]
    assert tasks == [("vip", "resolved", "called")]
    kinds = [entry["kind"] for entry in customer["timeline"]]
    assert kinds[0] == "event" and kinds[-2:] == ["task_resolved", "enrollment_ended"]
    assert {"enrollment_started", "message", "task_opened"} <= set(kinds)
    times = [entry["at"] for entry in customer["timeline"]]
    assert times == sorted(times)
    assert customer["timeline_total"] == len(kinds)


def test_the_timeline_limit_keeps_the_latest_entries(memory_api):
    first_order(memory_api)
    whole = get(memory_api, "c1").json()["timeline"]

    latest = get(memory_api, "c1", timeline_limit=2).json()

    assert latest["timeline"] == whole[-2:] and latest["timeline_total"] == len(whole)
    assert get(memory_api, "c1", timeline_limit=0).status_code == 422


def test_an_unknown_customer_is_a_404_problem_saying_what_to_check(api):
    response = get(api, "nobody")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "no customer 'nobody'" in response.json()["detail"]


def test_text_no_store_can_keep_is_422_naming_the_field_not_a_database_error(api):
    nul = put(api, {"traits": {"note": "a\u0000b"}})
    surrogate = api.client.put("/v1/customers/c9", content=b'{"traits": {"nick": "\\ud800"}}',
                               headers={**AUTH, "Content-Type": "application/json"})
    line = {"customer_id": "c9", "channel": "email", "status": "granted", "evidence": {"ip\u0000": "1"}}
    evidence = api.client.post("/v1/consent", json=line, headers=AUTH)

    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "body.traits.note"
    assert "NUL" in nul.json()["detail"]
    assert surrogate.status_code == 422 and "not valid Unicode" in surrogate.json()["detail"]
    assert evidence.status_code == 422 and evidence.json()["errors"][0]["field"] == "body.evidence"
    assert api.store.counts()["queued"] == 0 and api.store.consents("c9") == []

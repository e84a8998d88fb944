"""/v1/journeys: validate a document as `onboardflow validate` does, PUT makes a draft as `onboardflow load`
does, list and read journeys and versions, /publish launches only an approved version, pause, resume.
(The whole way from draft to live: test_review_api.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

import yaml

from onboardflow.catalog import write_examples
from onboardflow.core.model import Event
from onboardflow.core.validation import JourneyInvalid, load_journey

from .conftest import ADMIN, make_api, user_headers

AUTH = {"Authorization": f"Bearer {ADMIN}"}
AS_YAML = {**AUTH, "Content-Type": "application/yaml"}

NUDGE = """\
id: login-nudge
name: Login nudge
owner: growth@shop.example
trigger: {event: Signed Up}
exit_when: [{event: First Login}]
steps:
  - id: hello
    send: {channel: email, template: account_welcome, purpose: transactional}
  - id: settle
    wait: 2d
  - id: nudge
    send: {channel: email, template: login_nudge, purpose: engagement}
"""
NUDGE_V2 = NUDGE.replace("wait: 2d", "wait: 3d")
BROKEN = """\
id: login-nudge
name: Login nudge
owner: growth@shop.example
trigger: {event: Signed Up, where: customer.orders_count >}
steps:
  - id: hello
    send: {channel: email, template: account_welcome, purpose: sometimes}
  - id: route
    branch:
      - {when: customer.type == "wholesale", goto: nowhere}
"""


def put(api, text: str = NUDGE, journey_id: str = "login-nudge", headers=None):
    """PUT as an author (ana, whose key acts as her)."""
    headers = headers or {**user_headers(api, "ana@shop.example", "author"), "Content-Type": "application/yaml"}
    return api.client.put(f"/v1/journeys/{journey_id}", content=text, headers=headers)


def live(api, text: str = NUDGE) -> None:
    """Make the document live through the engine's own path, past review: for what runs once it is live."""
    api.engine.publish(load_journey(text, source="test"))


def signed_up(api, customer_id: str) -> None:
    api.engine.ingest([Event(f"s-{customer_id}", "Signed Up", customer_id, api.clock.now(), {}, None)])


def nudged(api, customer_id: str):
    """The customer's enrollments in login-nudge (the demo's signup-activation starts on Signed Up too)."""
    return [e for e in api.store.enrollments_of(customer_id) if e.journey_id == "login-nudge"]


# validate


def test_a_valid_document_validates_and_nothing_is_stored(memory_api):
    response = memory_api.client.post("/v1/journeys/validate", content=NUDGE, headers=AS_YAML)

    assert response.status_code == 200
    assert response.json() == {"valid": True, "journey_id": "login-nudge", "steps": 3, "problems": [],
                               "warnings": []}
    assert memory_api.store.versions("login-nudge") == []


def test_validation_lists_every_problem_with_line_step_and_field_as_the_cli_does(memory_api):
    response = memory_api.client.post("/v1/journeys/validate", content=BROKEN, headers=AS_YAML)

    assert response.status_code == 200
    answer = response.json()
    assert answer["valid"] is False and answer["journey_id"] is None
    try:
        load_journey(BROKEN, source="body")
    except JourneyInvalid as invalid:
        expected = [str(problem) for problem in invalid.problems]
    assert [problem["text"] for problem in answer["problems"]] == expected
    by_field = {problem["field"]: problem for problem in answer["problems"]}
    assert by_field["send.purpose"]["line"] == 7
    assert by_field["send.purpose"]["step_id"] == "hello"
    assert by_field["trigger.where"]["line"] == 4


def test_a_json_document_is_read_with_its_lines_too(memory_api):
    document = yaml.safe_load(BROKEN)
    text = json.dumps(document, indent=2)

    answer = memory_api.client.post("/v1/journeys/validate", content=text,
                                    headers={**AUTH, "Content-Type": "application/json"}).json()

    assert answer["valid"] is False
    purpose = next(p for p in answer["problems"] if p["field"] == "send.purpose")
    assert text.splitlines()[purpose["line"] - 1].strip() == '"purpose": "sometimes"'


def test_json_that_does_not_parse_says_where(memory_api):
    answer = memory_api.client.post("/v1/journeys/validate", content='{"id": "x",\n "name": }',
                                    headers={**AUTH, "Content-Type": "application/json"}).json()

    [problem] = answer["problems"]
    assert problem["line"] == 2 and problem["message"].startswith("not valid JSON")


def test_send_steps_are_checked_against_the_workers_templates(store, tmp_path):
    write_examples(tmp_path)
    api = make_api(store, journeys_dir=str(tmp_path))
    text = NUDGE.replace("template: login_nudge", "template: login_nudge_v2")

    answer = api.client.post("/v1/journeys/validate", content=text, headers=AS_YAML).json()

    assert answer["valid"] is False
    [problem] = answer["problems"]
    assert (problem["step_id"], problem["field"]) == ("nudge", "send.template")
    assert "no template 'login_nudge_v2'" in problem["message"]
    assert api.client.post("/v1/journeys/validate", content=NUDGE, headers=AS_YAML).json()["valid"] is True


def test_an_alias_bomb_or_deep_nesting_is_a_problem_not_a_hung_server(memory_api):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))

    for text in (bomb, "[" * 200 + "]" * 200):
        answer = memory_api.client.post("/v1/journeys/validate", content=text, headers=AS_YAML).json()
        assert answer["valid"] is False
        assert "aliases" in answer["problems"][0]["message"] or "deep" in answer["problems"][0]["message"]


# PUT: create or update, and live at once


def test_put_makes_a_draft_that_starts_nobody(api):
    response = put(api)

    assert response.status_code == 201
    draft = response.json()
    assert (draft["journey_id"], draft["version"], draft["status"], draft["author"]) == (
        "login-nudge", 1, "draft", "ana@shop.example")
    signed_up(api, "c1")
    assert nudged(api, "c1") == [] and "login-nudge" not in {s.journey_id for s in api.store.journeys()}


def test_the_same_content_keeps_its_version_and_changed_content_is_a_new_draft(api):
    put(api)
    same = put(api, NUDGE.replace("name: Login nudge", "name:   Login nudge  # same content"))
    changed = put(api, NUDGE_V2)

    assert (same.status_code, same.json()["version"], same.json()["status"]) == (200, 1, "draft")
    assert (changed.status_code, changed.json()["version"], changed.json()["status"]) == (201, 2, "draft")
    assert [v.version for v in api.store.versions("login-nudge")] == [1, 2]


def test_put_needs_a_key_that_acts_as_an_author(memory_api):
    no_user = put(memory_api, headers=AS_YAML)
    support = put(memory_api, headers={**user_headers(memory_api, "sam@shop.example", "support"),
                                       "Content-Type": "application/yaml"})

    assert no_user.status_code == 403 and "acts as no user" in no_user.json()["detail"]
    assert support.status_code == 403 and "needs the role author" in support.json()["detail"]
    assert memory_api.store.versions("login-nudge") == []


def test_put_takes_json_too(memory_api):
    as_json = {**user_headers(memory_api, "ana@shop.example", "author"), "Content-Type": "application/json"}

    response = put(memory_api, json.dumps(yaml.safe_load(NUDGE)), headers=as_json)

    assert response.status_code == 201


def test_an_invalid_document_is_422_with_every_problem_and_nothing_stored(api):
    response = put(api, BROKEN)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Invalid journey"
    assert {p["field"] for p in problem["problems"]} >= {"trigger.where", "send.purpose"}
    assert "body:7: step 'hello': field send.purpose" in problem["detail"]
    assert api.store.versions("login-nudge") == []


def test_the_path_must_name_the_documents_id(memory_api):
    response = put(memory_api, journey_id="welcome-nudge")

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["field"] == "id"
    assert "PUT it to /v1/journeys/login-nudge" in problem["message"]
    assert memory_api.store.journeys()[-1].journey_id != "welcome-nudge"


def test_bodies_of_another_type_too_large_not_utf8_or_empty_are_refused(memory_api):
    as_png = put(memory_api, NUDGE, headers={**AUTH, "Content-Type": "image/png"})
    too_large = put(memory_api, NUDGE + "#" * 1_000_001)
    not_utf8 = put(memory_api, NUDGE.encode("utf-16"))

    empty = put(memory_api, "  \n")

    assert (as_png.status_code, too_large.status_code, not_utf8.status_code) == (415, 413, 400)
    assert empty.status_code == 422 and "send the journey document" in empty.json()["detail"]
    assert "application/yaml" in as_png.json()["detail"]
    assert "UTF-8" in not_utf8.json()["detail"]
    assert memory_api.store.versions("login-nudge") == []


def test_a_journey_id_that_cannot_be_one_is_422(memory_api):
    response = memory_api.client.get("/v1/journeys/no%20spaces", headers=AUTH)

    assert response.status_code == 422


# reading


def test_the_list_shows_live_version_paused_and_numbers(api):
    live(api)
    live(api, NUDGE_V2)
    signed_up(api, "c1")
    signed_up(api, "c2")
    api.engine.ingest([Event("l-c2", "First Login", "c2", api.clock.now(), {}, None)])

    listed = {j["id"]: j for j in api.client.get("/v1/journeys", headers=AUTH).json()["items"]}

    nudge = listed["login-nudge"]
    assert (nudge["live_version"], nudge["paused"], nudge["owner"], nudge["trigger"]) == (
        2, False, "growth@shop.example", "Signed Up")
    assert (nudge["active"], nudge["ended"]) == (1, {"exit_rule": 1})
    assert set(listed) == {"first-purchase-welcome", "signup-activation", "login-nudge"}


def test_one_journey_shows_its_steps_and_where_customers_are(api):
    live(api)
    signed_up(api, "c1")

    journey = api.client.get("/v1/journeys/login-nudge", headers=AUTH).json()

    assert [(s["id"], s["kind"], s["active"]) for s in journey["steps"]] == [
        ("hello", "send", 0), ("settle", "wait", 1), ("nudge", "send", 0)]
    assert journey["step_counts"] == [{"version": 1, "step_id": "settle", "state": "active", "count": 1}]
    assert journey["definition"]["steps"][1] == {"id": "settle", "wait": "2d"}


def test_versions_are_listed_and_each_is_readable(api):
    live(api)
    api.clock.advance(timedelta(hours=1))
    live(api, NUDGE_V2)

    versions = api.client.get("/v1/journeys/login-nudge/versions", headers=AUTH).json()
    first = api.client.get("/v1/journeys/login-nudge/versions/1", headers=AUTH).json()

    assert [(v["version"], v["live"]) for v in versions["items"]] == [(1, False), (2, True)]
    assert versions["items"][1]["created_at"] == "2026-03-02T10:00:00Z"
    assert first["definition"]["steps"][1]["wait"] == "2d" and first["live"] is False


def test_unknown_journeys_and_versions_are_404_saying_what_exists(api):
    live(api)

    for path in ("/v1/journeys/nope", "/v1/journeys/nope/versions", "/v1/journeys/login-nudge/versions/7"):
        response = api.client.get(path, headers=AUTH)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
    detail = api.client.get("/v1/journeys/login-nudge/versions/7", headers=AUTH).json()["detail"]
    assert "versions are 1 to 1" in detail


# publish: only an approved version goes live (the whole way: test_review_api.py)


def test_publishing_a_version_not_approved_is_409_listing_why_and_nothing_goes_live(api):
    put(api)
    owner = user_headers(api, "growth@shop.example", "owner")

    response = api.client.post("/v1/journeys/login-nudge/publish", json={"version": 1}, headers=owner)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["problems"] == ["login-nudge v1 is draft: launch needs it approved"]
    assert "login-nudge" not in {s.journey_id for s in api.store.journeys()}


def test_publishing_with_a_migrate_body_is_refused_as_unreviewed(memory_api):
    put(memory_api)

    body = {"version": 1, "migrate": {"from_version": 1, "steps": {"hello": "hello"}}}
    response = memory_api.client.post("/v1/journeys/login-nudge/publish", json=body,
                                      headers=user_headers(memory_api, "growth@shop.example", "owner"))

    assert response.status_code == 409 and "not reviewed content" in response.json()["problems"][0]


def test_publishing_what_is_not_there_is_404(memory_api):
    put(memory_api)
    owner = user_headers(memory_api, "growth@shop.example", "owner")

    no_version = memory_api.client.post("/v1/journeys/login-nudge/publish", json={"version": 5}, headers=owner)
    no_journey = memory_api.client.post("/v1/journeys/nope/publish", json={"version": 1}, headers=owner)
    no_number = memory_api.client.post("/v1/journeys/login-nudge/publish", json={"version": 0}, headers=owner)

    assert (no_version.status_code, no_journey.status_code, no_number.status_code) == (404, 404, 422)
    assert "its versions are 1" in no_version.json()["detail"]


# pause and resume


def test_pause_holds_the_journey_and_resume_applies_what_was_held(api):
    live(api)
    signed_up(api, "c1")

    paused = api.client.post("/v1/journeys/login-nudge/pause", headers=AUTH)
    api.engine.ingest([Event("l-c1", "First Login", "c1", api.clock.now(), {}, None)])
    listed = {j["id"]: j for j in api.client.get("/v1/journeys", headers=AUTH).json()["items"]}
    resumed = api.client.post("/v1/journeys/login-nudge/resume", headers=AUTH)

    assert paused.status_code == 200
    assert (paused.json()["paused"], paused.json()["paused_at"]) == (True, "2026-03-02T09:00:00Z")
    assert (listed["login-nudge"]["paused"], listed["login-nudge"]["held_events"]) == (True, 1)
    assert resumed.status_code == 200
    assert (resumed.json()["paused"], resumed.json()["applied_events"]) == (False, 1)
    [enrollment] = nudged(api, "c1")
    assert (enrollment.status, enrollment.exit_reason) == ("ended", "exit_rule")


def test_pausing_twice_keeps_the_first_time_and_resuming_a_running_journey_is_409(memory_api):
    live(memory_api)
    memory_api.client.post("/v1/journeys/login-nudge/pause", headers=AUTH)
    memory_api.clock.advance(timedelta(hours=1))

    again = memory_api.client.post("/v1/journeys/login-nudge/pause", headers=AUTH)
    memory_api.client.post("/v1/journeys/login-nudge/resume", headers=AUTH)
    running = memory_api.client.post("/v1/journeys/login-nudge/resume", headers=AUTH)

    assert again.json()["paused_at"] == "2026-03-02T09:00:00Z"
    assert running.status_code == 409 and "not paused" in running.json()["detail"]


def test_pausing_or_resuming_an_unknown_journey_is_404(memory_api):
    for verb in ("pause", "resume"):
        response = memory_api.client.post(f"/v1/journeys/nope/{verb}", headers=AUTH)
        assert response.status_code == 404
        assert "no journey 'nope'" in response.json()["detail"]


def test_text_no_store_can_keep_is_a_problem_in_the_document(api):
    as_json = {**AUTH, "Content-Type": "application/json"}
    document = json.dumps({**yaml.safe_load(NUDGE), "name": "Login\u0000nudge"}, indent=1)

    checked = api.client.post("/v1/journeys/validate", content=document, headers=as_json).json()
    stored = put(api, NUDGE.replace("name: Login nudge", 'name: "Login\\0nudge"'))

    [problem] = checked["problems"]
    assert (problem["field"], problem["line"]) == ("name", 3) and "NUL" in problem["message"]
    assert stored.status_code == 422 and stored.json()["problems"][0]["field"] == "name"
    assert api.store.versions("login-nudge") == []

"""Review and approval through the API, acting as the key's user: the whole way from PUT to live, each
refusal a problem+json listing every condition missing, and an audit trail no route can change."""

from __future__ import annotations

from onboardflow.core.model import Event

from .conftest import user_headers

JOURNEY = """\
id: hello
name: Hello
owner: cs-lead@shop.example
trigger: {event: Signed Up}
steps:
  - {id: welcome, send: {channel: email, template: account_welcome, purpose: transactional}}
  - {id: settle, wait: 2d}
acceptance:
  - {max_messages: 3, within: 7d}
"""
SIM = {"customers": 20, "days": 7}
BASE = "/v1/journeys/hello"


def team(api):
    return (
        user_headers(api, "ana@shop.example", "author"),
        user_headers(api, "cs-lead@shop.example", "owner"),
    )


def test_put_to_live_through_the_gate(api):
    ana, owner = team(api)
    draft = api.client.put(BASE, content=JOURNEY, headers={**ana, "Content-Type": "application/yaml"})
    assert (draft.status_code, draft.json()["status"]) == (201, "draft")

    early = api.client.post(f"{BASE}/versions/1/launch", headers=owner)
    assert early.status_code == 409 and early.json()["problems"] == [
        "hello v1 is draft: launch needs it approved"
    ]

    assert api.client.post(f"{BASE}/versions/1/submit", headers=ana).json()["status"] == "in_review"
    question = api.client.post(
        f"{BASE}/versions/1/comments",
        headers=owner,
        json={"kind": "question", "body": "why?", "step_id": "welcome"},
    ).json()
    risk = api.client.post(
        f"{BASE}/versions/1/risks", headers=owner, json={"risk": "late", "impact": "high"}
    ).json()
    refused = api.client.post(f"{BASE}/versions/1/approve", headers=owner, json=SIM)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert len(refused.json()["problems"]) == 3

    decision = api.client.post(
        f"{BASE}/decisions",
        headers=owner,
        json={
            "comment_id": question["id"],
            "outcome": "deferred",
            "rationale": "later",
            "due": "2026-04-01T00:00:00Z",
        },
    )
    assert decision.status_code == 201 and decision.json()["owner"] == "cs-lead@shop.example"
    api.client.patch(
        f"{BASE}/risks/{risk['id']}",
        headers=owner,
        json={"owner": "cs-lead@shop.example", "fallback": "pause"},
    )
    approved = api.client.post(f"{BASE}/versions/1/approve", headers=owner, json=SIM)
    assert approved.status_code == 200
    simulation = approved.json()["approval"]["simulation"]
    assert (simulation["seed"], simulation["customers"], simulation["passed"]) == (1, 20, True)
    assert simulation["digest"] == api.store.version("hello", 1).digest

    launched = api.client.post(f"{BASE}/versions/1/launch", headers=owner, json={"share": "100%"})
    assert launched.json()["status"] == "live"
    api.engine.ingest([Event("s1", "Signed Up", "z1", api.clock.now(), {}, None)])
    assert sorted(e.journey_id for e in api.store.enrollments_of("z1")) == ["hello", "signup-activation"]


def test_the_author_is_refused_with_403_for_owner_steps_and_404_for_what_is_not_there(api):
    ana, owner = team(api)
    api.client.put(BASE, content=JOURNEY, headers={**ana, "Content-Type": "application/yaml"})

    assert api.client.post(f"{BASE}/versions/1/launch", headers=ana).status_code == 403
    assert api.client.post(f"{BASE}/versions/9/submit", headers=ana).status_code == 404
    assert (
        api.client.post(
            f"{BASE}/versions/1/comments", headers=owner, json={"body": "x", "step_id": "nope"}
        ).status_code
        == 422
    )


def test_the_review_and_audit_trail_read_back_and_no_route_changes_the_trail(api):
    ana, owner = team(api)
    api.client.put(BASE, content=JOURNEY, headers={**ana, "Content-Type": "application/yaml"})
    api.client.post(f"{BASE}/versions/1/submit", headers=ana)

    trail = api.client.get(f"{BASE}/audit", headers=owner).json()["items"]
    review = api.client.get(f"{BASE}/review", headers=owner).json()
    packet = api.client.get(f"{BASE}/versions/1/packet", headers=owner)

    assert [(e["actor"], e["action"]) for e in trail] == [
        ("ana@shop.example", "draft"),
        ("ana@shop.example", "submit"),
    ]
    assert review["versions"][0]["status"] == "in_review"
    assert packet.headers["content-type"].startswith("text/markdown") and "# Review packet" in packet.text
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert api.client.request(method, f"{BASE}/audit", headers=owner, json={}).status_code == 405
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {path: sorted(paths[path]) for path in paths if "audit" in path} == {
        "/v1/journeys/{journey_id}/audit": ["get"]
    }
    writers = [name for name in dir(api.store) if "audit" in name]
    assert writers == ["audit_trail"]  # the store reads the trail; only record_review adds to it

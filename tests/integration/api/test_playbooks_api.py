"""Launch playbooks through the API, acting as the key's user: attach one to a draft, watch its checklist
close on evidence (a decision, owned risks, a rehearsal), be refused approval while it is open, launch,
hold a checkpoint and the retrospective; every refusal a problem+json that says what to fix."""

from __future__ import annotations

from tests.playbook_fixtures import UNDELIVERED_ORDER
from tests.playbook_fixtures import WELCOME as JOURNEY

from .conftest import user_headers

BASE = "/v1/journeys/welcome"
ON = f"{BASE}/versions/1/playbook"
PLAYBOOK = "customer-success-onboarding-optimisation"
SIM = {"customers": 120, "days": 21, "seed": 3, "confidence": 5}


def test_the_playbooks_are_listed_and_read(api):
    reader = user_headers(api, "ana@shop.example", "author")
    listed = api.client.get("/v1/playbooks", headers=reader).json()["playbooks"]
    assert {p["id"] for p in listed} >= {PLAYBOOK, "agency-stakeholder-alignment"}
    whole = api.client.get(f"/v1/playbooks/{PLAYBOOK}", headers=reader).json()["playbook"]
    assert whole["kpis"][0] == "time_to_resolution_after_release" and len(whole["stages"]) == 6
    missing = api.client.get("/v1/playbooks/sales", headers=reader)
    assert missing.status_code == 404 and "no playbook 'sales'" in missing.json()["detail"]


def test_a_playbook_runs_a_launch_from_draft_to_retrospective(api):
    ana = user_headers(api, "ana@shop.example", "author")
    owner = user_headers(api, "cs-lead@shop.example", "owner,reviewer")
    bo = user_headers(api, "bo@shop.example", "support")
    assert api.client.put(BASE, content=JOURNEY, headers={**ana, "Content-Type": "application/yaml"}).status_code == 201

    refused = api.client.post(ON, headers=ana, json={"playbook": PLAYBOOK, "post_launch_owner": "x@nowhere.example"})
    assert refused.status_code == 409 and "is not a user" in refused.json()["problems"][0]
    attached = api.client.post(ON, headers=ana, json={"playbook": PLAYBOOK, "post_launch_owner": "bo@shop.example"})
    assert attached.status_code == 201 and attached.json()["post_launch_owner"] == "bo@shop.example"
    assert api.client.post(f"{BASE}/versions/1/submit", headers=ana).status_code == 200

    checklist = {i["evidence"]: i for i in api.client.get(ON, headers=ana).json()["checklist"]}
    assert not checklist["escalation_rehearsed"]["closed"] and checklist["objective_and_approver"]["closed"]
    gate = api.client.post(f"{BASE}/versions/1/approve", headers=owner, json=SIM)
    assert gate.status_code == 409
    assert any(p.startswith(f"playbook {PLAYBOOK}: The escalation path") for p in gate.json()["problems"])

    bad = api.client.post(f"{ON}/rehearsals", headers=bo, json={"events": [{**UNDELIVERED_ORDER, "at": "yesterday"}]})
    assert bad.status_code == 422
    rehearsal = api.client.post(f"{ON}/rehearsals", headers=bo, json={"events": [UNDELIVERED_ORDER]}).json()
    assert (rehearsal["detail"]["tasks_opened"], rehearsal["detail"]["tasks_resolved"]) == (1, 1)
    review = api.client.get(f"{BASE}/review", headers=ana).json()
    [question] = [c for c in review["comments"] if c["kind"] == "question"]
    decided = api.client.post(f"{BASE}/decisions", headers=owner, json={
        "comment_id": question["id"], "outcome": "accepted", "rationale": "aligned with the spring campaign"})
    assert decided.status_code == 201
    for risk in review["risks"]:
        assert api.client.patch(f"{BASE}/risks/{risk['id']}", headers=owner,
                                json={"owner": "bo@shop.example"}).status_code == 200

    approved = api.client.post(f"{BASE}/versions/1/approve", headers=owner, json=SIM)
    assert approved.status_code == 200, approved.json()
    assert approved.json()["approval"]["confidence"] == 5
    assert api.client.post(f"{BASE}/versions/1/launch", headers=owner).status_code == 200

    status = api.client.get(ON, headers=bo).json()
    assert all(item["closed"] for item in status["checklist"])
    assert [c["state"] for c in status["checkpoints"]] == ["upcoming"] * 7
    assert {k["kpi"] for k in status["kpis"]} == {"time_to_resolution_after_release", "adoption_consistency",
                                                  "escalation_frequency", "customer_confidence",
                                                  "decision_closure_rate", "exception_state_completion"}
    closure = next(k for k in status["kpis"] if k["kpi"] == "decision_closure_rate")
    assert (closure["value"], closure["sample"]) == (100.0, 1)

    held = api.client.post(f"{ON}/checkpoints/week-1", headers=bo, json={
        "findings": [{"kind": "process_improvement", "text": "support joins week one"}]})
    assert held.status_code == 201 and "escalation_frequency" in held.json()["detail"]["kpis"]
    wrong = api.client.post(f"{ON}/checkpoints/week-9", headers=bo, json={})
    assert wrong.status_code == 409 and "no checkpoint 'week-9'" in wrong.json()["detail"]
    manual = api.client.post(f"{ON}/items/objective/close", headers=bo, json={"note": "it is"})
    assert manual.status_code == 409 and "not by hand" in manual.json()["detail"]

    retro = api.client.post(f"{ON}/retrospective", headers=owner, json={
        "findings": [{"kind": "assumption_correction", "text": "buyers read SMS after all"}]}).json()
    assert retro["findings"]["process_improvement"] == ["support joins week one"]
    assert retro["markdown"].startswith("# Retrospective: welcome v1")
    actions = [e["action"] for e in api.client.get(f"{BASE}/audit", headers=ana).json()["items"]]
    assert {"playbook-attached", "playbook-rehearsal", "playbook-checkpoint", "playbook-retrospective"} <= set(actions)


def test_a_version_without_a_playbook_says_how_to_attach_one(api):
    ana = user_headers(api, "ana@shop.example", "author")
    api.client.put(BASE, content=JOURNEY, headers={**ana, "Content-Type": "application/yaml"})
    missing = api.client.get(ON, headers=ana)
    assert missing.status_code == 404 and "has no playbook" in missing.json()["detail"]

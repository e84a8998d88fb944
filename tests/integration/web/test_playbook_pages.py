"""The Playbooks pages: the shipped playbooks listed and read; on a journey version, a playbook attached,
its checklist shown closed or open with what closes it, a refusal shown with its reasons, a manual item and
a rehearsal closing items, a checkpoint held after launch with the day's KPIs, and the retrospective."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from tests.integration.web.conftest import PASSWORD
from tests.playbook_fixtures import UNDELIVERED_ORDER, WELCOME

from onboardflow.core.review import AuditEntry, ReviewChanges
from onboardflow.core.validation import load_journey
from onboardflow.governance import service
from onboardflow.governance.people import add_user

PAGE = "/journeys/welcome/playbook"
V1 = PAGE + "?version=1"  # the engine publishes the same content again as v2, without a playbook


def soup(answer) -> BeautifulSoup:
    return BeautifulSoup(answer.text, "html.parser")


@pytest.fixture
def drafted(web):
    """A draft of the welcome journey by the author, and a post-launch owner to name."""
    add_user(store=web.store, email="bo@shop.example", name="Bo", roles="support", password=PASSWORD,
             now=web.clock.now())
    add_user(store=web.store, email="cs-lead@shop.example", name="Cy", roles="owner,reviewer", password=PASSWORD,
             now=web.clock.now())
    service.save_draft(store=web.store, version=load_journey(WELCOME), source="welcome.yaml",
                       author=web.store.user("author@shop.example"), now=web.clock.now())
    web.sign_in("author@shop.example")
    return web


def checklist(web, version: int = 1) -> dict[str, str]:
    page = soup(web.client.get(f"{PAGE}?version={version}"))
    return {li["data-item"]: li["class"][0] for li in page.select("#checklist > li")}


def test_the_playbooks_are_listed_and_one_reads_whole(signed_in):
    listing = soup(signed_in.client.get("/playbooks"))
    ids = [row["data-playbook"] for row in listing.select("#playbooks tbody tr")]
    assert "revops-onboarding-optimisation" in ids and len(ids) == 4
    assert "No journey runs a playbook yet" in listing.select_one("#running").get_text()
    whole = soup(signed_in.client.get("/playbooks/revops-onboarding-optimisation"))
    assert len(whole.select("#stages li")) == 6 and "Pipeline conversion stability" in whole.select_one("#kpis").text
    assert signed_in.client.get("/playbooks/sales").status_code == 404


def test_attach_then_items_close_on_evidence_and_by_hand(drafted):
    refused = drafted.post(f"{PAGE}/1/attach", {"playbook": "revops-onboarding-optimisation",
                                               "post_launch_owner": "nobody@shop.example"})
    assert refused.status_code == 409 and "is not a user" in soup(refused).select_one("#refused").text

    attached = drafted.post(f"{PAGE}/1/attach", {"playbook": "revops-onboarding-optimisation",
                                                "post_launch_owner": "bo@shop.example"}, follow_redirects=False)
    assert attached.status_code == 303
    before = checklist(drafted)
    assert before["objective"] == "holds" and before["handoff-rehearsed"] == "misses"
    assert before["crm-fields"] == "misses"

    bad = drafted.post(f"{PAGE}/1/rehearse", {"scenario": '{"id": "x"'})
    assert bad.status_code == 422 and "scenario line 1" in soup(bad).select_one("#refused").text
    drafted.post(f"{PAGE}/1/rehearse", {"scenario": json.dumps(UNDELIVERED_ORDER)})
    drafted.post(f"{PAGE}/1/items/crm-fields/close", {"note": "agreed with sales ops"})
    after = checklist(drafted)
    assert after["handoff-rehearsed"] == "holds" and after["crm-fields"] == "holds"
    page = soup(drafted.client.get(PAGE))
    assert "resolved 1 of 1 tasks" in page.select_one("#rehearse").text
    running = soup(drafted.client.get("/playbooks")).select_one("#running tbody tr")
    assert running["data-journey"] == "welcome"


def test_checkpoints_are_held_after_launch_and_the_retrospective_sorts_the_findings(drafted):
    drafted.post(f"{PAGE}/1/attach", {"playbook": "customer-success-onboarding-optimisation",
                                     "post_launch_owner": "bo@shop.example"})
    before = soup(drafted.client.get(PAGE))
    assert "this version has not launched" in before.select_one("#checkpoints").text
    # live the engine's way, with the launch line the checkpoints are dated from (test_review_pages walks the gate)
    drafted.engine.publish(load_journey(WELCOME))
    drafted.store.record_review(ReviewChanges(audit=[AuditEntry(drafted.clock.now(), "cs@shop.example", "launch",
                                                                "welcome", 1, {})]))
    drafted.clock.jump_to(drafted.clock.now() + timedelta(days=10))
    states = {row["data-checkpoint"]: row.select_one(".badge").text
              for row in soup(drafted.client.get(V1)).select("#checkpoints tbody tr")}
    assert states["week-1"] == "overdue" and states["week-2"] == "upcoming"
    drafted.post(f"{PAGE}/1/checkpoints/week-1", {"kind": "process_improvement",
                                                 "findings": "support joins week one\n", "decisions": ""})
    states = {row["data-checkpoint"]: row.select_one(".badge").text
              for row in soup(drafted.client.get(V1)).select("#checkpoints tbody tr")}
    assert states["week-1"] == "done"
    kpis = [row["data-kpi"] for row in soup(drafted.client.get(V1)).select("#kpis tbody tr")]
    assert kpis[0] == "time_to_resolution_after_release" and len(kpis) == 6

    drafted.post(f"{PAGE}/1/retrospective", {"kind": "assumption_correction", "findings": "buyers read SMS"})
    summary = soup(drafted.client.get(V1)).select_one("#retro-summary").text
    assert "- support joins week one" in summary and "- buyers read SMS" in summary
    assert summary.index("## Process improvements") < summary.index("## Assumption corrections")

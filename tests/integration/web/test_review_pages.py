"""The Review page: a draft saved in the editor is submitted, commented on at a step, the comment resolved
by a decision, a risk raised; the author is refused approval with every missing condition listed, the
owner approves on a simulation of the exact version and launches it at 10%, steps it up, pauses, rolls back;
the audit trail, the diff against the live version and the packet tell it all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from tests.integration.web.conftest import PASSWORD

from onboardflow.governance.people import add_user

JOURNEY_ID = "first-purchase-welcome"
REVIEW = f"/journeys/{JOURNEY_ID}/review"
OWNER = "cs-lead@shop.example"  # the example journey's named owner
SIM = {"customers": "40", "days": "20"}


def soup(answer) -> BeautifulSoup:
    return BeautifulSoup(answer.text, "html.parser")


@pytest.fixture
def drafted(web):
    """v2 of the journey, saved in the editor by the author and submitted for review."""
    add_user(store=web.store, email=OWNER, name="Cy", roles=["owner", "reviewer"], password=PASSWORD,
             now=web.clock.now())
    web.sign_in("author@shop.example")
    document = soup(web.client.get(f"/journeys/{JOURNEY_ID}")).select_one("textarea#document").get_text()
    saved = web.post(f"/journeys/{JOURNEY_ID}/save",
                     {"document": document.replace("First purchase welcome", "First purchase hello", 1)},
                     follow_redirects=False)
    assert saved.status_code == 303
    web.post(f"{REVIEW}/2/submit")
    return web


def approve(web, version: int = 2):
    """Click Approve and wait for the simulation and the gate; the page as it then reads."""
    web.post(f"{REVIEW}/{version}/approve", SIM)
    run = list(web.client.app.state.approvals.runs.values())[-1]
    assert run.done.wait(120)
    return run, soup(web.client.get(f"{REVIEW}?version={version}&run={run.id}"))


def test_a_comment_on_a_step_blocks_the_gate_until_a_decision_resolves_it(drafted):
    page = soup(drafted.client.get(f"{REVIEW}?version=2"))
    assert page.select_one("#review-state .status").get_text() == "in review"
    assert "step welcome" in [o.get_text() for o in page.select("#comment-form select[name=step] option")]
    assert "no simulation of first-purchase-welcome v2" in page.select("ul.checklist > li")[4].get_text()

    drafted.post(f"{REVIEW}/2/comments", {"kind": "question", "step": "welcome", "body": "why email first?"})
    page = soup(drafted.client.get(f"{REVIEW}?version=2"))
    comment = page.select_one("article.comment")
    assert comment["data-step"] == "welcome" and "why email first?" in comment.get_text()
    blocked = page.select("ul.checklist > li")[2]
    assert "misses" in blocked["class"] and comment["data-comment"] in blocked.get_text()

    refused = drafted.post(f"{REVIEW}/2/decisions", {"comment_id": comment["data-comment"],
                                                     "outcome": "accepted", "rationale": "fine"})
    assert refused.status_code == 403
    assert "reviewer or owner" in soup(refused).select_one("#refused").get_text()
    drafted.sign_in(OWNER)
    drafted.post(f"{REVIEW}/2/decisions", {"comment_id": comment["data-comment"], "outcome": "accepted",
                                           "rationale": "email reaches everyone"})
    page = soup(drafted.client.get(f"{REVIEW}?version=2"))
    assert "holds" in page.select("ul.checklist > li")[2]["class"]
    row = page.select_one("#decisions tr[data-decision]")
    assert "accepted" in row.get_text() and "email reaches everyone" in row.get_text()
    assert OWNER in row.get_text()  # the one deciding owns it unless another is named


def test_bad_input_is_refused_in_place_with_every_reason(drafted):
    drafted.post(f"{REVIEW}/2/comments", {"kind": "question", "body": "ok?"})
    comment = drafted.store.comments(JOURNEY_ID)[0]
    drafted.sign_in(OWNER)

    answer = drafted.post(f"{REVIEW}/2/decisions", {"comment_id": comment.id, "outcome": "deferred",
                                                    "rationale": "", "due": "soon"})

    assert answer.status_code == 422
    reasons = [li.get_text() for li in soup(answer).select("#refused li")]
    assert any("not a date" in r for r in reasons)
    assert drafted.store.comments(JOURNEY_ID)[0].is_open
    answer = drafted.post(f"{REVIEW}/2/decisions", {"comment_id": comment.id, "outcome": "deferred",
                                                    "rationale": "later"})
    reasons = [li.get_text() for li in soup(answer).select("#refused li")]
    assert reasons == ["✗ a deferred decision needs a due date in the future (--due 2026-04-01)"]


def test_a_risk_is_due_in_48_hours_ranked_by_impact_and_flagged_overdue(drafted):
    drafted.post(f"{REVIEW}/2/risks", {"risk": "copy typo", "impact": "low", "owner": OWNER,
                                       "fallback": "fix it"})
    drafted.post(f"{REVIEW}/2/risks", {"risk": "late parcels flood support", "impact": "high"})
    risks = drafted.store.risks(JOURNEY_ID)
    assert {r.due_at - r.raised_at for r in risks} == {timedelta(hours=48)}

    drafted.clock.advance(timedelta(hours=49))
    page = soup(drafted.client.get(f"{REVIEW}?version=2"))
    rows = page.select("#risks tr[data-risk]")
    assert [r.td.get_text() for r in rows] == ["late parcels flood support", "copy typo"]  # high first
    assert rows[0].select_one(".overdue") and "✗ none" in rows[0].get_text()
    gate = page.select("ul.checklist > li")[3].get_text()
    assert "has no owner" in gate and "has no fallback plan" in gate

    late = next(r for r in risks if r.impact == "high")
    drafted.post(f"{REVIEW}/2/risks/{late.id}", {"status": "open", "owner": OWNER, "fallback": "pause it"})
    page = soup(drafted.client.get(f"{REVIEW}?version=2"))
    assert "holds" in page.select("ul.checklist > li")[3]["class"]
    drafted.post(f"{REVIEW}/2/risks/{late.id}", {"status": "mitigated"})
    row = soup(drafted.client.get(f"{REVIEW}?version=2")).select_one(f'tr[data-risk="{late.id}"]')
    assert "mitigated" in row.get_text() and not row.select_one(".overdue")  # only an open risk is overdue


def test_the_author_is_refused_approval_with_every_condition_and_the_owner_approves_and_launches(drafted):
    drafted.post(f"{REVIEW}/2/comments", {"kind": "change_request", "body": "shorter subject"})

    run, page = approve(drafted)  # the author tries
    refused = [li.get_text() for li in page.select("#approval-refused li")]
    assert any("only the journey's named owner (cs-lead@shop.example)" in r for r in refused)
    assert any("its author cannot approve it" in r for r in refused)
    assert any("change request" in r and "is open" in r for r in refused)
    assert page.select("#acceptance tbody tr")  # the simulation's criteria are shown
    assert drafted.store.review(JOURNEY_ID, 2).status == "in_review"
    assert drafted.store.audit_trail(JOURNEY_ID)[-1].action == "approval-refused"

    drafted.sign_in(OWNER)
    comment = drafted.store.comments(JOURNEY_ID)[0]
    drafted.post(f"{REVIEW}/2/decisions", {"comment_id": comment.id, "outcome": "rejected",
                                           "rationale": "the subject is fine"})
    gate = soup(drafted.client.get(f"{REVIEW}?version=2")).select("ul.checklist > li")
    assert [li["class"][0] for li in gate] == ["holds"] * 5  # the author's run simulated this content
    run, page = approve(drafted)
    assert run.problems == [], run.problems
    assert "Approved by cs-lead@shop.example" in page.select_one("#approved").get_text()
    assert not page.select("ul.checklist")  # approved: the approval's evidence instead of the gate
    assert drafted.store.review(JOURNEY_ID, 2).approval["simulation"]["customers"] == 40

    drafted.post(f"{REVIEW}/2/launch", {"share": "10"})
    state = drafted.store.journeys()[0]
    assert (state.live_version, state.rollout_percent) == (2, 10.0)
    drafted.post(f"{REVIEW}/2/step-up", {"share": "50"})
    page = soup(drafted.client.get(f"{REVIEW}?version=2"))
    assert page.select_one("#review-state .share").get_text() == "50%"
    assert [o.get_text() for o in page.select("#step-share option")] == ["100%"]
    drafted.post(f"{REVIEW}/2/pause")
    assert drafted.store.review(JOURNEY_ID, 2).status == "paused"
    drafted.post(f"{REVIEW}/2/resume")
    drafted.post(f"{REVIEW}/2/rollback")
    assert drafted.store.journeys()[0].live_version == 1
    trail = soup(drafted.client.get(REVIEW)).select("#audit tr[data-action]")
    actions = [row["data-action"] for row in trail]
    assert {"draft", "submit", "comment", "decide", "approval-refused", "approve", "launch", "pause",
            "rollback"} <= set(actions)


def test_launch_steps_are_the_owners_only(drafted):
    answer = drafted.post(f"{REVIEW}/2/launch", {"share": "10"})

    assert answer.status_code == 403
    refused = soup(answer).select_one("#refused").get_text()
    assert "only the journey's named owner (cs-lead@shop.example)" in refused
    assert drafted.store.journeys()[0].live_version == 1


def test_the_diff_against_the_live_version_and_the_packet(drafted):
    page = soup(drafted.client.get(f"{REVIEW}?version=2"))

    added = [row.code.get_text() for row in page.select("#live-diff tr.add")]
    assert added == ["+name: First purchase hello"]
    packet = drafted.client.get(f"{REVIEW}/2/packet.md")
    assert packet.headers["content-type"].startswith("text/markdown")
    assert "First purchase hello" in packet.text and "attachment" in packet.headers["content-disposition"]


def test_the_review_list_shows_each_versions_status(drafted):
    row = soup(drafted.client.get("/review")).select_one(f'tr[data-journey="{JOURNEY_ID}"]')

    assert [b.get_text() for b in row.select(".badge")] == ["in review", "live"]  # v1: published, no review
    assert soup(drafted.client.get("/review")).select_one('nav a[aria-current="page"]').get_text() == "Review"
    assert soup(drafted.client.get(REVIEW)).select_one('nav a[aria-current="page"]').get_text() == "Review"


def test_the_demo_workspace_has_a_draft_in_review_with_comments_and_a_risk(web):
    from onboardflow.live_demo import DEMO_OWNER, DEMO_PASSWORD, demo_review

    demo_review(web.store, web.clock.now())
    demo_review(web.store, web.clock.now())  # a restarted demo adds nothing

    web.sign_in(DEMO_OWNER, DEMO_PASSWORD)
    page = soup(web.client.get(f"{REVIEW}?version=2"))
    assert page.select_one("#review-state .status").get_text() == "in review"
    assert [c["data-step"] for c in page.select("article.comment")] == ["await-delivery", ""]
    assert len(page.select("#risks tr[data-risk]")) == 1
    added = [row.code.get_text() for row in page.select("#live-diff tr.add")]
    assert added == ["+    timeout: 1w1d"]  # 8 days, as stored


def test_approve_shows_a_progress_bar_while_the_simulation_runs_then_the_page_again(drafted):
    from onboardflow.web.review import ApprovalRun

    drafted.client.get(REVIEW)  # the server's approval runs are made at the first review page
    run = ApprovalRun("run1", JOURNEY_ID, 2, "author@shop.example", 300, 30, 1)
    drafted.client.app.state.approvals.runs[run.id] = run

    page = soup(drafted.client.get(f"{REVIEW}?version=2&run=run1"))
    assert page.select_one("progress#approval-bar")["value"] == "0"
    status = f"{REVIEW}/2/approvals/run1"
    assert soup(drafted.client.get(status)).select_one("#approval-progress")
    run.done.set()
    assert drafted.client.get(status).headers["HX-Refresh"] == "true"


def test_submit_is_offered_to_authors(signed_in):
    editor = soup(signed_in.client.get(f"/journeys/{JOURNEY_ID}")).select_one("textarea#document")
    document = editor.get_text()
    signed_in.post(f"/journeys/{JOURNEY_ID}/save", {"document": document.replace("First purchase", "Hi", 1)})

    assert soup(signed_in.client.get(f"{REVIEW}?version=2")).find("button", string="Submit for review")
    signed_in.sign_in("agent@shop.example")
    assert not soup(signed_in.client.get(f"{REVIEW}?version=2")).find("button", string="Submit for review")

"""The whole path in a real browser, by two people: the author makes a journey from a template (a problem
in a parameter shown at its field first), simulates it, submits it, comments on a step, and is refused
approval with every reason shown; the owner resolves the comment with a decision, raises a risk, approves
on a simulation of the exact version and launches it at 10%; an event sent through POST /v1/events with a
key brings the message and an escalation; an agent resolves the task; the Outcomes dashboard's numbers
change. A screenshot of every page goes to var/screenshots/ (20-… to 34-…)."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import expect
from tests.e2e.conftest import AGENT, AUTHOR, JOURNEY_OWNER, shot, sign_in

from onboardflow.api.keys import mint
from onboardflow.core.gate import in_rollout
from onboardflow.core.model import HOLDOUT
from onboardflow.core.steps.routing import share_of
from onboardflow.engine.clock import SystemClock

JOURNEY = "first-purchase"
REVIEW = f"/journeys/{JOURNEY}/review"


def a_customer_let_in(share: float) -> str:
    """A new customer id that the roll-out at `share` lets in and the holdout leaves treated."""
    return next(cid for cid in (f"e2e-buyer-{n}" for n in range(1000))
                if in_rollout(JOURNEY, cid, share) and share_of(JOURNEY, cid, HOLDOUT) * 100 >= 10)


def headline(page, kpi: str) -> str:
    return page.locator(f'#headline [data-kpi="{kpi}"] dd').inner_text()


def sign_out_and_in(page, email: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, email)


def test_from_template_through_review_and_launch_to_measured_outcomes(page, served):
    sign_in(page, AUTHOR)
    page.get_by_role("link", name="New from template").click()
    shot(page, served, "20-templates")
    page.locator('li[data-template="first-purchase"] a').click()
    page.get_by_label("brand_name").fill("Acme Skin")
    page.get_by_label("late_after_days").fill("99")
    page.get_by_label("owner").fill(JOURNEY_OWNER)
    page.get_by_role("button", name="Create the draft journey").click()
    expect(page.locator('[data-parameter="late_after_days"] p.problem')).to_contain_text("out of range")
    shot(page, served, "21-template-problem-in-place")
    page.get_by_label("late_after_days").fill("9")
    page.get_by_role("button", name="Create the draft journey").click()
    expect(page.locator("figure.graph svg g.node").first).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("not launched")
    shot(page, served, "22-draft-journey")

    page.locator(".page-head .actions").get_by_role("link", name="Simulate").click()
    expect(page.get_by_label(f"First purchase welcome {JOURNEY} newest draft")).to_be_checked()
    page.get_by_label("Customers").fill("60")
    page.get_by_label("Days").fill("20")
    page.get_by_role("button", name="Run the simulation").click()
    funnel = page.locator(f'section.journey[data-journey="{JOURNEY}"] svg.funnel')
    expect(funnel).to_be_visible(timeout=120_000)
    shot(page, served, "23-draft-simulated")

    page.goto(REVIEW)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#review-state .status")).to_have_text("in review")
    page.locator('#comment-form select[name="kind"]').select_option("question")
    page.locator('#comment-form select[name="step"]').select_option("confirmation")
    page.get_by_label("Comment", exact=True).fill("Should the confirmation name the delivery date?")
    page.get_by_role("button", name="Add the comment").click()
    expect(page.locator('article.comment[data-step="confirmation"]')).to_contain_text("delivery date")
    shot(page, served, "24-review-comment-on-a-step")

    page.locator("#approve-customers").fill("100")
    page.get_by_role("button", name="Approve").click()
    refused = page.locator("#approval-refused")
    expect(refused).to_be_visible(timeout=120_000)
    expect(refused).to_contain_text("its author cannot approve it")
    expect(refused).to_contain_text(f"only the journey's named owner ({JOURNEY_OWNER})")
    expect(refused).to_contain_text("is open on step 'confirmation'")
    shot(page, served, "25-approval-refused-for-the-author")

    sign_out_and_in(page, JOURNEY_OWNER)
    page.goto(REVIEW)
    comment = page.locator('article.comment[data-step="confirmation"]')
    comment.get_by_label("Rationale").fill("the carrier gives no date at order time")
    comment.get_by_label("Outcome").select_option("rejected")
    comment.get_by_role("button", name="Resolve").click()
    expect(page.locator("#decisions tr[data-decision]")).to_contain_text("the carrier gives no date")
    page.get_by_label("Risk or blocker").fill("late parcels flood support")
    page.locator('#risk-form select[name="impact"]').select_option("high")
    page.locator('#risk-form select[name="owner"]').select_option(JOURNEY_OWNER)
    page.get_by_label("Fallback plan").fill("pause the journey")
    page.get_by_role("button", name="Raise the risk").click()
    expect(page.locator("#risks tr[data-risk]")).to_contain_text("late parcels flood support")
    shot(page, served, "26-review-decision-and-risk")

    page.locator("#approve-customers").fill("100")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#approved")).to_contain_text(f"Approved by {JOURNEY_OWNER}", timeout=120_000)
    shot(page, served, "27-approved")
    page.get_by_label("Share").select_option("10")
    page.get_by_role("button", name="Launch").click()
    expect(page.locator("#review-state .status")).to_have_text("live")
    expect(page.locator("#review-state .share")).to_have_text("10%")
    shot(page, served, "28-launched-at-10-percent")

    page.get_by_role("link", name="Outcomes").first.click()
    shot(page, served, "29-outcomes")
    page.goto(f"/outcomes/{JOURNEY}")
    assert (headline(page, "entered"), headline(page, "tasks /100")) == ("0", "-")
    shot(page, served, "30-outcomes-before")

    key, plain = mint("e2e storefront", ["ingest"], now=SystemClock().now())
    served.store.save_api_key(key)
    customer = a_customer_let_in(10)
    event = {"id": "evt_e2e_path", "name": "Order Completed", "customer_id": customer,
             "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "properties": {"order_id": "o_e2e_path", "total": 900.0, "currency": "USD"},
             "customer": {"email": "buyer.e2e@example.com", "country": "US", "traits": {"first_name": "Bea"}}}
    sent = httpx.post(f"{served.url}/v1/events", json=event, headers={"Authorization": f"Bearer {plain}"})
    assert sent.status_code == 202, sent.text

    page.goto(f"/customers/{customer}")
    message = page.locator("tr[data-message]", has_text="first_purchase_confirmation")
    for _ in range(60):  # the worker applies the queued event within a round or two
        if message.count() and page.locator("#customer-tasks li").count():
            break
        time.sleep(0.5)
        page.reload()
    expect(message.first).to_be_visible()
    expect(page.locator("#customer-tasks li").first).to_contain_text("high-value customer")
    shot(page, served, "31-customer-message-and-escalation")

    sign_out_and_in(page, AGENT)
    page.goto("/escalations?queue=vip")
    page.locator("tr[data-task]", has_text=customer).get_by_role("link").first.click()
    page.get_by_role("button", name="Claim").click()
    page.get_by_label("Outcome").fill("called, thanked")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#task-state .status")).to_have_text("resolved")
    shot(page, served, "32-task-resolved")

    page.goto(f"/outcomes/{JOURNEY}")
    expect(page.locator("#headline")).to_be_visible()
    assert headline(page, "entered") == "1"
    assert headline(page, "tasks /100") == "100.0"
    assert headline(page, "resolution median") != "-"
    expect(page.locator("#funnel tr[data-step='confirmation'] td.sent")).to_have_text("1")
    shot(page, served, "33-outcomes-after")
    page.goto(f"/outcomes/weekly?journey={JOURNEY}")
    expect(page.locator("body")).to_contain_text("First purchase welcome")
    shot(page, served, "34-weekly-report")

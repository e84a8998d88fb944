"""The workspace walked in a real browser: sign in, the journeys and one journey's graph, editor and previews,
a simulation and a customer's timeline in it, an API key made in Settings and an event sent with it, the
message and the escalation it causes on the customer's page, the task claimed and resolved by an agent, and
the journey list counting the new entrant. A screenshot of every page goes to var/screenshots/."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import AGENT, shot, sign_in

JOURNEY = "first-purchase-welcome"


def entrants(page) -> int:
    page.goto("/journeys")
    return int(page.locator(f'tr[data-journey="{JOURNEY}"] td.entrants').inner_text())


def test_a_stranger_is_sent_to_sign_in_and_a_wrong_password_is_refused(page, served):
    page.goto("/journeys")
    expect(page).to_have_url(f"{served.url}/login?next=/journeys")
    page.get_by_label("Email").fill("ana@shop.example")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("do not match an enabled user")
    shot(page, served, "01-sign-in-refused")


def test_the_journey_page_shows_the_graph_checks_the_editor_in_place_and_previews(page, served):
    sign_in(page)
    expect(page.locator(f'tr[data-journey="{JOURNEY}"]')).to_contain_text("cs-lead@shop.example")
    shot(page, served, "02-journeys")

    page.get_by_role("link", name="First purchase welcome").click()
    expect(page.locator("figure.graph svg g.edge").first).to_be_visible()
    expect(page.locator("#previews article.preview").first).to_contain_text("Thanks for your order")
    shot(page, served, "03-journey")

    editor = page.get_by_label("The journey as YAML", exact=False)
    editor.fill(editor.input_value().replace("goto: usage-tips", "goto: nowhere-step", 1))
    page.get_by_role("button", name="Check").click()

    problem = page.locator("ol.annotated li.has-problem p.problem")
    expect(problem).to_contain_text("nowhere-step")
    line = int(problem.get_attribute("data-line"))
    assert "nowhere-step" in editor.input_value().splitlines()[line - 1]
    problem.scroll_into_view_if_needed()
    shot(page, served, "04-editor-problem-in-place")


def test_a_simulation_shows_acceptance_funnel_and_a_customers_timeline(page, served):
    sign_in(page)
    page.get_by_role("link", name="Simulate").click()
    page.get_by_label("Customers").fill("40")
    page.get_by_label("Days").fill("15")
    page.get_by_role("button", name="Run the simulation").click()

    expect(page.locator("section#acceptance")).to_be_visible(timeout=120_000)
    expect(page.locator(f'section.journey[data-journey="{JOURNEY}"] svg.funnel')).to_be_visible()
    shot(page, served, "05-simulation")
    customer = page.locator("#run-customers option").first.get_attribute("value")
    page.get_by_label("Customer", exact=True).fill(customer)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#timeline ol.timeline li").first).to_be_visible()
    shot(page, served, "06-simulation-timeline")


def test_an_event_sent_with_a_key_from_settings_brings_a_message_and_a_task_an_agent_resolves(page, served):
    sign_in(page)
    before = entrants(page)
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("New key for").fill("storefront")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("input#new-key").input_value()
    shot(page, served, "07-settings")

    event = {"id": "evt_e2e_1", "name": "Order Completed", "customer_id": "e2e-ana",
             "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "properties": {"order_id": "o_e2e_1", "total": 900.0, "currency": "USD"},
             "customer": {"email": "ana.e2e@example.com", "country": "US", "traits": {"first_name": "Ana"}}}
    sent = httpx.post(f"{served.url}/v1/events", json=event, headers={"Authorization": f"Bearer {key}"})
    assert sent.status_code == 202, sent.text

    page.goto("/customers/e2e-ana")
    for _ in range(60):  # the worker applies the queued event within a round or two
        if page.locator("tr[data-message]").count() and page.locator("#customer-tasks li").count():
            break
        time.sleep(0.5)
        page.reload()
    expect(page.locator("tr[data-message]").first).to_contain_text("welcome")
    expect(page.locator("#customer-tasks li").first).to_contain_text("high-value customer")
    shot(page, served, "08-customer")
    assert entrants(page) == before + 1

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, AGENT)
    page.get_by_role("link", name="Escalations").click()
    page.get_by_label("Queue").fill("vip")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tr[data-task]", has_text="e2e-ana")
    expect(row).to_be_visible()
    shot(page, served, "09-escalations")
    row.get_by_role("link").first.click()
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#task-state")).to_contain_text(AGENT)
    page.get_by_label("Outcome").fill("called, thanked")
    page.get_by_role("button", name="Resolve").click()

    expect(page.locator("#task-state .status")).to_have_text("resolved")
    expect(page.locator("#task-state .outcome")).to_have_text("called, thanked")
    shot(page, served, "10-task-resolved")
    page.goto("/customers/e2e-ana")
    expect(page.locator("#customer-tasks li").first).to_contain_text("resolved")


PAGES = ["/escalations", "/customers", "/settings", "/simulate", "/review", "/outcomes", "/journeys/new", "/playbooks",
         "/playbooks/customer-success-onboarding-optimisation"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_reached_by_keyboard_from_the_skip_link(page, served, path):
    sign_in(page)
    page.goto(path)
    page.keyboard.press("Tab")

    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    shot(page, served, "11" + path.replace("/", "-"))

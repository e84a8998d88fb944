"""The Escalations, Customer, Settings and Simulate pages: filter, claim and resolve a task (its journey
told); a customer's profile, consent and timeline; keys, webhooks and users; a simulation run and its
results."""

from __future__ import annotations

import time

from bs4 import BeautifulSoup

from onboardflow.core.model import TASK_RESOLVED


def soup(answer) -> BeautifulSoup:
    return BeautifulSoup(answer.text, "html.parser")


def open_task(web):
    return web.store.tasks_page(status="open", limit=1)[0]


def test_the_queue_filters_by_queue_status_priority_and_reason(signed_in):
    row = open_task(signed_in)
    task = row.task

    page = soup(signed_in.client.get(f"/escalations?queue={task.queue}&status=open&priority={task.priority}"
                                     f"&reason={task.reason}"))
    none = soup(signed_in.client.get("/escalations?priority=low&reason=nothing-like-this"))

    shown = [tr["data-task"] for tr in page.select("tr[data-task]")]
    expected = signed_in.store.tasks_page(status="open", queue=task.queue, priority=task.priority,
                                          reason=task.reason)
    assert shown == [r.task.task_id for r in expected][:50] and task.task_id in shown
    assert none.select("tr[data-task]") == []


def test_an_agent_claims_and_resolves_a_task_and_its_journey_is_told(web):
    web.sign_in("agent@shop.example")
    task_id = open_task(web).task.task_id

    claimed = web.post(f"/escalations/{task_id}/claim")
    resolved = web.post(f"/escalations/{task_id}/resolve", {"outcome": "refunded"})

    assert claimed.status_code == resolved.status_code == 200
    row = web.store.task(task_id)
    assert (row.status, row.assignee, row.outcome) == ("resolved", "agent@shop.example", "refunded")
    queued = [q.event for q in web.store.queued()] if hasattr(web.store, "queued") else None
    data = web.store.customer_data(row.task.customer_id)
    assert any(e.name == TASK_RESOLVED and e.properties["task_id"] == task_id for e in data.queued), queued
    page = soup(web.client.get(f"/escalations/{task_id}"))
    assert page.select_one(".outcome").get_text() == "refunded"


def test_a_task_taken_by_someone_else_cannot_be_claimed(web):
    task_id = open_task(web).task.task_id
    web.sign_in("agent@shop.example")
    web.post(f"/escalations/{task_id}/claim")
    web.client.cookies.clear()
    web.sign_in("admin@shop.example")

    answer = web.post(f"/escalations/{task_id}/claim")

    assert answer.status_code == 409
    assert web.store.task(task_id).assignee == "agent@shop.example"


def test_the_task_page_shows_the_customer_context(signed_in):
    row = open_task(signed_in)

    page = soup(signed_in.client.get(f"/escalations/{row.task.task_id}"))

    assert page.find("a", href=f"/customers/{row.task.customer_id}")
    assert page.select_one("dl.pairs")  # the profile
    assert "Orders" in page.get_text()


def test_the_customer_page_tells_profile_consent_messages_enrollments_tasks_and_timeline(signed_in):
    customer_id = open_task(signed_in).task.customer_id
    data = signed_in.store.customer_data(customer_id)

    page = soup(signed_in.client.get(f"/customers/{customer_id}"))

    assert len(page.select("tr[data-message]")) == len(data.messages)
    assert len(page.select("#enrollments li")) == len(data.enrollments)
    assert len(page.select("#customer-tasks li")) == len(data.tasks)
    assert len(page.select("#timeline li")) >= len(data.events)
    assert page.select_one("#timeline li.event")


def test_the_customer_search_opens_the_customer_and_an_unknown_one_says_so(signed_in):
    customer_id = open_task(signed_in).task.customer_id

    found = signed_in.client.get(f"/customers?id={customer_id}", follow_redirects=False)
    missing = signed_in.client.get("/customers/nobody-here")

    assert found.headers["location"] == f"/customers/{customer_id}"
    assert missing.status_code == 404 and "nobody-here" in missing.text


def test_a_key_made_on_the_settings_page_is_shown_once_works_and_is_refused_once_revoked(signed_in):
    made = soup(signed_in.post("/settings/keys", {"name": "storefront", "scopes": ["ingest", "read"]}))
    plain = made.select_one("input#new-key")["value"]
    key = signed_in.store.api_keys()[0]

    assert key.name == "storefront" and key.scopes == ("ingest", "read")
    assert plain not in signed_in.client.get("/settings").text
    bearer = {"Authorization": f"Bearer {plain}"}
    assert signed_in.client.get("/v1/journeys", headers=bearer).status_code == 200
    signed_in.post(f"/settings/keys/{key.id}/revoke")
    assert signed_in.client.get("/v1/journeys", headers=bearer).status_code == 401


def test_webhooks_are_added_checked_disabled_and_enabled(signed_in):
    bad = signed_in.post("/settings/webhooks", {"url": "ftp://nope", "events": []})
    good = signed_in.post("/settings/webhooks",
                          {"url": "https://hooks.example/in", "events": ["task.opened"]})

    assert bad.status_code == 422
    assert [li.get_text() for li in soup(bad).select("ul.error li")]
    assert good.status_code == 200
    subscription = signed_in.store.subscriptions()[0]
    assert (subscription.url, subscription.events) == ("https://hooks.example/in", ("task.opened",))
    signed_in.post(f"/settings/webhooks/{subscription.id}/disable", {"reason": "moving hosts"})
    assert signed_in.store.subscription(subscription.id).disabled_reason == "moving hosts"
    signed_in.post(f"/settings/webhooks/{subscription.id}/enable")
    assert signed_in.store.subscription(subscription.id).enabled


def test_an_admin_adds_a_user_who_can_then_sign_in(web):
    web.sign_in()
    short = web.post("/settings/users", {"email": "new@shop.example", "name": "New", "roles": ["reviewer"],
                                         "password": "short"})
    added = web.post("/settings/users", {"email": "new@shop.example", "name": "New", "roles": ["reviewer"],
                                         "password": "long enough now"})

    assert short.status_code == 422 and "at least 8 characters" in short.text
    assert added.status_code == 200
    assert web.store.user("new@shop.example").roles == ("reviewer",)
    web.client.cookies.clear()
    assert web.sign_in("new@shop.example", "long enough now").status_code == 303


def test_settings_show_the_channels_and_the_sending_policies_in_force(signed_in, monkeypatch):
    monkeypatch.setenv("ONBOARDFLOW_STORE_TIMEZONE", "Europe/Paris")

    page = soup(signed_in.client.get("/settings"))

    policies = {tr.td.get_text(): tr.find_all("td")[1].get_text() for tr in page.select("#policies tbody tr")}
    assert policies["ONBOARDFLOW_STORE_TIMEZONE"] == "Europe/Paris"
    assert policies["ONBOARDFLOW_SMS_QUIET_HOURS"] == "21:00–08:00"
    assert page.select_one("#channels")


def test_a_simulation_runs_in_the_background_and_shows_acceptance_funnel_and_timelines(signed_in):
    form = {"journeys": ["first-purchase-welcome"], "customers": "40", "days": "20", "seed": "5"}
    answer = signed_in.post("/simulate", form, follow_redirects=False)
    run_path = answer.headers["location"]
    for _ in range(600):
        if "HX-Refresh" in signed_in.client.get(f"{run_path}/status").headers:
            break
        time.sleep(0.1)

    page = soup(signed_in.client.get(run_path))

    assert page.select_one("section#acceptance")
    assert page.select_one('section.journey[data-journey="first-purchase-welcome"] svg.funnel')
    customer = page.select("#run-customers option")[0]["value"]
    shown = signed_in.client.get(f"{run_path}/timeline?customer={customer}", headers={"HX-Request": "true"})
    timeline = soup(shown)
    assert timeline.select("ol.timeline li")


def test_a_simulation_of_an_unknown_journey_is_refused(signed_in):
    answer = signed_in.post("/simulate", {"journeys": ["nope"], "customers": "10"})

    assert answer.status_code == 404

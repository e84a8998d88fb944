"""New from template: the library, a template's parameters with their defaults and descriptions, problems
shown at their fields, and a draft journey stored with its message templates written beside the journeys.
Outcomes: the KPI table of every journey, a journey's dashboard (uplift with sample sizes, funnel, trends
chart, cuts) and the weekly report as HTML and Markdown."""

from __future__ import annotations

from bs4 import BeautifulSoup

from onboardflow.analytics import service


def soup(answer) -> BeautifulSoup:
    assert answer.status_code in (200, 422), answer.text[:500]
    return BeautifulSoup(answer.text, "html.parser")


def test_the_library_lists_every_template_and_one_shows_its_parameters(signed_in):
    listed = soup(signed_in.client.get("/journeys/new")).select("#templates li")
    names = [li["data-template"] for li in listed]
    assert len(names) == 11 and "first-purchase" in names

    page = soup(signed_in.client.get("/journeys/new/first-purchase"))
    field = page.select_one('[data-parameter="late_after_days"]')
    assert field.select_one("label").get_text() == "late_after_days"
    assert field.select_one("input")["value"] == "12"  # its default
    assert "whole number from 3 to 30" in field.select_one("p.hint").get_text()
    assert page.select_one('[data-parameter="brand_name"] input')["value"] == "Northwind Goods"


def test_bad_values_are_shown_at_their_fields_and_nothing_is_stored(signed_in):
    answer = signed_in.post("/journeys/new/first-purchase", {"late_after_days": "100", "owner": "nobody",
                                                             "brand_name": "Acme"})

    assert answer.status_code == 422
    page = soup(answer)
    assert "out of range" in page.select_one('[data-parameter="late_after_days"] p.problem').get_text()
    assert "email" in page.select_one('[data-parameter="owner"] p.problem').get_text()
    assert page.select_one('[data-parameter="brand_name"] input')["value"] == "Acme"  # kept as typed
    assert signed_in.store.versions("first-purchase") == []


def test_a_template_becomes_a_draft_journey_with_its_messages(signed_in, tmp_path):
    answer = signed_in.post("/journeys/new/first-purchase", {"brand_name": "Acme Skin",
                                                             "late_after_days": "9"},
                            follow_redirects=False)

    assert answer.status_code == 303 and answer.headers["location"] == "/journeys/first-purchase?version=1"
    review = signed_in.store.review("first-purchase", 1)
    assert (review.status, review.author) == ("draft", "admin@shop.example")
    folder = tmp_path / "journeys"  # the workspace's ONBOARDFLOW_JOURNEYS_DIR (conftest)
    assert "Acme Skin" in (folder / "first-purchase.yaml").read_text()
    assert (folder / "templates" / "welcome.yaml").exists()  # the examples' kept beside the new ones
    page = soup(signed_in.client.get("/journeys/first-purchase"))
    assert page.select_one(".badge.draft")
    assert page.select_one("figure.graph svg")
    row = soup(signed_in.client.get("/journeys")).select_one('tr[data-journey="first-purchase"]')
    assert row.select_one(".badge").get_text() == "draft"
    again = signed_in.post("/journeys/new/first-purchase", {})
    assert again.status_code == 422 and "there already" in soup(again).select_one("#form-problems").get_text()


def test_the_outcomes_table_and_a_journeys_dashboard_read_the_kpis(signed_in):
    expected = service.kpis(signed_in.store, as_of=signed_in.clock.now(), journey_id="first-purchase-welcome")
    kpis = expected["groups"][0]["kpis"]

    table = soup(signed_in.client.get("/outcomes")).select_one("#kpis")
    assert "first-purchase-welcome" in table.get_text()
    page = soup(signed_in.client.get("/outcomes/first-purchase-welcome"))
    headline = {d["data-kpi"]: d.dd.get_text() for d in page.select("#headline > div")}
    assert headline["entered"] == str(kpis["entered"]) and headline["holdout"] == str(kpis["holdout"])
    uplift = page.select_one("#uplift")
    assert uplift.select_one(".treated-n").get_text() == str(kpis["uplift"]["treated"]["of"])
    assert uplift.select_one(".holdout-n").get_text() == str(kpis["uplift"]["holdout"]["of"])
    if kpis["uplift"]["difference"] is None:
        assert "too small to tell" in uplift.select_one(".verdict").get_text()
    first = kpis["funnel"][0]
    row = page.select_one(f'#funnel tr[data-step="{first["step_id"]}"][data-channel="{first["channel"]}"]')
    assert row.select_one("td.sent").get_text() == str(first["sent"])
    assert page.select_one('img[src^="data:image/png;base64,"]')
    cohorts = page.select("#cut-table tr[data-group]")
    assert cohorts and all(r["data-group"].startswith("2026-W") for r in cohorts)
    by_version = soup(signed_in.client.get("/outcomes/first-purchase-welcome?by=version"))
    assert [r["data-group"] for r in by_version.select("#cut-table tr[data-group]")] == ["v1"]
    assert signed_in.client.get("/outcomes/first-purchase-welcome?by=colour").status_code == 422


def test_the_weekly_report_reads_as_html_and_downloads_as_markdown(signed_in):
    html = signed_in.client.get("/outcomes/weekly")
    assert html.status_code == 200 and "First purchase welcome" in html.text
    assert "data:image/png;base64," in html.text

    markdown = signed_in.client.get("/outcomes/weekly.md?journey=first-purchase-welcome")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "attachment" in markdown.headers["content-disposition"]
    assert "First purchase welcome" in markdown.text

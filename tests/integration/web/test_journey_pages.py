"""The Journeys pages: the list's numbers, the graph with traffic, the editor's problems at their lines,
publishing a version, the diff between versions, and previews per channel and locale."""

from __future__ import annotations

from bs4 import BeautifulSoup

JOURNEY_ID = "first-purchase-welcome"
JOURNEY = f"/journeys/{JOURNEY_ID}"


def soup(answer) -> BeautifulSoup:
    assert answer.status_code in (200, 422), answer.text[:500]
    return BeautifulSoup(answer.text, "html.parser")


def test_the_list_shows_status_live_version_owner_entrants_and_goal_rate(signed_in):
    counts = signed_in.store.goal_counts()["first-purchase-welcome"]

    row = soup(signed_in.client.get("/journeys")).select_one('tr[data-journey="first-purchase-welcome"]')

    cells = [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
    assert cells[1:4] == ["live", "v1", "cs-lead@shop.example"]
    assert int(cells[4]) == counts.entrants + counts.holdout > 0
    assert cells[6] == f"{100 * counts.rate:.1f}%"


def test_the_graph_labels_each_edge_and_weighs_it_by_its_traffic(signed_in):
    page = soup(signed_in.client.get(JOURNEY))

    edges = page.select("figure.graph svg g.edge")
    taken = [edge for edge in edges if int(edge["data-count"]) > 0]
    assert taken and len(edges) > len(taken)  # the late-delivery branch is there, untaken or less taken
    widths = {int(e["data-count"]): float(e.path["stroke-width"]) for e in edges}
    assert widths[max(widths)] > widths[min(widths)]
    assert any("on_timeout" in edge["data-field"] for edge in edges)
    ways = {edge.select_one("text.way").get_text() for edge in edges if edge.select_one("text.way")}
    assert {"on_timeout", "default", "branch.0"} <= ways  # branches and time-outs labelled on the picture
    welcome = page.select_one('g.node[data-step="welcome"]')
    assert int(welcome["data-entrants"]) == signed_in.store.goal_counts()["first-purchase-welcome"].entrants


def test_the_editor_shows_each_problem_at_its_line(signed_in):
    document = soup(signed_in.client.get(JOURNEY)).select_one("textarea#document").get_text()
    broken = document.replace("goto: usage-tips", "goto: nowhere-step", 1)
    line = next(n for n, text in enumerate(broken.splitlines(), start=1) if "nowhere-step" in text)

    answer = signed_in.post(f"{JOURNEY}/validate", {"document": broken}, headers={"HX-Request": "true"})
    checked = soup(answer)

    problem = checked.select_one("ol.annotated li.has-problem")
    assert problem["id"] == f"line-{line}"
    assert "nowhere-step" in problem.select_one("p.problem").get_text()
    assert checked.select_one("p.error")
    assert checked.find("html") is None  # htmx gets the fragment alone


def test_a_clean_document_says_so(signed_in):
    document = soup(signed_in.client.get(JOURNEY)).select_one("textarea#document").get_text()

    checked = soup(signed_in.post(f"{JOURNEY}/validate", {"document": document}))

    assert "No problems" in checked.select_one("p.ok").get_text()


def test_publishing_an_edit_makes_the_next_version_live_and_the_diff_shows_the_change(signed_in):
    document = soup(signed_in.client.get(JOURNEY)).select_one("textarea#document").get_text()
    changed = document.replace("name: First purchase welcome", "name: First purchase welcome (new copy)")

    answer = signed_in.post(f"{JOURNEY}/publish", {"document": changed}, follow_redirects=False)

    assert answer.status_code == 303
    assert [v.version for v in signed_in.store.versions("first-purchase-welcome")] == [1, 2]
    page = soup(signed_in.client.get(JOURNEY))
    assert page.select_one('tr[data-version="2"] .badge.live')
    added = [row.code.get_text() for row in page.select("table.diff tr.add")]
    removed = [row.code.get_text() for row in page.select("table.diff tr.remove")]
    assert added == ["+name: First purchase welcome (new copy)"]
    assert removed == ["-name: First purchase welcome"]
    again = soup(signed_in.client.get(f"{JOURNEY}/diff?a=2&b=1", headers={"HX-Request": "true"}))
    assert [row.code.get_text() for row in again.select("tr.add")] == ["+name: First purchase welcome"]


def test_publishing_a_broken_document_stores_nothing_and_shows_why(signed_in):
    answer = signed_in.post(f"{JOURNEY}/publish", {"document": "id: first-purchase-welcome\nsteps: 3\n"})

    assert answer.status_code == 422
    assert soup(answer).select("p.problem")
    assert len(signed_in.store.versions("first-purchase-welcome")) == 1


def test_pause_and_resume_from_the_page(signed_in):
    signed_in.post(f"{JOURNEY}/pause")
    assert signed_in.store.journeys()[0].is_paused
    assert "paused since" in signed_in.client.get(JOURNEY).text

    signed_in.post(f"{JOURNEY}/resume")
    assert not signed_in.store.journeys()[0].is_paused


def test_previews_render_the_step_on_each_channel_and_locale_its_template_has(signed_in):
    customer = signed_in.store.messages_page(journey_id=JOURNEY_ID, limit=1)[0].message.customer_id

    page = soup(signed_in.client.get(f"{JOURNEY}/preview?step=welcome&customer={customer}"))

    shown = {(a["data-channel"], a["data-locale"]): a for a in page.select("article.preview")}
    assert set(shown) == {("email", "default"), ("email", "fr")}
    assert "Thanks for your order" in shown[("email", "default")].get_text()
    assert "Merci pour votre commande" in shown[("email", "fr")].get_text()
    enrollment = next(e for e in signed_in.store.enrollments_of(customer) if e.journey_id == JOURNEY_ID)
    assert f"({enrollment.trigger['order_id']})" in shown[("email", "default")].get_text()


def test_a_preview_for_an_unknown_customer_uses_a_sample_one_and_says_so(signed_in):
    page = soup(signed_in.client.get(f"{JOURNEY}/preview?step=usage-tips&customer=nobody"))

    assert "sample customer" in page.select_one("p.hint").get_text()
    assert {a["data-channel"] for a in page.select("article.preview")} >= {"email"}


def test_an_unknown_journey_is_a_page_that_says_where_to_look(signed_in):
    answer = signed_in.client.get("/journeys/nope")

    assert answer.status_code == 404
    assert "/journeys" in answer.text

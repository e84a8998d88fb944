"""The HTML report, read back as a document: acceptance first, the graph's edges carrying the run's
traffic, the funnel and the messages chart drawn from the same numbers, nothing fetched from outside."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from onboardflow.simulation.report import render_report

from .helpers import run

JOURNEY = """\
trigger: {event: Order Completed}
steps:
  - id: hello
    send: {channel: email, template: hello}
  - id: await-delivery
    wait_for: {event: Order Delivered, timeout: 6d}
    on_timeout: sorry
  - id: tips
    send: {channel: email, template: tips, purpose: education}
  - id: route
    branch:
      - when: customer.id == "nobody"
        goto: never
    default: done
  - {id: done, exit: completed}
  - id: sorry
    escalate: {queue: support, reason: delivery late}
    goto: done
  - id: never
    send: {channel: email, template: offer, purpose: promotion}
    goto: done
acceptance:
  - {max_messages: 1, within: 7d}
  - reached: {step: tips, share: 10%}
"""


@pytest.fixture(scope="module")
def result():
    return run(JOURNEY, customers=50, late=0.4)


@pytest.fixture(scope="module")
def page(result):
    return BeautifulSoup(render_report(result), "html.parser")


def test_the_acceptance_results_come_first(page):
    sections = page.body.find_all("section", recursive=False)

    assert sections[0]["id"] == "acceptance"
    rows = sections[0].select("tr.criterion")
    assert [row["data-kind"] for row in rows] == ["max_messages", "reached"]
    assert [("failed" in row["class"]) for row in rows] == [True, False]
    assert sections[0].select_one(".verdict").get_text() == "1 of 2 criteria failed"


def test_a_failing_criterion_shows_its_counterexamples_with_their_timelines(page, result):
    failing = page.select_one('tr.criterion[data-kind="max_messages"]')
    shown = failing.select("details.counterexample")

    expected = result.document(timelines="counterexamples")["acceptance"][0]["counterexamples"]
    assert [d["data-customer"] for d in shown] == [e["customer_id"] for e in expected]
    for details, example in zip(shown, expected, strict=True):
        assert len(details.select("ol.timeline > li")) == len(example["timeline"])
    assert int(failing["data-breaking"]) == result.verdicts[0].breaking


def test_the_graph_shows_every_edge_with_the_traffic_it_carried(page, result):
    graph = page.select_one('section.journey[data-journey="test"] svg.graph')
    drawn = {(g["data-from"], g["data-to"]): int(g["data-count"]) for g in graph.select("g.edge")}

    counted = {(e["from"], e["to"]): e["count"] for e in result.counts["edges"]["test"]}
    assert drawn == counted
    assert drawn[("await-delivery", "sorry")] > 0 and drawn[("await-delivery", "tips")] > 0
    assert drawn[("route", "never")] == 0
    for g in graph.select("g.edge"):
        assert g.select_one("text.count").get_text() == g["data-count"]
    nodes = {g["data-step"]: int(g["data-entrants"]) for g in graph.select("g.node")}
    assert nodes == result.counts["steps"]["test"]
    assert "unreached" in graph.select_one('g.node[data-step="never"]')["class"]


def test_the_funnel_and_the_messages_chart_are_drawn_from_the_run(page, result):
    bars = {g["data-step"]: int(g["data-entrants"]) for g in page.select("svg.funnel g.bar")}
    assert bars == result.counts["steps"]["test"]

    chart = page.select_one("svg.messages-over-time")
    drawn = sum(int(rect["data-count"]) for rect in chart.select("rect.day"))
    assert drawn == len(result.counts["messages"]) > 0
    assert {g["data-channel"] for g in chart.select("g.legend")} == {
        m["channel"] for m in result.counts["messages"]
    }


def test_steps_and_exception_paths_never_taken_are_warned_about_exception_paths_first(page, result):
    warnings = result.counts["warnings"]
    assert [w["step_id"] for w in warnings if w["kind"] == "step"] == ["never"]
    items = page.select("#warnings li")
    assert [li.get_text() for li in items] == [
        w["message"] + (" (exception path)" if w["exception"] else "") for w in warnings
    ]


def test_the_report_needs_nothing_from_outside(page):
    assert not page.select("script[src], link[href], img[src]")
    for tag in page.find_all(True):
        for value in tag.attrs.values():
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert "http://" not in text and "https://" not in text or text == "http://www.w3.org/2000/svg"


def test_the_json_result_has_the_fields_the_issue_names(result):
    document = json.loads(result.to_json())

    message = document["messages"][0]
    assert set(message) >= {"customer_id", "journey_id", "step_id", "channel", "purpose", "at"}
    assert message["at"].endswith("Z")
    assert set(document["tasks"][0]) >= {"customer_id", "journey_id", "step_id", "reason", "at"}
    assert document["steps"]["test"]["hello"] == 50
    assert {"criterion", "passed", "counterexamples"} <= set(document["acceptance"][0])
    assert set(document["timelines"]) == {f"c_{n:05d}" for n in range(1, 51)}

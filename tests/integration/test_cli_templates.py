"""`onboardflow templates` as a user runs it: list (a table, or JSON for scripts), show (description,
parameters, step graph, SVG), new (an editable journey that `validate` and `simulate` accept)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from onboardflow.cli import app
from onboardflow.templates.library import library


def onboardflow(*args: object, code: int = 0):
    result = CliRunner().invoke(
        app, [str(arg) for arg in args], catch_exceptions=False, env={"COLUMNS": "160"}
    )
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


def test_list_prints_every_template_in_a_table_and_as_json_for_scripts():
    table = onboardflow("templates", "list").output
    listed = json.loads(onboardflow("templates", "list", "--json").stdout)

    assert [item["name"] for item in listed] == [template.name for template in library()]
    assert all(set(item) == {"name", "description"} and item["description"] for item in listed)
    for template in library():
        assert template.name in table


def test_show_prints_the_description_parameters_and_step_graph():
    output = onboardflow("templates", "show", "consumable-replenishment").output

    assert "Consumable replenishment (skincare)" in output and "When to use:" in output
    assert "replenishment_days" in output and "a whole number from 7 to 180" in output
    assert (
        "use-it-up wait 4w2d" in output
        and "wait until 10:00 local time" in output
        and "reminder send email, sms: replenish_reminder (promotion)" in output
    )
    assert "on_timeout → done (above)" in output


def test_show_writes_the_graph_with_the_traffic_of_the_proof_run(tmp_path: Path):
    svg = tmp_path / "graph.svg"

    onboardflow("templates", "show", "support-follow-up", "--svg", svg)

    nodes = BeautifulSoup(svg.read_text(encoding="utf-8"), "html.parser").select("g.node")
    entrants = {node["data-step"]: int(node["data-entrants"]) for node in nodes}
    assert set(entrants) >= {"satisfaction-check", "team-lead", "thanks"} and all(entrants.values())


def test_new_writes_a_journey_and_its_messages_that_validate_and_simulate(tmp_path: Path):
    out = tmp_path / "journeys"
    said = onboardflow(
        "templates",
        "new",
        "first-purchase",
        "--param",
        "brand_name=Acme Skin",
        "--param",
        "late_after_days=9",
        "--out",
        out,
    ).output

    journey = out / "first-purchase.yaml"
    assert f"wrote {journey}" in said
    text = journey.read_text(encoding="utf-8")
    assert "timeout: 9d" in text and "#   brand_name = Acme Skin" in text
    assert "Acme Skin" in (out / "templates" / "first_purchase_confirmation.yaml").read_text(encoding="utf-8")
    assert "✓" in onboardflow("validate", out).output
    onboardflow("simulate", journey, "--customers", 400, "--days", 60, "--timelines", "none")


def test_new_refuses_to_overwrite_a_journey_without_force(tmp_path: Path):
    onboardflow("templates", "new", "support-follow-up", "--out", tmp_path)
    journey = tmp_path / "support-follow-up.yaml"
    journey.write_text(journey.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")

    refused = onboardflow("templates", "new", "support-follow-up", "--out", tmp_path, code=2)

    assert f"{journey} exists already: pass --force to overwrite it" in refused.output
    assert journey.read_text(encoding="utf-8").endswith("# my edit\n")
    onboardflow("templates", "new", "support-follow-up", "--out", tmp_path, "--force")
    assert not journey.read_text(encoding="utf-8").endswith("# my edit\n")


def test_two_templates_share_one_journeys_folder(tmp_path: Path):
    onboardflow("templates", "new", "first-purchase", "--out", tmp_path)
    onboardflow("templates", "new", "review-and-loyalty", "--out", tmp_path)

    assert "✗" not in onboardflow("validate", tmp_path).output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nope"], "no template 'nope'"),
        (
            ["first-purchase", "--param", "late_after_days=100"],
            "parameter 'late_after_days': 100 is out of range: give a whole number from 3 to 30",
        ),
        (["first-purchase", "--param", "brand"], "--param 'brand': write NAME=VALUE"),
        (
            ["first-purchase", "--param", "colour=red"],
            "parameter 'colour': first-purchase has no such parameter",
        ),
    ],
)
def test_new_refuses_what_it_cannot_use_and_writes_nothing(tmp_path: Path, args, said):
    refused = onboardflow("templates", "new", *args, "--out", tmp_path / "out", code=2)

    assert said in refused.output
    assert not (tmp_path / "out").exists()

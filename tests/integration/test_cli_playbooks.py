"""`onboardflow playbook ...`: the shipped playbooks from the command line, and one run on a journey version:
attach, status on evidence, rehearse, close by hand."""

from __future__ import annotations

import json

from test_cli import cli  # noqa: F401  (the fixture; tests/integration is on sys.path)
from tests.playbook_fixtures import UNDELIVERED_ORDER, WELCOME
from typer.testing import CliRunner

from onboardflow.cli import app

runner = CliRunner()


def test_list_names_every_playbook_and_json_is_for_scripts():
    listed = runner.invoke(app, ["playbook", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert {row["id"] for row in rows} >= {"customer-success-onboarding-optimisation", "revops-onboarding-optimisation",
                                          "customer-success-stakeholder-alignment", "agency-stakeholder-alignment"}
    table = runner.invoke(app, ["playbook", "list"])
    assert table.exit_code == 0 and "revops-onboarding-optimisation" in table.output


def test_show_prints_the_checklist_with_its_evidence_and_the_cadence():
    shown = runner.invoke(app, ["playbook", "show", "revops-onboarding-optimisation"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "a simulation of this exact version reached every exception path" in shown.output
    assert "support_signal_review" in shown.output and "Hand-off completion quality" in shown.output
    whole = json.loads(runner.invoke(app, ["playbook", "show", "revops-onboarding-optimisation", "--json"]).output)
    assert whole["kpis"][0] == "pipeline_conversion_stability" and len(whole["cadence"]) == 7


def test_an_unknown_playbook_or_a_bad_team_file_exits_1_with_what_to_fix(tmp_path):
    missing = runner.invoke(app, ["playbook", "show", "sales"])
    assert missing.exit_code == 1 and "no playbook 'sales'" in missing.output
    (tmp_path / "ours.yaml").write_text("id: ours\nname: Ours\n")
    bad = runner.invoke(app, ["playbook", "list", "--dir", str(tmp_path)])
    assert bad.exit_code == 1 and "ours.yaml" in bad.output and "role" in bad.output




def test_attach_status_rehearse_and_close_from_the_command_line(cli):  # noqa: F811
    cli("init")
    cli("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "author")
    cli("user", "add", "cs-lead@shop.example", "--name", "Cy", "--roles", "owner,reviewer")
    cli("user", "add", "bo@shop.example", "--name", "Bo", "--roles", "support")
    (cli.folder / "welcome.yaml").write_text(WELCOME)
    cli("load", "welcome.yaml", "--as", "ana@shop.example")

    attached = cli("playbook", "attach", "welcome", "1", "revops-onboarding-optimisation",
                   "--post-launch-owner", "bo@shop.example", "--as", "ana@shop.example")
    assert "5 risks in the register" in attached.stdout and "1 questions in the review" in attached.stdout
    before = json.loads(cli("playbook", "status", "welcome", "1", "--json", "--as", "bo@shop.example").stdout)
    open_items = {i["item"] for i in before["checklist"] if not i["closed"]}
    assert {"handoff-rehearsed", "messaging-alignment", "crm-fields"} <= open_items
    assert before["checkpoints"] == [] and before["kpis"][0]["kpi"] == "pipeline_conversion_stability"

    (cli.folder / "scenario.jsonl").write_text(json.dumps(UNDELIVERED_ORDER) + "\n")
    rehearsed = cli("playbook", "rehearse", "welcome", "1", "--events", "scenario.jsonl", "--as", "bo@shop.example")
    assert "1 tasks opened, 1 resolved by bo@shop.example" in rehearsed.stdout
    (cli.folder / "broken.jsonl").write_text('{"id": "x"\n')
    assert "line 1" in cli("playbook", "rehearse", "welcome", "1", "--events", "broken.jsonl",
                           "--as", "bo@shop.example", code=2).stderr
    refused = cli("playbook", "close", "welcome", "1", "handoff-rehearsed", "--note", "done",
                  "--as", "bo@shop.example", code=1)
    assert "not by hand" in refused.stderr
    cli("playbook", "close", "welcome", "1", "crm-fields", "--note", "agreed with sales ops on 2 March",
        "--as", "bo@shop.example")
    after = json.loads(cli("playbook", "status", "welcome", "1", "--json", "--as", "bo@shop.example").stdout)
    closed = {i["item"] for i in after["checklist"] if i["closed"]}
    assert {"handoff-rehearsed", "crm-fields"} <= closed

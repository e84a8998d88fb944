"""`onboardflow playbook list|show`: the shipped playbooks from the command line."""

from __future__ import annotations

import json

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

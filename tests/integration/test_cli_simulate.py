"""`onboardflow simulate` and `onboardflow replay` as a user runs them: files in, JSON and HTML out, the
exit code saying whether every acceptance criterion held; the Olist sample replayed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from onboardflow.cli import app
from onboardflow.engine.ingest import event_to_json
from onboardflow.integrations.mapping import RowError
from onboardflow.integrations.olist import olist_events
from shared_data import SHARED_DATA

EXAMPLES = Path(__file__).parents[2] / "src" / "onboardflow" / "examples"
OLIST = SHARED_DATA / "olist-sample"
LATE_ESCALATION = """\
id: delivery-exception
name: Late delivery escalation
owner: cs-lead@shop.example
trigger: {event: Order Delivered, where: event.late == true}
reentry: always concurrent
steps:
  - id: tell-support
    escalate: {queue: support, reason: delivery late, priority: high, due: 48h}
acceptance:
  - escalated: {event: Order Delivered, where: event.late == true, within: 1h}
"""


def onboardflow(folder: Path, *args: object, code: int = 0):
    result = CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=False)
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "journeys").mkdir()
    for path in EXAMPLES.glob("*.yaml"):
        (tmp_path / "journeys" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_simulate_writes_the_json_result_and_the_report_and_exits_0_when_every_criterion_holds(folder):
    result = onboardflow(
        folder,
        "simulate",
        "journeys",
        "--customers",
        60,
        "--days",
        20,
        "--seed",
        4,
        "--json",
        "result.json",
        "--html",
        "report.html",
    )

    document = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert [v["passed"] for v in document["acceptance"]] == [True, True]  # each example states one criterion
    assert document["run"]["customers"] == 60 and document["steps"]["first-purchase-welcome"]["welcome"] > 0
    assert all(m["at"].endswith("Z") for m in document["messages"])
    assert (folder / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "wrote result.json" in result.stdout and "acceptance criteria" in result.stdout


def test_the_same_seed_writes_the_same_bytes(folder):
    for name in ("a", "b"):
        onboardflow(
            folder,
            "simulate",
            "journeys",
            "--customers",
            40,
            "--days",
            15,
            "--seed",
            9,
            "--json",
            f"{name}.json",
            "--html",
            f"{name}.html",
        )

    assert (folder / "a.json").read_bytes() == (folder / "b.json").read_bytes()
    assert (folder / "a.html").read_bytes() == (folder / "b.html").read_bytes()


def test_a_failing_criterion_exits_1_and_names_the_customers_who_break_it(folder):
    path = folder / "journeys" / "first-purchase-welcome.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "{max_messages: 4, within: 7d}", "{max_messages: 1, within: 7d}"
        ),
        encoding="utf-8",
    )

    result = onboardflow(
        folder, "simulate", "journeys", "--customers", 40, "--days", 20, "--json", "r.json", code=1
    )

    [verdict] = [v for v in json.loads((folder / "r.json").read_text(encoding="utf-8"))["acceptance"]
                 if v["journey_id"] == "first-purchase-welcome"]
    assert not verdict["passed"] and verdict["counterexamples"]
    for example in verdict["counterexamples"]:
        assert example["customer_id"] in result.stdout
        assert (
            len([e for e in example["timeline"] if e["kind"] == "message" and e["status"] == "delivered"]) > 1
        )


def test_a_bad_journey_or_persona_is_refused_with_what_to_fix_and_exit_2(folder):
    (folder / "broken.yaml").write_text(
        "id: broken\nname: B\nowner: o@x\ntrigger: {event: X}\nsteps:\n  - id: a\n    wait: soon\n",
        encoding="utf-8",
    )
    result = onboardflow(folder, "simulate", "broken.yaml", code=2)
    assert "broken.yaml:7: step 'a': field wait: 'soon' is not a duration" in result.stderr

    result = onboardflow(folder, "simulate", "journeys", "--persona", "tourist", code=2)
    assert "no persona 'tourist'" in result.stderr


def test_personas_prints_the_built_ins_to_edit_and_simulate_takes_them_back(folder):
    onboardflow(folder, "personas", "--out", "mine.yaml")
    text = (folder / "mine.yaml").read_text(encoding="utf-8")
    (folder / "mine.yaml").write_text(text.replace("weight: 20", "weight: 0.001"), encoding="utf-8")

    onboardflow(
        folder,
        "simulate",
        "journeys",
        "--customers",
        30,
        "--days",
        10,
        "--personas",
        "mine.yaml",
        "--persona",
        "wholesale",
        "--persona",
        "subscriber",
        "--json",
        "r.json",
    )

    document = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    assert (
        set(document["personas"]) <= {"wholesale", "subscriber"} and sum(document["personas"].values()) == 30
    )


def test_show_prints_a_customers_timeline(folder):
    result = onboardflow(folder, "simulate", "journeys", "--customers", 10, "--days", 10, "--show", "c_00003")

    assert "timeline of c_00003" in result.stdout
    assert "event    name=" in result.stdout


# replay


def olist_jsonl(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for item in olist_events(OLIST):
            if not isinstance(item, RowError):
                out.write(json.dumps(event_to_json(item)) + "\n")
    return path


def late_orders_in_the_csv() -> set[str]:
    """Counted straight from the CSV: delivered on a later day than the estimated date."""
    with (OLIST / "olist_orders_dataset.csv").open(encoding="utf-8", newline="") as handle:
        return {
            row["order_id"]
            for row in csv.DictReader(handle)
            if row["order_delivered_customer_date"]
            and row["order_estimated_delivery_date"]
            and row["order_delivered_customer_date"][:10] > row["order_estimated_delivery_date"][:10]
        }


@pytest.mark.slow
def test_replaying_the_olist_sample_escalates_exactly_the_orders_delivered_after_their_estimate(folder):
    (folder / "late.yaml").write_text(LATE_ESCALATION, encoding="utf-8")
    events = olist_jsonl(folder / "olist.jsonl")

    onboardflow(
        folder,
        "replay",
        "late.yaml",
        "--events",
        events,
        "--json",
        "r.json",
        "--html",
        "r.html",
        "--timelines",
        "none",
    )

    document = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    escalated = [task["order_id"] for task in document["tasks"]]
    late = late_orders_in_the_csv()
    assert len(late) > 100
    assert len(escalated) == len(set(escalated)) == len(late)
    assert set(escalated) == late
    assert [v["passed"] for v in document["acceptance"]] == [True]
    assert document["run"]["kind"] == "replay" and document["messages"] == []


def test_replay_stops_the_clock_at_until_and_reports_bad_lines(folder):
    (folder / "late.yaml").write_text(LATE_ESCALATION, encoding="utf-8")
    lines = [
        {
            "id": "e1",
            "name": "Order Delivered",
            "customer_id": "c1",
            "at": "2026-03-02T10:00:00Z",
            "properties": {"order_id": "o1", "late": True},
        },
        {
            "id": "e2",
            "name": "Order Delivered",
            "customer_id": "c2",
            "at": "2026-03-05T10:00:00Z",
            "properties": {"order_id": "o2", "late": True},
        },
        {"id": "e3", "name": "Order Delivered", "customer_id": "c3", "at": "2026-03-02T11:00:00"},
    ]
    (folder / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    result = onboardflow(
        folder,
        "replay",
        "late.yaml",
        "--events",
        "events.jsonl",
        "--until",
        "2026-03-03T00:00:00Z",
        "--json",
        "r.json",
        code=1,
    )

    assert "events.jsonl:line 3:" in result.stderr and "1 line(s) rejected" in result.stderr
    document = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    assert [task["order_id"] for task in document["tasks"]] == ["o1"]
    assert document["run"]["events_after_until"] == 1


def test_the_json_schema_knows_every_criterion_kind_and_refuses_a_sentence(folder):
    schema = json.loads(onboardflow(folder, "schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    journey = yaml.safe_load((EXAMPLES / "first-purchase-welcome.yaml").read_text(encoding="utf-8"))

    journey["acceptance"] = [
        {"max_messages": 4, "within": "7d"}, {"no_promotion_before": "Order Delivered"},
        {"escalated": {"event": "Order Delivered", "where": "event.late == true", "within": "1h"}},
        {"reached": {"step": "usage-tips", "share": "60%"}}, {"goal_rate": 5, "name": "repeat"},
        {"every_customer": "summary.tasks <= 1"},
    ]
    assert list(validator.iter_errors(journey)) == []
    journey["acceptance"] = ["no customer receives more than 4 messages in the first 7 days"]
    assert list(validator.iter_errors(journey))

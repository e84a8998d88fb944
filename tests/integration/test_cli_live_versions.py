"""`onboardflow load` with a migrating version, `pause`, `resume` and the journeys in `status`, in-process on
a SQLite store in a temporary folder."""

from __future__ import annotations

import json
import re
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onboardflow.cli import app
from test_cli import go_live  # tests/integration is on sys.path


def review_and_launch(cli, *, code: int = 0):
    """The way a version goes live: loaded as a draft, submitted, approved by the owner on a simulation,
    launched by the owner."""
    cli("load", "onboarding.yaml", "--as", "ana@shop.example")
    cli("review", "submit", "onboarding", "2", "--as", "ana@shop.example")
    cli("review", "approve", "onboarding", "2", "--customers", "20", "--days", "7", "--as", "cs@shop.example")
    return cli("review", "launch", "onboarding", "2", "--as", "cs@shop.example", code=code)

JOURNEY = """\
id: onboarding
name: Onboarding
owner: cs@shop.example
trigger: {{event: Signed Up}}
{migrate}
steps:
  - {{id: hello, send: {{channel: email, template: hello}}}}
  - {{id: settle, wait: 3d}}
  - {{id: tips, send: {{channel: email, template: tips}}}}
acceptance:
  - {{max_messages: 3, within: 7d}}
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ONBOARDFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/onboardflow.db")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    terminate = signal.getsignal(signal.SIGTERM)

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
        return result

    invoke("init", "--no-examples")
    Path("onboarding.yaml").write_text(JOURNEY.format(migrate=""))
    go_live(f"sqlite:///{Path.cwd()}/onboardflow.db", Path("onboarding.yaml"))
    invoke("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "author")
    invoke("user", "add", "cs@shop.example", "--name", "Cy", "--roles", "owner")
    yield invoke
    signal.signal(signal.SIGTERM, terminate)


def sign_up(cli, customer_id: str) -> None:
    line = {"id": f"signup-{customer_id}", "name": "Signed Up", "customer_id": customer_id,
            "at": datetime.now(UTC).isoformat()}
    Path("events.jsonl").write_text(json.dumps(line) + "\n")
    cli("ingest", "events.jsonl")


def journeys_row(output: str) -> str:
    return output.split("journeys")[-1]


def test_pause_then_status_shows_it_paused_and_a_second_pause_changes_nothing(cli):
    first = cli("pause", "onboarding")
    again = cli("pause", "onboarding")

    assert re.fullmatch(r"paused: onboarding \(since \d{4}-\d\d-\d\d \d\d:\d\d UTC\)\n", first.stdout)
    assert again.stdout == first.stdout
    paused = r"onboarding\s*│\s*1\s*│\s*paused since [\d: -]+UTC\s*│\s*0"
    assert re.search(paused, journeys_row(cli("status").stdout))


def test_a_paused_journey_enrolls_nobody_and_resume_lets_it_run_again(cli):
    cli("pause", "onboarding")
    sign_up(cli, "c1")

    resumed = cli("resume", "onboarding")
    sign_up(cli, "c2")

    assert resumed.stdout == "resumed: onboarding; applied 0 held event(s) and 0 due timer(s)\n"
    status = cli("status").stdout
    assert re.search(r"onboarding\s*│\s*1\s*│\s*settle\s*│\s*active\s*│\s*1", status)  # c2 alone
    assert re.search(r"onboarding\s*│\s*1\s*│\s*live\s*│\s*0", journeys_row(status))


def test_resuming_a_running_journey_and_pausing_an_unknown_one_fail_saying_why(cli):
    not_paused = cli("resume", "onboarding", code=1)
    unknown = cli("pause", "nope", code=1)

    assert "journey 'onboarding' is not paused: nothing to resume" in not_paused.stderr
    assert "no journey 'nope': the journeys are: onboarding" in unknown.stderr


def test_load_of_a_migrating_version_says_how_many_customers_moved(cli):
    sign_up(cli, "c1")
    Path("onboarding.yaml").write_text(
        JOURNEY.format(migrate="migrate: {from_version: 1, steps: {settle: settle}}").replace("3d", "2d")
    )

    result = review_and_launch(cli)

    assert result.stdout == "live: onboarding v2 for 100% of triggered customers, 1 customer(s) moved from v1\n"
    assert re.search(r"onboarding\s*│\s*2\s*│\s*settle\s*│\s*active\s*│\s*1", cli("status").stdout)


def test_load_of_a_migration_the_stored_versions_refute_publishes_nothing(cli):
    mapping = "migrate: {from_version: 1, steps: {hello: tips}}"
    Path("onboarding.yaml").write_text(JOURNEY.format(migrate=mapping))

    result = review_and_launch(cli, code=1)

    assert "✗ journey onboarding v2: field migrate.steps.hello: 'hello' is a send step" in result.stderr
    assert "live:" not in result.stdout
    assert re.search(r"onboarding\s*│\s*1\s*│\s*live", journeys_row(cli("status").stdout))

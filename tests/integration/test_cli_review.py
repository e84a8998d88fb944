"""`onboardflow review`: the whole way from draft to live through the CLI, each refusal saying every
reason, and the packet and log."""

from __future__ import annotations

import json

import pytest
from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)

from onboardflow.store.sql import open_store

JOURNEY = """\
id: hello
name: Hello
owner: cs-lead@shop.example
trigger: {{event: Signed Up}}
steps:
  - {{id: welcome, send: {{channel: email, template: account_welcome, purpose: transactional}}}}
  - {{id: settle, wait: {wait}}}
acceptance:
  - {{max_messages: 3, within: 7d}}
"""
AUTHOR = ("--as", "ana@shop.example")
OWNER = ("--as", "cs-lead@shop.example")
SIM = ("--customers", "20", "--days", "7")


@pytest.fixture
def team(cli: Cli) -> Cli:
    cli("init", "--no-examples")
    cli("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "author")
    cli("user", "add", "cs-lead@shop.example", "--name", "Cy", "--roles", "owner,reviewer")
    cli("user", "add", "sam@shop.example", "--name", "Sam", "--roles", "support")
    (cli.folder / "hello.yaml").write_text(JOURNEY.format(wait="2d"))
    return cli


def live_version(cli: Cli) -> int | None:
    store = open_store(cli.url)
    try:
        return next((s.live_version for s in store.journeys() if s.rollout_percent > 0), None)
    finally:
        store.close()


def status(cli: Cli) -> dict:
    return json.loads(cli("review", "status", "hello", "--json").stdout)


def test_draft_to_live_through_every_gate(team: Cli):
    assert "draft: hello v1" in team("load", "hello.yaml", *AUTHOR).stdout
    refused = team("review", "launch", "hello", "1", *OWNER, code=1)
    assert "hello v1 is draft: launch needs it approved" in refused.stderr and live_version(team) is None

    team("review", "submit", "hello", "1", *AUTHOR)
    team("review", "comment", "hello", "1", "why email?", "--kind", "question", "--step", "welcome", *OWNER)
    team("review", "risk", "hello", "1", "late parcels", "--impact", "high", *OWNER)
    gate = team("review", "approve", "hello", "1", *SIM, *OWNER, code=1)
    assert gate.stderr.count("✗") == 3
    assert "is open on step 'welcome'" in gate.stderr and "has no owner" in gate.stderr
    assert "has no fallback plan" in gate.stderr

    [comment], [risk] = status(team)["open_comments"], status(team)["open_risks"]
    team("review", "resolve", "hello", comment, "--outcome", "accepted", "--rationale", "reaches all", *OWNER)
    team(
        "review",
        "risk",
        "hello",
        "1",
        "--update",
        risk,
        "--owner",
        "cs-lead@shop.example",
        "--fallback",
        "pause it",
        *OWNER,
    )
    approved = team("review", "approve", "hello", "1", *SIM, *OWNER)
    assert (
        "hello v1 approved by cs-lead@shop.example: 1 acceptance criteria pass (seed 1, 20 customers)"
        in approved.stdout
    )
    launched = team("review", "launch", "hello", "1", "--share", "10%", *OWNER)
    assert "live: hello v1 for 10% of triggered customers" in launched.stdout and live_version(team) == 1
    assert "now lets in 50%" in team("review", "step-up", "hello", "50%", *OWNER).stdout

    log = [json.loads(line) for line in team("review", "log", "hello", "--json").stdout.splitlines()]
    assert [e["action"] for e in log] == [
        "draft",
        "submit",
        "comment",
        "risk",
        "approval-refused",
        "decide",
        "risk-update",
        "approve",
        "launch",
        "step-up",
    ]
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)


def test_the_author_cannot_approve_and_a_support_agent_cannot_review(team: Cli):
    team("load", "hello.yaml", *AUTHOR)
    team("review", "submit", "hello", "1", *AUTHOR)

    author = team("review", "approve", "hello", "1", *SIM, *AUTHOR, code=1)
    support = team("review", "comment", "hello", "1", "hi", "--as", "sam@shop.example", code=3)
    nobody = team("review", "submit", "hello", "1", code=1)

    assert "only the journey's named owner (cs-lead@shop.example) approves it" in author.stderr
    assert "needs the role author or reviewer or owner" in support.stderr
    assert "--as EMAIL, or set ONBOARDFLOW_USER" in nobody.stderr


def test_a_change_makes_a_new_draft_the_approval_stays_with_the_old_content_and_rollback_returns(team: Cli):
    team("load", "hello.yaml", *AUTHOR)
    team("review", "submit", "hello", "1", *AUTHOR)
    team("review", "approve", "hello", "1", *SIM, *OWNER)
    team("review", "launch", "hello", "1", *OWNER)
    (team.folder / "hello.yaml").write_text(JOURNEY.format(wait="3d"))

    assert "draft: hello v2" in team("load", "hello.yaml", *AUTHOR).stdout
    assert (
        "hello v2 is draft: launch needs it approved"
        in team("review", "launch", "hello", "2", *OWNER, code=1).stderr
    )
    team("review", "submit", "hello", "2", *AUTHOR)
    team("review", "approve", "hello", "2", *SIM, *OWNER)
    team("review", "launch", "hello", "2", *OWNER)
    assert live_version(team) == 2

    assert "hello v1 is live" in team("review", "rollback", "hello", *OWNER).stdout
    assert live_version(team) == 1
    versions = {row["version"]: row["status"] for row in status(team)["versions"]}
    assert versions == {1: "live", 2: "retired"}


def test_the_packet_has_the_diff_simulation_comments_decisions_and_risks(team: Cli):
    team("load", "hello.yaml", *AUTHOR)
    team("review", "submit", "hello", "1", *AUTHOR)
    team("review", "approve", "hello", "1", *SIM, *OWNER)
    team("review", "launch", "hello", "1", *OWNER)
    (team.folder / "hello.yaml").write_text(JOURNEY.format(wait="3d"))
    team("load", "hello.yaml", *AUTHOR)
    team("review", "comment", "hello", "2", "longer wait?", "--kind", "change_request", *OWNER)
    team(
        "review", "risk", "hello", "2", "late parcels", "--impact", "critical", "--due", "2020-01-01", *OWNER
    )

    team("review", "packet", "hello", "--out", "packet.md")

    text = (team.folder / "packet.md").read_text()
    assert "# Review packet: Hello (hello v2)" in text
    assert "## Changes against the live version (v1)" in text
    assert "-  wait: 2d\n+  wait: 3d" in text
    assert "No approval yet" in text
    assert "change request (blocks approval)" in text and "longer wait?" in text
    assert "| critical | **no owner** | 2020-01-01 00:00 **OVERDUE** | **no fallback** | open |" in text

"""The `onboardflow` command in-process, on a SQLite store in a temporary folder."""

from __future__ import annotations

import json
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from onboardflow.catalog import example_files
from onboardflow.cli import app
from onboardflow.core.model import Event
from onboardflow.demo import shop_events
from onboardflow.engine.ingest import event_to_json
from onboardflow.store.sql import open_store

EXAMPLES = Path(__file__).parents[2] / "src" / "onboardflow" / "examples"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROFILE = {"email": "ana@example.com", "phone": "+15551234567", "country": "US", "traits": {"type": "retail"}}

BAD_JOURNEY = """\
id: bad-journey
name: Bad
owner: growth@shop.example
trigger: {event: Signed Up}
steps:
  - id: hello
    send: {channel: email, template: hi, purpose: spam}
  - id: pause
    wait: forever
"""


class Cli:
    """Runs commands the way a user types them, in `folder`, against the store at `url`."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, env: dict[str, str] | None = None):
        result = self.runner.invoke(app, [str(arg) for arg in args], env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
        return result

    def live(self, *paths: str | Path) -> None:
        """Make journey files live through the engine's own path, past review and approval: for tests of
        what runs once a journey is live (tests/integration/test_cli_review.py walks the real way)."""
        go_live(self.url, *(self.folder / path for path in paths))

    def counts(self) -> dict[str, int]:
        store = open_store(self.url)
        try:
            return store.counts()
        finally:
            store.close()


def go_live(url: str, *paths: Path) -> None:
    from onboardflow.catalog import load_journey_files
    from onboardflow.engine.clock import SystemClock
    from onboardflow.engine.engine import Engine

    loaded, problems = load_journey_files(list(paths))
    assert not problems, problems
    store = open_store(url)
    try:
        engine = Engine(store, clock=SystemClock())
        for source, version in loaded:
            engine.publish(version, source=str(source))
    finally:
        store.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    url = f"sqlite:///{tmp_path}/onboardflow.db"
    monkeypatch.setenv("ONBOARDFLOW_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    terminate = signal.getsignal(signal.SIGTERM)
    yield Cli(tmp_path, url)
    signal.signal(signal.SIGTERM, terminate)  # `run` installs its own handler in this process


def write_events(path: Path, events: list[Event]) -> Path:
    path.write_text("".join(json.dumps(event_to_json(event)) + "\n" for event in events), encoding="utf-8")
    return path


def first_orders(count: int) -> list[Event]:
    """`count` first orders from US customers: each starts the first-purchase journey and sends a welcome."""
    return [
        Event(f"ord-{n}", "Order Completed", f"c{n}", T0 + timedelta(minutes=n),
              {"order_id": f"o{n}", "total": 40.0}, PROFILE)
        for n in range(count)
    ]


def status_counts(output: str) -> dict[str, int]:
    """The counts table of `status`, read back: one `name │ value` row per count, names as the store's."""
    table = output.split("enrollments by step")[0]
    rows = re.findall(r"│ ([a-z ]+?)\s*│\s*(\d+) │", table)
    return {name.replace(" ", "_"): int(value) for name, value in rows}


# validate and schema


def test_validate_accepts_the_example_journeys(cli):
    result = cli("validate", EXAMPLES)

    assert "✓" in result.stdout
    for name, _ in example_files():
        assert name in result.stdout
    assert "first-purchase-welcome (9 steps)" in result.stdout


def test_validate_names_file_line_step_and_field_of_each_problem(cli):
    (cli.folder / "bad.yaml").write_text(BAD_JOURNEY)

    result = cli("validate", "bad.yaml", code=1)

    assert "bad.yaml:7: step 'hello': field send.purpose:" in result.stderr
    assert "bad.yaml:9: step 'pause': field wait: 'forever' is not a duration" in result.stderr
    [pause] = [line for line in result.stderr.splitlines() if "bad.yaml:9" in line]
    assert pause.endswith("e.g. 90m, 36h, 10d")  # one problem, one line, however long


def test_validate_fails_when_any_file_is_bad_and_still_reports_the_good(cli):
    (cli.folder / "bad.yaml").write_text(BAD_JOURNEY)

    result = cli("validate", "bad.yaml", EXAMPLES, code=1)

    assert "✗ bad.yaml:7" in result.stderr
    assert "✓" in result.stdout and "signup-activation" in result.stdout


def test_validate_of_a_folder_without_journeys_fails(cli):
    (cli.folder / "empty").mkdir()

    result = cli("validate", "empty", code=1)

    assert "no journey files found" in result.stderr


def test_validate_reports_a_file_that_is_not_yaml(cli):
    (cli.folder / "broken.yaml").write_text("id: x\nsteps: [\n")

    result = cli("validate", "broken.yaml", code=1)

    assert "broken.yaml:" in result.stderr
    assert "not valid YAML" in result.stderr


def test_schema_is_a_json_schema_the_examples_satisfy(cli):
    schema = json.loads(cli("schema").stdout)

    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name, text in example_files():
        assert list(validator.iter_errors(yaml.safe_load(text))) == [], name
    assert not validator.is_valid(yaml.safe_load(BAD_JOURNEY))
    assert not validator.is_valid({**yaml.safe_load(example_files()[0][1]), "colour": "red"})


def test_schema_can_be_written_to_a_file(cli):
    cli("schema", "--out", "journey.schema.json")

    schema = json.loads((cli.folder / "journey.schema.json").read_text())
    assert schema["title"] == "onboardflow journey"


# init and load


def test_init_creates_the_store_and_writes_the_examples(cli):
    result = cli("init")

    assert (cli.folder / "onboardflow.db").exists()
    assert "store ready" in result.stdout
    written = sorted(path.name for path in (cli.folder / "journeys").iterdir() if path.is_file())
    assert written == [name for name, _ in example_files()]
    templates = sorted(path.name for path in (cli.folder / "journeys" / "templates").iterdir())
    assert templates == [name for name, _ in example_files("examples/templates")]
    assert "welcome.yaml" in templates
    assert cli.counts()["events"] == 0


def test_init_again_leaves_edited_journeys_alone(cli):
    cli("init")
    edited = cli.folder / "journeys" / "signup-activation.yaml"
    edited.write_text(edited.read_text().replace("Signup to first login", "Signup, edited"))

    result = cli("init")

    assert "wrote" not in result.stdout
    assert "Signup, edited" in edited.read_text()


def test_init_without_examples_writes_no_journeys(cli):
    cli("init", "--no-examples")

    assert not (cli.folder / "journeys").exists()
    assert (cli.folder / "onboardflow.db").exists()


def add_author(cli) -> None:
    cli("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "author")


def test_load_makes_drafts_not_live_and_the_same_content_keeps_its_version(cli):
    cli("init")
    add_author(cli)

    first = cli("load", "journeys", "--as", "ana@shop.example")
    again = cli("load", "journeys", "--as", "ana@shop.example")

    assert "draft: first-purchase-welcome v1" in first.stdout and "draft: signup-activation v1" in first.stdout
    assert "unchanged (draft): first-purchase-welcome v1" in again.stdout
    assert "unchanged (draft): signup-activation v1" in again.stdout
    store = open_store(cli.url)
    try:
        assert store.live_versions() == [] and store.journeys() == []
    finally:
        store.close()


def test_load_of_changed_content_makes_a_new_draft(cli):
    cli("init")
    add_author(cli)
    cli("load", "journeys", "--as", "ana@shop.example")
    changed = cli.folder / "journeys" / "signup-activation.yaml"
    changed.write_text(changed.read_text().replace("timeout: 3d", "timeout: 4d"))

    result = cli("load", "journeys", env={"ONBOARDFLOW_USER": "ana@shop.example"})

    assert "draft: signup-activation v2" in result.stdout
    assert "unchanged (draft): first-purchase-welcome v1" in result.stdout


def test_load_says_who_to_act_as(cli):
    cli("init")

    result = cli("load", "journeys", code=1)

    assert "--as EMAIL, or set ONBOARDFLOW_USER" in result.output


def test_load_with_a_bad_file_makes_nothing_live(cli):
    cli("init")
    (cli.folder / "journeys" / "bad.yaml").write_text(BAD_JOURNEY)

    result = cli("load", "journeys", code=1)

    assert "bad.yaml:7" in result.stderr
    assert "live:" not in result.stdout
    store = open_store(cli.url)
    try:
        assert store.live_versions() == []
    finally:
        store.close()


# ingest


@pytest.fixture
def loaded(cli) -> Cli:
    cli("init")
    cli.live("journeys")
    return cli


def mixed_file(folder: Path) -> tuple[Path, list[str]]:
    """Good and bad lines mixed; returns the file and its bad lines, as written."""
    good = [json.dumps(event_to_json(event)) for event in first_orders(3)]
    bad = [
        json.dumps({"id": "x1", "name": "Order Completed", "customer_id": "c9", "at": "2026-03-02T10:00:00"}),
        "{this is not json",
        json.dumps({"id": "x3", "name": "Signed Up", "customer_id": "c9", "at": "2026-03-02T10:00:00Z",
                    "colour": "red"}),
        json.dumps(["Order Completed", "c9"]),
    ]
    lines = [good[0], bad[0], bad[1], good[1], "", bad[2], bad[3], good[2]]
    path = folder / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, bad


def test_ingest_reports_each_bad_line_and_processes_the_good_ones(loaded):
    path, _ = mixed_file(loaded.folder)

    result = loaded("ingest", path.name, code=1)

    assert "events.jsonl:line 2: 'at' has no time zone" in result.stderr
    assert "events.jsonl:line 3: not valid JSON" in result.stderr
    assert "events.jsonl:line 6: unknown field 'colour'" in result.stderr
    assert "events.jsonl:line 7: an event is a JSON object" in result.stderr
    assert "line 5" not in result.stderr  # the blank line is no error
    [colour] = [line for line in result.stderr.splitlines() if line.startswith("events.jsonl:line 6:")]
    assert colour.endswith("put extra data in properties)")  # one bad line, one line of report
    assert "4 line(s) rejected; the other lines were ingested" in result.stderr
    assert "3 event(s) processed, 0 duplicate(s) skipped, 3 enrollment(s) started" in result.stdout
    counts = loaded.counts()
    assert (counts["events"], counts["customers"], counts["enrollments"], counts["messages"]) == (3, 3, 3, 3)


def test_ingest_writes_exactly_the_bad_lines_to_the_rejects_file(loaded):
    path, bad = mixed_file(loaded.folder)

    loaded("ingest", path.name, "--rejects", "rejects.jsonl", code=1)

    assert (loaded.folder / "rejects.jsonl").read_text(encoding="utf-8").splitlines() == bad


def test_ingest_of_a_clean_file_exits_zero(loaded):
    path = write_events(loaded.folder / "clean.jsonl", first_orders(2))

    result = loaded("ingest", path.name, "--rejects", "rejects.jsonl")

    assert "2 event(s) processed" in result.stdout
    assert (loaded.folder / "rejects.jsonl").read_text() == ""


def test_ingesting_the_same_file_twice_creates_no_new_messages(loaded):
    path = write_events(loaded.folder / "events.jsonl", first_orders(4))
    loaded("ingest", path.name)
    before = loaded.counts()

    result = loaded("ingest", path.name)

    summary = "0 event(s) processed, 4 duplicate(s) skipped, 0 enrollment(s) started, 0 message(s) queued"
    assert summary in result.stdout
    assert loaded.counts() == before
    assert before["messages"] == 4


def test_ingest_in_small_batches_processes_every_line(loaded):
    path = write_events(loaded.folder / "events.jsonl", first_orders(7))

    loaded("ingest", path.name, "--batch-size", "2")

    assert loaded.counts()["events"] == 7


def test_ingest_of_a_missing_file_says_so(loaded):
    result = loaded("ingest", "nowhere.jsonl", code=2)

    assert "no such file: nowhere.jsonl" in result.stderr


def test_ingest_queue_then_run_until_idle_processes_them(loaded):
    path = write_events(loaded.folder / "events.jsonl", first_orders(5))

    queued = loaded("ingest", "--queue", path.name)
    assert "queued 5 event(s) for workers" in queued.stdout
    assert loaded.counts()["queued"] == 5

    worked = loaded("run", "--until-idle", "--poll", "0", "--quiet")

    summary = "worker done: 5 event(s), 0 timer(s) fired, 5 message(s) delivered, 0 deferred"
    assert summary in worked.stdout
    counts = loaded.counts()
    assert (counts["queued"], counts["events"], counts["messages"], counts["delivered"]) == (0, 5, 5, 5)


def test_run_without_quiet_prints_each_delivery(loaded):
    loaded("ingest", write_events(loaded.folder / "events.jsonl", first_orders(1)).name)

    worked = loaded("run", "--until-idle", "--poll", "0")

    line = "email    → ana@example.com: Thanks for your order, and welcome! (transactional)"
    assert line in worked.stdout


def test_a_queued_file_ingested_twice_is_queued_once(loaded):
    path = write_events(loaded.folder / "events.jsonl", first_orders(3))
    loaded("ingest", "--queue", path.name)

    again = loaded("ingest", "--queue", path.name)

    assert "queued 0 event(s)" in again.stdout
    assert loaded.counts()["queued"] == 3


# status and demo


def test_status_prints_the_counts_and_the_enrollments_by_step(loaded):
    loaded("ingest", write_events(loaded.folder / "events.jsonl", first_orders(2)).name)

    result = loaded("status")

    assert status_counts(result.stdout) == loaded.counts()
    assert status_counts(result.stdout)["events"] == 2
    row = r"first-purchase-welcome\s*│\s*1\s*│\s*await-delivery\s*│\s*active\s*│\s*2"
    assert re.search(row, result.stdout)


def test_status_of_a_new_store_shows_zeros(cli):
    cli("init", "--no-examples")

    counts = status_counts(cli("status").stdout)

    assert counts["events"] == 0 and counts["active_enrollments"] == 0
    assert len(counts) == 8


def test_demo_shows_the_journey_tree_and_the_delivered_messages(cli):
    result = cli("demo", "--no-serve", "--customers", "40", "--days", "20", "--database",
                 f"sqlite:///{cli.folder}/demo.db")

    out = result.stdout
    assert "journey live: first-purchase-welcome v1" in out
    assert "simulated shop: 40 customers" in out
    assert "first-purchase-welcome  trigger: Order Completed" in out
    assert "signup-activation  trigger: Signed Up" in out
    for step in ("welcome (send)", "await-delivery (wait_for)", "usage-tips (send)", "route (branch)"):
        assert step in out
    assert re.search(r"welcome \(send\)\s+✉ [1-9]\d* sent", out)
    assert re.search(r"email\s+→ c_\d+@example.com: Welcome", out)
    delivered = int(re.search(r"(\d+) messages delivered \(sandbox\)", out).group(1))
    assert delivered > 40
    assert "enrollments by journey and state" in out
    store = open_store(f"sqlite:///{cli.folder}/demo.db")
    try:
        assert store.counts()["delivered"] == delivered
    finally:
        store.close()


def test_demo_is_repeatable(cli):
    url = f"sqlite:///{cli.folder}/demo.db"

    first = cli("demo", "--no-serve", "--customers", "15", "--days", "10", "--database", url)
    second = cli("demo", "--no-serve", "--customers", "15", "--days", "10", "--database", url)

    assert first.stdout == second.stdout


def test_the_demo_stream_goes_through_ingest(loaded):
    events = shop_events(customers=10, days=10, seed=3)
    path = write_events(loaded.folder / "shop.jsonl", events)

    loaded("ingest", path.name)

    assert loaded.counts()["events"] == len(events)

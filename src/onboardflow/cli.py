"""The `onboardflow` command: one thin command per verb, each calling a service."""

from __future__ import annotations

import json
import signal
from dataclasses import asdict
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from onboardflow.analytics.commands import kpis as kpis_command
from onboardflow.analytics.commands import report_app
from onboardflow.catalog import check_templates, load_journey_files, write_examples
from onboardflow.channels.config import ChannelConfigError, build_channels, close_channels, load_channel_settings
from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.core.journey import Journey
from onboardflow.engine.clock import SystemClock
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import BatchResult, Engine
from onboardflow.engine.ingest import LineError, read_events
from onboardflow.engine.worker import run_worker, tune_garbage_collector
from onboardflow.escalation.commands import tasks_app
from onboardflow.governance.commands import review_app
from onboardflow.governance.people_commands import AsUser, user_app
from onboardflow.intelligence.commands import model_app
from onboardflow.intelligence.loading import recommender_for, scorer_for, sentiment_for
from onboardflow.intelligence.models import ModelFolder
from onboardflow.messages.loading import TemplatesInvalid, load_templates_strict
from onboardflow.messages.templates import TEMPLATES_FOLDER, TemplateSet
from onboardflow.outbound.deliverer import rules as outbound_rules
from onboardflow.outbound.cli import webhooks_app
from onboardflow.playbooks.commands import playbook_app
from onboardflow.policy_settings import PolicySettings
from onboardflow.settings import Settings
from onboardflow.templates.commands import templates_app

SANDBOX_CHANNELS = ("email", "sms", "whatsapp", "push", "in_app")

app = typer.Typer(help="Customer onboarding journeys for ecommerce stores.", no_args_is_help=True)
# soft_wrap: a long line stays one line, for grep and for editors that jump to file:line
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

Paths = Annotated[list[Path], typer.Argument(help="Journey files or folders of them (.yaml, .yml, .json)")]


def _open_store(url: str | None = None):
    from onboardflow.store.sql import open_store

    return open_store(url or Settings().database_url)


def _engine(url: str | None = None) -> Engine:
    """The engine on the store settings name, with the store's time zone for customers without one, the
    global escalation rules, and the trained models (each loaded only when first used)."""
    settings = Settings()
    rules = _escalation_rules(settings)
    folder = ModelFolder(settings.models_dir)
    return Engine(_open_store(url), clock=SystemClock(), default_zone=PolicySettings().store_timezone,
                  rules=rules, scorer=scorer_for(folder), sentiment=sentiment_for(folder, settings.sentiment))


def _escalation_rules(settings: Settings) -> list:
    if not settings.escalation_rules_file:
        return []
    from onboardflow.escalation.rules import RulesInvalid, load_rules

    try:
        return load_rules(Path(settings.escalation_rules_file))
    except RulesInvalid as invalid:
        for problem in invalid.problems:
            errors.print(f"✗ {problem}", highlight=False, markup=False)
        errors.print("fix ONBOARDFLOW_ESCALATION_RULES_FILE's rules (docs/escalation.md), then run it again")
        raise typer.Exit(1) from None


def _trained_scores() -> frozenset[str]:
    return ModelFolder(Settings().models_dir).scores()


@app.command()
def init(
    examples: Annotated[bool, typer.Option(help="Write the example journeys into the journeys folder")] = True,
) -> None:
    """Create (or upgrade) the store and write the example journeys."""
    settings = Settings()
    store = _open_store(settings.database_url)
    store.close()
    console.print(f"store ready: [bold]{_safe_url(settings.database_url)}[/]")
    if examples:
        for path in write_examples(Path(settings.journeys_dir)):
            console.print(f"wrote {path}")


@app.command()
def validate(paths: Paths) -> None:
    """Check journey files, and the templates/ folder beside them; print every problem. Exit 1 if any."""
    loaded, problems = load_journey_files(paths, scores=_trained_scores())
    templates = check_templates(loaded, segment_limit=Settings().sms_segment_limit)
    for problem in [*problems, *templates.problems]:
        errors.print(f"✗ {problem}", highlight=False, markup=False)
    for warning in templates.warnings:
        errors.print(f"! {warning}", highlight=False, markup=False)
    for source, version in loaded:
        console.print(f"✓ {source}: {version.id} ({len(version.journey.steps)} steps)", highlight=False)
    for folder, count in templates.folders:
        console.print(f"✓ {folder}: {count} template(s)", highlight=False)
    if problems or templates.problems or not loaded:
        if not loaded and not problems:
            errors.print("no journey files found: pass .yaml, .yml or .json files or folders holding them")
        raise typer.Exit(1)


@app.command()
def schema(out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None) -> None:
    """Print the JSON Schema of the journey format, for editor completion."""
    document = Journey.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "onboardflow journey"
    text = json.dumps(document, indent=2)
    if out:
        out.write_text(text + "\n")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def load(paths: Paths, as_user: AsUser = None) -> None:
    """Validate journey files and store each as a draft for review (`onboardflow review`); unchanged
    content keeps its version and status. Nothing goes live without an approval."""
    from onboardflow.governance.people import UnknownUser, find_user
    from onboardflow.governance.service import ReviewError, save_draft

    loaded, problems = load_journey_files(paths, scores=_trained_scores())
    for problem in problems:
        errors.print(f"✗ {problem}", highlight=False, markup=False)
    if problems:
        raise typer.Exit(1)
    store = _open_store()
    try:
        author = find_user(store, as_user)
        for source, version in loaded:
            review, is_new = save_draft(store=store, version=version, source=str(source), author=author,
                                        now=SystemClock().now())
            said = "draft" if is_new else f"unchanged ({review.status.replace('_', ' ')})"
            console.print(f"{said}: {review.journey_id} v{review.version} ({source})", highlight=False)
    except (UnknownUser, ReviewError) as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        store.close()


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="Events in the canonical shape, one JSON object a line")],
    queue: Annotated[bool, typer.Option(help="Queue the events for `run` workers instead of processing here")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000)] = 1000,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected lines here, to fix and ingest again")] = None,
) -> None:
    """Ingest events from a JSON-lines file; bad lines are reported and skipped, good ones processed."""
    if not file.exists():
        errors.print(f"no such file: {file}")
        raise typer.Exit(2)
    engine = _engine()
    bad = _ingest_file(engine, file, queue=queue, batch_size=batch_size, rejects=rejects)
    engine.store.close()
    if bad:
        errors.print(f"{bad} line(s) rejected; the other lines were ingested")
        raise typer.Exit(1)


def _ingest_file(engine: Engine, file: Path, *, queue: bool, batch_size: int, rejects: Path | None) -> int:
    total = BatchResult()
    queued = bad = 0
    rejected = rejects.open("w") if rejects else None
    read = [0]

    def counted(handle):
        for line in handle:
            read[0] += len(line)
            yield line

    with file.open(encoding="utf-8", errors="replace") as handle, _progress() as progress:
        task = progress.add_task(f"ingesting {file.name}", total=file.stat().st_size)
        batch = []
        for item in read_events(counted(handle)):
            if isinstance(item, LineError):
                bad += 1
                errors.print(f"{file}:{item}", highlight=False, markup=False)
                if rejected:
                    rejected.write(item.text + "\n")
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                queued += _flush(engine, batch, queue, total)
                progress.update(task, completed=read[0])
                batch = []
        queued += _flush(engine, batch, queue, total)
        progress.update(task, completed=file.stat().st_size)
    if rejected:
        rejected.close()
    if queue:
        console.print(f"queued {queued} event(s) for workers")
    else:
        console.print(
            f"{total.events} event(s) processed, {total.duplicates} duplicate(s) skipped, "
            f"{total.started} enrollment(s) started, {total.messages} message(s) queued"
        )
    return bad


def _flush(engine: Engine, batch: list, queue: bool, total: BatchResult) -> int:
    if not batch:
        return 0
    if queue:
        return engine.enqueue(batch)
    total.add(engine.ingest(batch))
    return 0


@app.command("import")
def import_history(
    source: Annotated[Path, typer.Argument(help="A CSV or JSON-lines file; with --olist, the folder of its files")],
    mapping: Annotated[Path | None, typer.Option(help="The column mapping (YAML) for a CSV or JSONL file")] = None,
    olist: Annotated[bool, typer.Option(help="SOURCE is the Olist dataset's folder: use the built-in mapping")] = False,
    out: Annotated[Path | None, typer.Option(help="Write canonical events (JSON lines) here, not to the store")] = None,
    journeys: Annotated[bool, typer.Option(help="Let the imported events move journeys (off: history only)")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000)] = 5000,
    rejects: Annotated[Path | None, typer.Option(help="Write each rejected row's line and reason here")] = None,
) -> None:
    """Backfill history from CSV or JSON lines (a column mapping, or the built-in Olist one); streaming."""
    from onboardflow.integrations.importer import import_events
    from onboardflow.integrations.mapping import MappingInvalid, load_mapping, map_rows, read_rows
    from onboardflow.integrations.olist import olist_events

    if olist == (mapping is not None):
        errors.print("say how to read the source: --mapping FILE, or --olist for the Olist dataset's folder")
        raise typer.Exit(2)
    try:
        if olist:
            items = olist_events(source)
        else:
            loaded = load_mapping(mapping)
            if not source.is_file():
                raise FileNotFoundError(f"no such file: {source}")
            items = map_rows(read_rows(source, loaded.format), loaded)
        _run_import(import_events, items, source, out, journeys, batch_size, rejects)
    except (MappingInvalid, FileNotFoundError) as error:
        errors.print(f"error: {error}", highlight=False)
        raise typer.Exit(2) from None


def _run_import(import_events, items, source: Path, out, journeys: bool, batch_size: int, rejects) -> None:
    engine = None if out else _engine()
    sink = out.open("w", encoding="utf-8") if out else None
    rejected = rejects.open("w", encoding="utf-8") if rejects else None
    try:
        with _progress() as progress:
            task = progress.add_task(f"importing {source.name}", total=None)
            summary = import_events(
                items, engine=engine, out=sink, journeys=journeys, batch_size=batch_size,
                on_rejected=(lambda error: rejected.write(f"{error}\n")) if rejected else None,
                on_progress=lambda rows: progress.update(task, completed=rows) if rows % 500 == 0 else None,
            )
    finally:
        for handle in (sink, rejected):
            if handle:
                handle.close()
        if engine:
            engine.store.close()
    _print_import_summary(summary, out)
    if summary.rejected:
        raise typer.Exit(1)


def _print_import_summary(summary, out: Path | None) -> None:
    table = Table(title=f"imported {summary.taken} event(s), rejected {summary.rejected} row(s)")
    table.add_column("event")
    table.add_column("taken", justify="right")
    for name, number in sorted(summary.by_event.items()):
        table.add_row(name, str(number))
    console.print(table)
    if out:
        console.print(f"wrote {out}")
    else:
        done = summary.processed
        console.print(f"{done.events} event(s) stored, {done.duplicates} already there")
    for reason, number in summary.reasons.most_common(10):
        errors.print(f"rejected {number}: {reason}", highlight=False, markup=False)
    for example in summary.examples:
        errors.print(f"  e.g. {example}", highlight=False, markup=False)


@app.command()
def run(
    until_idle: Annotated[bool, typer.Option(help="Stop when the queue is empty and nothing is due")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000)] = 1000,
    partitions: Annotated[int, typer.Option(min=1, max=64, help="Partitions claimed per round")] = 16,
    poll: Annotated[float, typer.Option(help="Seconds to sleep when there is nothing to do")] = 1.0,
    quiet: Annotated[bool, typer.Option(help="Do not print each message the sandbox delivers")] = False,
    sandbox: Annotated[bool, typer.Option(help="Channels not configured print instead of sending")] = True,
) -> None:
    """Run a worker: queued events, due timers, the outbox, webhook calls and outbound webhooks, until stopped."""
    engine = _engine()
    printer = None if quiet else (lambda line: console.print(line, highlight=False, markup=False))
    try:
        dispatcher = _dispatcher(engine, printer=printer, sandbox=sandbox)
    except (ChannelConfigError, TemplatesInvalid) as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        engine.store.close()
        raise typer.Exit(1) from None
    stopping = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
    http = httpx.Client(follow_redirects=False)
    try:
        totals = run_worker(
            engine, dispatcher, until_idle=until_idle, batch_size=batch_size,
            partitions=partitions, poll_seconds=poll, should_stop=lambda: stopping["now"], http=http,
            helpdesk=_helpdesk(engine, http), delivery_rules=outbound_rules(Settings()),
            reports=_scheduled_reports(engine),
        )
    except KeyboardInterrupt:
        console.print("stopped")
        return
    finally:
        http.close()
        close_channels(dict(dispatcher.channels))
        engine.store.close()
    sent = totals.dispatch
    console.print(
        f"worker done: {totals.work.events} event(s), {totals.work.timers_fired} timer(s) fired, "
        f"{sent.delivered} message(s) delivered, {sent.deferred} deferred, {sent.held} held, "
        f"{sent.skipped} skipped, {sent.undeliverable} undeliverable, {sent.parked} parked; "
        f"webhooks: {totals.outbound.delivered} delivered, {totals.outbound.failed} failed"
    )
    if totals.overdue or totals.handoffs.sent or totals.handoffs.failed:
        console.print(f"tasks: {totals.overdue} found overdue, {totals.handoffs.sent} handed to the "
                      f"helpdesk, {totals.handoffs.failed} hand-off(s) failed for good")


def _scheduled_reports(engine: Engine):
    """The weekly report on the settings' schedule (`report_schedule`), or None when none is set."""
    from onboardflow.analytics.mailing import ReportSetupError, Schedule, ScheduledReports
    from onboardflow.analytics.weekly import send_weekly

    settings = Settings()
    if settings.report_schedule is None:
        return None
    zone = PolicySettings().store_timezone
    try:
        schedule = Schedule.parse(settings.report_schedule, zone)
    except ReportSetupError as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    reports = ScheduledReports(engine.store, schedule, Path(settings.reports_dir),
                               lambda report, html: send_weekly(report, html, store=engine.store), zone=zone)
    return lambda: reports.run_due(engine.clock.now())


def _helpdesk(engine: Engine, http):
    """The helpdesk the settings name, or None; bad settings stop the command with what to set."""
    from onboardflow.escalation.helpdesk import HelpdeskConfigError, build_helpdesk

    try:
        return build_helpdesk(Settings(), http=http, clock=engine.clock)
    except HelpdeskConfigError as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None


def _dispatcher(engine: Engine, *, printer, sandbox: bool) -> Dispatcher:
    """The configured channels (sandbox for the rest, if asked), the journeys' templates and the policies."""
    settings = Settings()
    channels = build_channels(*load_channel_settings(), store=engine.store, clock=engine.clock)
    if sandbox:
        missing = [name for name in SANDBOX_CHANNELS if name not in channels]
        channels.update(sandbox_channels(tuple(missing), printer=printer))
        if missing:
            errors.print(f"not configured, printed by the sandbox: {', '.join(missing)}", highlight=False)
    folder = Path(settings.journeys_dir) / TEMPLATES_FOLDER
    templates = load_templates_strict(folder) if folder.is_dir() else TemplateSet()
    return Dispatcher(engine.store, engine.catalog, channels, templates=templates,
                      rules=PolicySettings().rules(), unsubscribe_link=_unsubscribe_links(settings),
                      recommender=recommender_for(ModelFolder(settings.models_dir)),
                      recommendations=settings.recommendations, clock=engine.clock)


def _unsubscribe_links(settings: Settings):
    secret = getattr(settings, "unsubscribe_secret", None)
    if secret is None:
        errors.print("ONBOARDFLOW_UNSUBSCRIBE_SECRET is not set: marketing messages go without unsubscribe links")
        return None
    from onboardflow.compliance.tokens import unsubscribe_url

    key, base = secret.get_secret_value(), settings.public_url
    return lambda customer_id, channel, purpose: unsubscribe_url(customer_id, channel, base, key, topic=purpose)


@app.command()
def status() -> None:
    """Counts of the store, and enrollments by journey, version and step."""
    store = _open_store()
    counts = store.counts()
    table = Table(title="store")  # one row per count: eight columns do not fit 80 characters
    table.add_column("count")
    table.add_column("value", justify="right")
    for name, value in counts.items():
        table.add_row(name.replace("_", " "), str(value))
    console.print(table)
    steps = Table(title="enrollments by step")
    for name in ("journey", "version", "step", "state", "enrollments"):
        steps.add_column(name, justify="right" if name in ("version", "enrollments") else "left")
    for journey_id, version, step_id, state, count in store.step_counts():
        steps.add_row(journey_id, str(version), step_id, state, str(count))
    console.print(steps)
    console.print(_journeys_table(store.journeys(), store.held_counts()))
    store.close()


def _journeys_table(states, held: dict[str, int]) -> Table:
    table = Table(title="journeys")
    for name in ("journey", "live version", "state", "held events"):
        table.add_column(name, justify="right" if name in ("live version", "held events") else "left")
    for state in states:
        shown = f"paused since {state.paused_at:%Y-%m-%d %H:%M} UTC" if state.is_paused else "live"
        table.add_row(state.journey_id, str(state.live_version), shown, str(held.get(state.journey_id, 0)))
    return table


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, max=100_000, help="Customers in the simulated shop")] = 300,
    days: Annotated[int, typer.Option(min=1, max=365)] = 45,
    seed: Annotated[int, typer.Option()] = 7,
    database: Annotated[str, typer.Option(help="Store for the demo")] = "sqlite:///./var/demo.db",
    serve: Annotated[bool, typer.Option(help="Then serve the workspace (web UI, API) until Ctrl-C")] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Where the workspace is served")] = 8000,
    events_per_second: Annotated[float, typer.Option(min=0, max=100, help="The live shop's pace")] = 2.0,
) -> None:
    """Run the example journeys on a simulated shop, on a virtual clock, and show what the engine did; then
    serve the workspace on http://127.0.0.1:8000 with the shop still sending events (--no-serve: stop)."""
    from onboardflow.demo import demo_rules, run_demo

    rules = demo_rules()
    run_demo(console, customers=customers, days=days, seed=seed, database_url=database, rules=rules)
    if not serve:
        return
    from onboardflow.live_demo import serve_demo

    store = _open_store(database)
    try:
        serve_demo(console, store, settings=Settings(), rules=rules, host="127.0.0.1", port=port,
                   events_per_second=events_per_second)
    finally:
        store.close()


# simulate and replay: journeys on the production engine, on a virtual clock (issue 6, the simulator)

JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the JSON result here")]
HtmlOut = Annotated[Path | None, typer.Option("--html", help="Write the HTML report here")]
Timelines = Annotated[str, typer.Option(help="Timelines in the JSON: all, counterexamples or none")]
Show = Annotated[list[str] | None, typer.Option("--show", help="Print this customer's timeline (repeatable)")]
Templates = Annotated[Path | None, typer.Option(help="Templates folder (default: templates/ beside journeys)")]


@app.command()
def simulate(
    paths: Paths,
    customers: Annotated[int, typer.Option(min=1, max=1_000_000, help="Synthetic customers")] = 1000,
    days: Annotated[int, typer.Option(min=1, max=730, help="Days the run lasts")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed, same result, byte for byte")] = 1,
    personas: Annotated[Path | None, typer.Option(help="Personas file (default: the built-ins)")] = None,
    persona: Annotated[list[str] | None, typer.Option(help="Only this persona (repeatable)")] = None,
    start: Annotated[str, typer.Option(help="When the run starts (ISO-8601, UTC)")] = "2026-03-02T09:00:00Z",
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes sharing the customers")] = 1,
    json_out: JsonOut = None,
    html_out: HtmlOut = None,
    timelines: Timelines = "all",
    show: Show = None,
    templates: Templates = None,
) -> None:
    """Run journeys together against synthetic customers on a virtual clock; check their acceptance criteria.

    Exit 1 when a criterion fails, 2 when the input is wrong.
    """
    from onboardflow.simulation import commands
    from onboardflow.simulation.flows import simulate as run_simulation
    from onboardflow.simulation.personas import PersonasInvalid, built_in_personas, load_personas

    try:
        _check_timelines(timelines)
        loaded = commands.read_journeys(paths, templates)
        mix = load_personas(personas) if personas else built_in_personas()
        mix = mix.only(persona) if persona else mix
        begins = commands.read_time(start, "--start")
    except (commands.RunInputInvalid, PersonasInvalid) as error:
        _refuse(error)
    for note in loaded.notes:
        errors.print(note, highlight=False)
    with _progress() as progress:
        task = progress.add_task(f"simulating {customers} customers over {days} days", total=days * 86400)
        result = run_simulation(
            journeys=loaded.journeys, personas=mix, customers=customers, days=days, seed=seed,
            templates=loaded.templates, rules=PolicySettings().rules(), start=begins,
            default_zone=PolicySettings().store_timezone, workers=workers,
            on_progress=lambda moment: progress.update(task, completed=(moment - begins).total_seconds()),
        )
    _finish_run(result, json_out, html_out, timelines, show)


@app.command()
def replay(
    paths: Paths,
    events: Annotated[Path, typer.Option(help="Recorded events, canonical JSON lines (an Olist import...)")],
    until: Annotated[str | None, typer.Option(help="Stop the clock here (ISO-8601; default: last event)")] = None,
    json_out: JsonOut = None,
    html_out: HtmlOut = None,
    timelines: Timelines = "all",
    show: Show = None,
    templates: Templates = None,
) -> None:
    """Run journeys over a recorded event stream on a virtual clock; check their acceptance criteria.

    Bad lines are reported and skipped. Exit 1 when a criterion fails or a line was rejected, 2 when the
    input cannot be used at all.
    """
    from onboardflow.simulation import commands
    from onboardflow.simulation.flows import replay as run_replay

    try:
        _check_timelines(timelines)
        loaded = commands.read_journeys(paths, templates)
        stream, bad = commands.read_event_file(events)
        stop = commands.read_time(until, "--until") if until else None
        if not stream:
            raise commands.RunInputInvalid([f"{events}: no event could be read: there is nothing to replay"])
    except commands.RunInputInvalid as error:
        _refuse(error)
    for line in [*loaded.notes, *bad]:
        errors.print(line, highlight=False, markup=False)
    first = min(event.at for event in stream)
    last = stop or max(event.at for event in stream)
    with _progress() as progress:
        span = max(1.0, (last - first).total_seconds())
        task = progress.add_task(f"replaying {len(stream)} events", total=span)
        try:
            result = run_replay(
                journeys=loaded.journeys, events=stream, until=stop, templates=loaded.templates,
                rules=PolicySettings().rules(), default_zone=PolicySettings().store_timezone,
                on_progress=lambda moment: progress.update(task, completed=(moment - first).total_seconds()),
            )
        except ValueError as error:
            _refuse(error)
    if bad:
        errors.print(f"{len(bad)} line(s) rejected; the other events were replayed")
    _finish_run(result, json_out, html_out, timelines, show, failed=bool(bad))


@app.command()
def personas(out: Annotated[Path | None, typer.Option(help="Write to this file, not stdout")] = None) -> None:
    """Print the built-in personas (YAML), to edit and pass to `simulate --personas FILE`."""
    from onboardflow.simulation.personas import built_in_text

    if out:
        out.write_text(built_in_text(), encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(built_in_text())


def _check_timelines(value: str) -> None:
    from onboardflow.simulation.commands import TIMELINES, RunInputInvalid

    if value not in TIMELINES:
        raise RunInputInvalid([f"--timelines {value!r}: use one of {', '.join(TIMELINES)}"])


def _refuse(error: Exception) -> None:
    for line in getattr(error, "problems", None) or [error]:
        errors.print(f"✗ {line}", highlight=False, markup=False)
    raise typer.Exit(2)


def _finish_run(result, json_out, html_out, timelines: str, show, *, failed: bool = False) -> None:
    from onboardflow.simulation.commands import show_result, write_outputs

    show_result(console, result, customers=show or [])
    for path in write_outputs(result, json_path=json_out, html_path=html_out, timelines=timelines):
        console.print(f"wrote {path}", highlight=False)
    if not result.passed or failed:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
        console=errors, transient=False,
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


app.add_typer(webhooks_app, name="webhooks")  # outbound webhooks: onboardflow/outbound/cli.py
app.add_typer(templates_app, name="templates")  # the template library: onboardflow/templates/commands.py


# tasks: the hand-offs that escalate steps and rules open (onboardflow.escalation.commands)

app.add_typer(tasks_app, name="tasks")

# outcomes: KPIs and the weekly report (onboardflow.analytics.commands, docs/outcomes.md)

app.command("kpis")(kpis_command)
app.add_typer(report_app, name="report")


# playbooks: launch checklists, cadence, risk presets, KPI sets (onboardflow.playbooks.commands)

app.add_typer(playbook_app, name="playbook")


# --- channels: check the channel settings (issue 4, channel adapters) ---


@app.command()
def channels(
    config: Annotated[
        Path | None, typer.Option(help="Settings file; default $ONBOARDFLOW_CONFIG, else ./onboardflow.toml")
    ] = None,
) -> None:
    """Check the channel settings (file and ONBOARDFLOW_ variables) and list the channels they make."""
    from onboardflow.channels.config import ChannelConfigError, describe_channels

    try:
        rows = describe_channels(config)
    except ChannelConfigError as error:
        errors.print(str(error), markup=False, highlight=False)
        raise typer.Exit(1) from None
    table = Table(title="channels")
    for name in ("channel", "adapter", "settings"):
        table.add_column(name)
    for row in rows:
        table.add_row(*row)
    console.print(table)


# render: preview one message of a journey for a customer in the store


@app.command()
def render(
    journey_file: Annotated[Path, typer.Argument(help="A journey file; its templates/ folder is beside it")],
    step_id: Annotated[str, typer.Argument(help="The id of a send step")],
    customer: Annotated[str, typer.Option("--customer", help="The customer's id in the store")],
    channel: Annotated[str | None, typer.Option(help="One of the step's channels (default: first)")] = None,
    locale: Annotated[str | None, typer.Option(help="This locale instead of the customer's own")] = None,
) -> None:
    """Preview one message: a send step's template rendered for a customer of the store."""
    from onboardflow.messages.preview import PreviewError, preview_message

    store = _open_store()
    try:
        preview = preview_message(
            store=store, journey_file=journey_file, step_id=step_id, customer_id=customer, channel=channel,
            locale=locale, segment_limit=Settings().sms_segment_limit,
        )
    except PreviewError as error:
        errors.print(f"✗ {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        store.close()
    who = f"customer {preview.customer.id}, locale {preview.customer.locale or 'none'}"
    console.print(
        f"[bold]{preview.journey_id} / {preview.step_id}[/]: template {preview.template} "
        f"on {preview.channel}, variant {preview.variant} ({who})", highlight=False,
    )
    for heading, text in preview.sections():
        console.rule(heading, align="left", characters="─")
        console.print(text, highlight=False, markup=False)
    for note in preview.notes:
        console.print(f"· {note}", style="dim", highlight=False, markup=False)
    for warning in preview.warnings:
        errors.print(f"! {warning}", highlight=False, markup=False)


# pause and resume: live versions (issue 3)


@app.command()
def pause(journey_id: Annotated[str, typer.Argument(help="The journey's id, as in its file")]) -> None:
    """Pause a journey: nobody new enters, and nobody in it moves until `resume`."""
    from onboardflow.engine.pausing import JourneyNotFound

    engine = _engine()
    try:
        state = engine.pause(journey_id)
    except JourneyNotFound as error:
        errors.print(f"✗ {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        engine.store.close()
    console.print(f"paused: {journey_id} (since {state.paused_at:%Y-%m-%d %H:%M} UTC)", highlight=False)


@app.command()
def resume(journey_id: Annotated[str, typer.Argument(help="The journey's id, as in its file")]) -> None:
    """Resume a paused journey: what was held (events, timers that fell due) is applied now."""
    from onboardflow.engine.pausing import JourneyNotFound, JourneyNotPaused

    engine = _engine()
    try:
        resumed = engine.resume(journey_id)
    except (JourneyNotFound, JourneyNotPaused) as error:
        errors.print(f"✗ {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        engine.store.close()
    console.print(
        f"resumed: {journey_id}; applied {resumed.events} held event(s) and {resumed.timers} due timer(s)",
        highlight=False,
    )


# messages: what the dispatcher did with each, and parked ones tried again

messages_app = typer.Typer(help="The outbox: what became of each message, and parked ones sent again.")
app.add_typer(messages_app, name="messages")


@messages_app.command("list")
def messages_list(
    status: Annotated[str | None, typer.Option(help="pending, delivered, skipped, undeliverable or parked")] = None,
    customer: Annotated[str | None, typer.Option(help="Only this customer's messages")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts")] = False,
) -> None:
    """List messages with their status and the reason the policies or the channel gave."""
    store = _open_store()
    try:
        rows = [row for row in store.messages(customer) if status in (None, row.status)]
    finally:
        store.close()
    if as_json:
        for row in rows:
            typer.echo(json.dumps({**asdict(row.message), **{k: v for k, v in asdict(row).items() if k != "message"}},
                                  default=str))
        return
    table = Table(title=f"messages ({status or 'all'})")
    table.add_column("message", no_wrap=True, min_width=max((len(r.message.message_id) for r in rows), default=7))
    for name in ("customer", "journey / step", "status", "channel", "why"):
        table.add_column(name)
    for row in rows:
        why = row.error or row.note or ""
        table.add_row(row.message.message_id, row.message.customer_id,
                      f"{row.message.journey_id} / {row.message.step_id}", row.status, row.channel or "", why)
    console.print(table)


@messages_app.command("retry")
def messages_retry(
    message_ids: Annotated[list[str] | None, typer.Argument(help="Parked messages to send again")] = None,
    all_parked: Annotated[bool, typer.Option("--all", help="Every parked message")] = False,
) -> None:
    """Give parked messages another go: the next worker round sends them, with their attempts counted anew."""
    if bool(message_ids) == all_parked:
        errors.print("name the parked messages to retry, or say --all")
        raise typer.Exit(2)
    store = _open_store()
    try:
        count = store.retry_parked(None if all_parked else message_ids, now=SystemClock().now())
    finally:
        store.close()
    console.print(f"{count} parked message(s) will be tried again by the next worker round")
    if message_ids and count < len(message_ids):
        errors.print(f"{len(message_ids) - count} of the ids named are not parked messages")
        raise typer.Exit(1)


def main() -> None:
    tune_garbage_collector()
    app()


app.add_typer(model_app, name="model")


# --- consent and compliance: GDPR export and erasure of one customer; the API server ---

customer_app = typer.Typer(help="One customer's data: export it (GDPR access) or erase it (GDPR erasure).",
                           no_args_is_help=True)
app.add_typer(customer_app, name="customer")


@customer_app.command("export")
def customer_export(
    customer_id: Annotated[str, typer.Argument(help="The customer's id, as events name it")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON document here instead of stdout")] = None,
) -> None:
    """Everything held on a customer as one JSON document: profile, consent, events, enrollments, messages."""
    from onboardflow.compliance.gdpr import CustomerNotFound, export_customer

    store = _open_store()
    try:
        document = export_customer(store=store, customer_id=customer_id, now=SystemClock().now())
    except CustomerNotFound as error:
        errors.print(str(error), highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        store.close()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    errors.print(f"wrote {out}", highlight=False, markup=False)


@customer_app.command("erase")
def customer_erase(
    customer_id: Annotated[str, typer.Argument(help="The customer's id, as events name it")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase: this cannot be undone")] = False,
) -> None:
    """Erase a customer: personal data removed; counts and order totals stay under a random pseudonym."""
    from onboardflow.compliance.gdpr import CustomerNotFound, erase_customer

    if not yes:
        errors.print(f"erasing {customer_id!r} cannot be undone: run again with --yes to erase", markup=False)
        raise typer.Exit(2)
    store = _open_store()
    try:
        erasure = erase_customer(store=store, customer_id=customer_id, now=SystemClock().now())
    except CustomerNotFound as error:
        errors.print(str(error), highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        store.close()
    counts = ", ".join(f"{number} {name.replace('_', ' ')}" for name, number in erasure.counts.items())
    said = f"erased {customer_id}: what remains is under {erasure.pseudonym} ({counts})"
    console.print(said, highlight=False, markup=False)


# --- apikey: scoped keys for the HTTP API (issue 5) ---

apikey_app = typer.Typer(help="API keys with scopes: ingest, read, write, admin.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")  # people and roles: onboardflow/governance/people_commands.py
app.add_typer(review_app, name="review")  # draft to live: onboardflow/governance/commands.py


@apikey_app.command("create")
def apikey_create(
    scopes: Annotated[str, typer.Option(help="Comma-separated: ingest, read, write, admin (admin is all)")],
    name: Annotated[str, typer.Option(help="Who uses it, e.g. storefront, crm-sync")] = "api",
    user: Annotated[str | None, typer.Option(help="The user (email) the key acts as: reviews, "
                                             "approvals and launches through the API are theirs")] = None,
) -> None:
    """Create a key; its secret is printed once, on the last line, and stored only as a hash."""
    from onboardflow.api.keys import mint
    from onboardflow.governance.people import UnknownUser, find_user

    store = _open_store()
    try:
        owner = find_user(store, user).email if user else None
        record, plain = mint(name, scopes, now=SystemClock().now(), user=owner)
        store.save_api_key(record)
    except (ValueError, UnknownUser) as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        store.close()
    acting = f", acting as {record.user}" if record.user else ""
    errors.print(f"created API key {record.id} ({record.name}) with scopes {', '.join(record.scopes)}"
                 f"{acting}; "
                 "keep the key below secret: it is not shown again", highlight=False, markup=False)
    typer.echo(plain)


@apikey_app.command("list")
def apikey_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts")] = False,
) -> None:
    """The keys there are (never their secrets)."""
    store = _open_store()
    try:
        keys = store.api_keys()
    finally:
        store.close()
    if as_json:
        for key in keys:
            typer.echo(json.dumps({"id": key.id, "name": key.name, "scopes": list(key.scopes),
                                   "user": key.user, "created_at": key.created_at.isoformat(),
                                   "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None}))
        return
    table = Table(title="API keys")
    for column in ("id", "name", "scopes", "user", "created", "revoked"):
        table.add_column(column, no_wrap=column == "id")
    for key in keys:
        table.add_row(key.id, key.name, ",".join(key.scopes), key.user or "",
                      f"{key.created_at:%Y-%m-%d %H:%M}",
                      f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "")
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `apikey list` shows it")],
) -> None:
    """Revoke a key: a running server refuses it within ONBOARDFLOW_API_KEY_CACHE_SECONDS (10 s)."""
    from onboardflow.api.keys import PREFIX
    from onboardflow.ports import ApiKeyNotFound

    if key_id.startswith(PREFIX + "_"):  # the whole key pasted: take its id, never echo the secret
        key_id = key_id.split("_")[1]
    store = _open_store()
    try:
        key = store.revoke_api_key(key_id, at=SystemClock().now())
    except ApiKeyNotFound as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        store.close()
    console.print(f"revoked {key.id} ({key.name}) at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC", highlight=False)


SERVE_WORKERS_HELP = ("Server processes. On SQLite keep 1: writes go one at a time anyway, and one process "
                      "batches them (group commit); on PostgreSQL, one per core")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help=SERVE_WORKERS_HELP)] = 1,
) -> None:
    """Run the HTTP API (events, customers, journeys, unsubscribe links, preference pages) and the web UI."""
    from inspect import signature

    import uvicorn

    from onboardflow.store.migrate import upgrade

    from onboardflow.store.connection import StoreError

    settings = Settings()
    if settings.database_url != "memory":
        try:
            upgrade(settings.database_url)  # once here, not racing in each worker
        except StoreError as error:
            errors.print(f"error: {error}", highlight=False, markup=False)
            raise typer.Exit(1) from None
    elif workers > 1:
        errors.print("error: the memory store lives in one process: use --workers 1, or a database", markup=False)
        raise typer.Exit(2)
    options = {"timeout_worker_healthcheck": 60}  # a worker still importing on a busy machine is not dead
    options = {name: value for name, value in options.items() if name in signature(uvicorn.Config).parameters}
    uvicorn.run("onboardflow.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, access_log=False, **options)


if __name__ == "__main__":
    main()

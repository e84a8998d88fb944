"""What `onboardflow simulate` and `onboardflow replay` do around a run: read the journeys, their templates
and the events; show the result in the terminal; write the JSON and the HTML report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from onboardflow.catalog import example_templates, load_journey_files
from onboardflow.core.model import Event
from onboardflow.core.version import JourneyVersion
from onboardflow.engine.ingest import LineError, read_events
from onboardflow.messages.checks import check_send_steps
from onboardflow.messages.loading import load_templates
from onboardflow.messages.templates import TEMPLATES_FOLDER, TemplateSet
from onboardflow.simulation.report import render_report
from onboardflow.simulation.results import Result

TIMELINES = ("all", "counterexamples", "none")


class RunInputInvalid(ValueError):
    """Journeys, templates or options a run cannot start with; `problems` says what to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class RunInput:
    journeys: list[JourneyVersion]
    templates: TemplateSet
    notes: list[str] = field(default_factory=list)


def read_journeys(paths: list[Path], templates: Path | None) -> RunInput:
    """The journeys named, checked, with the templates their send steps need: from `templates`, else
    the templates/ folder beside the first journey file, else the shipped examples' templates."""
    loaded, problems = load_journey_files(paths)
    found = [str(problem) for problem in problems]
    if not loaded and not problems:
        found.append("no journey files found: pass .yaml, .yml or .json files or folders holding them")
    if found:
        raise RunInputInvalid(found)
    folder, notes = _templates_folder(loaded[0][0], templates)
    if folder is None:
        template_set = example_templates()
        notes.append("no templates/ folder beside the journeys: using the example templates")
    else:
        load = load_templates(folder)
        found.extend(str(problem) for problem in load.problems)
        template_set = load.templates
    hint = f" (no {TEMPLATES_FOLDER}/ folder is beside {loaded[0][0]}: add one, or pass --templates DIR)"
    for path, version in loaded:
        for problem in check_send_steps(version.journey, template_set):
            found.append(f"{path}: {problem}" + (hint if folder is None else ""))
    if found:
        raise RunInputInvalid(found)
    return RunInput([version for _, version in loaded], template_set, notes)


def _templates_folder(first: Path, given: Path | None) -> tuple[Path | None, list[str]]:
    if given is not None:
        if not given.is_dir():
            raise RunInputInvalid([f"--templates {given}: no such folder"])
        return given, []
    beside = first.parent / TEMPLATES_FOLDER
    return (beside if beside.is_dir() else None), []


def read_event_file(path: Path) -> tuple[list[Event], list[str]]:
    """The events of a JSON-lines file (canonical shape), and each bad line as `file:line: what`."""
    if not path.is_file():
        raise RunInputInvalid([f"--events {path}: no such file"])
    events, bad = [], []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for item in read_events(handle):
            if isinstance(item, LineError):
                bad.append(f"{path}:{item}")
            else:
                events.append(item)
    return events, bad


def read_time(text: str, option: str) -> datetime:
    """An ISO-8601 time for an option; a date alone is midnight UTC; a time without a zone is refused."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RunInputInvalid(
            [f"{option} {text!r} is not a time: write ISO-8601, e.g. 2018-06-30T00:00:00Z"]
        ) from None
    if len(text) == 10:
        return moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        raise RunInputInvalid([f"{option} {text!r} has no time zone: add Z or an offset, e.g. {text}Z"])
    return moment.astimezone(UTC)


def write_outputs(
    result: Result, *, json_path: Path | None, html_path: Path | None, timelines: str
) -> list[Path]:
    written = []
    if json_path is not None:
        json_path.write_text(result.to_json(timelines=timelines), encoding="utf-8")
        written.append(json_path)
    if html_path is not None:
        html_path.write_text(render_report(result), encoding="utf-8")
        written.append(html_path)
    return written


def show_result(console: Console, result: Result, *, customers: list[str]) -> None:
    """The acceptance verdicts, each journey's funnel and goal, the warnings, and any timelines asked for."""
    document = result.document(timelines="none")
    for version in result.journeys:
        console.print(_funnel(version.id, document))
    outcomes = ", ".join(f"{count} {name}" for name, count in document["outcomes"].items()) or "none"
    console.print(
        f"messages: {len(document['messages'])} delivered; dispatcher decisions: {outcomes}; "
        f"tasks: {len(document['tasks'])}",
        highlight=False,
    )
    for warning in document["warnings"][:20]:
        mark = "exception path " if warning["exception"] else ""
        console.print(f"! {mark}{warning['message']}", style="yellow", highlight=False, markup=False)
    if len(document["warnings"]) > 20:
        console.print(
            f"! … and {len(document['warnings']) - 20} more warnings (see the report)", style="yellow"
        )
    for customer_id in customers:
        _show_timeline(console, result, customer_id)
    console.print(_verdicts(result))


def _funnel(journey_id: str, document: dict) -> Table:
    goals = document["goals"][journey_id]
    table = Table(title=f"{journey_id}: entrants per step")
    table.add_column("step")
    table.add_column("entrants", justify="right")
    for step_id, count in document["steps"][journey_id].items():
        table.add_row(step_id, str(count))
    if goals["goal"]:
        treated, held = goals["journey"], goals["holdout"]
        table.caption = (
            f"goal {goals['goal']}: {treated['converted']}/{treated['entrants']} treated, "
            f"{held['converted']}/{held['entrants']} holdout"
        )
    return table


def _verdicts(result: Result) -> Table:
    table = Table(title="acceptance criteria")
    for name in ("", "journey", "criterion", "result"):
        table.add_column(name)
    for verdict in result.verdicts:
        examples = "".join(f"\n  {e.customer_id}: {e.why}" for e in verdict.counterexamples)
        more = verdict.breaking - len(verdict.counterexamples)
        if more > 0:
            examples += f"\n  … and {more} more"
        mark = "[green]✓[/]" if verdict.passed else "[red]✗[/]"
        table.add_row(mark, verdict.journey_id, verdict.criterion, verdict.detail + examples)
    if not result.verdicts:
        table.caption = "no acceptance criteria declared"
    return table


def _show_timeline(console: Console, result: Result, customer_id: str) -> None:
    entries = result.timelines.get(customer_id)
    if entries is None:
        console.print(f"no customer {customer_id!r} in this run", style="red", highlight=False)
        return
    console.rule(f"timeline of {customer_id}")
    for entry in entries:
        rest = {k: v for k, v in entry.items() if k not in ("at", "kind")}
        details = " ".join(f"{k}={v}" for k, v in rest.items() if v is not None)
        console.print(f"{entry['at'][:19]} {entry['kind']:<8} {details}", highlight=False, markup=False)

"""`onboardflow templates`: list the library, show one template (description, parameters, step graph),
and make a journey from one (`new`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table
from rich.tree import Tree

from onboardflow.core.durations import format_duration
from onboardflow.core.journey import Journey
from onboardflow.core.validation import edges
from onboardflow.templates.instantiate import FileExists, instantiate, write_instance
from onboardflow.templates.library import JourneyTemplate, TemplateNotFound, get_template, library
from onboardflow.templates.parameters import ParametersInvalid, parse_assignments, shown

templates_app = typer.Typer(
    help="The template library: ready journeys to start from (docs/templates.md).", no_args_is_help=True
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

Name = Annotated[str, typer.Argument(help="The template's name, as `templates list` shows it")]


@templates_app.command("list")
def list_templates(
    as_json: Annotated[bool, typer.Option("--json", help="Print [{name, description}] as JSON")] = False,
) -> None:
    """The templates in the library, with what each is for."""
    if as_json:
        items = [{"name": t.name, "description": t.info.description} for t in library()]
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title="journey templates (onboardflow templates show NAME)")
    for column in ("name", "description", "sends on"):
        table.add_column(column)
    for template in library():
        instance = instantiate(template)
        table.add_row(
            template.name, template.info.description, ", ".join(_channels(instance.version.journey))
        )
    console.print(table)


@templates_app.command("show")
def show(
    name: Name,
    svg: Annotated[
        Path | None,
        typer.Option(
            help="Also write the step graph as SVG, with the traffic of the template's proof simulation"
        ),
    ] = None,
) -> None:
    """A template's description, parameters and step graph."""
    template = _template(name)
    instance = instantiate(template)
    info = template.info
    console.rule(f"[bold]{info.title}[/] ({info.name})")
    console.print(info.description, highlight=False)
    console.print(f"[bold]When to use:[/] {info.when_to_use}", highlight=False)
    console.print(f"[bold]What it measures:[/] {info.measures}", highlight=False)
    console.print(_parameters(template))
    console.print(step_tree(instance.version.journey))
    console.print(
        f"[bold]Acceptance criteria:[/] {len(instance.version.journey.acceptance)}; message templates: "
        f"{', '.join(instance.message_texts)}",
        highlight=False,
    )
    if svg is not None:
        _write_svg(template, svg)


@templates_app.command("new")
def new(
    name: Name,
    param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE (repeatable)")] = None,
    out: Annotated[Path, typer.Option(help="The journeys folder to write into")] = Path("journeys"),
    force: Annotated[bool, typer.Option(help="Overwrite files that are there already")] = False,
) -> None:
    """Write an editable journey and its message templates, with the parameters given (defaults else)."""
    template = _template(name)
    given, problems = parse_assignments(param or [])
    if problems:
        _refuse(problems)
    try:
        instance = instantiate(template, given)
        written = write_instance(instance, out, force=force)
    except ParametersInvalid as invalid:
        _refuse([*invalid.problems, f"see the parameters with: onboardflow templates show {name}"])
    except FileExists as exists:
        _refuse(
            [
                f"{path} exists already: pass --force to overwrite it, or another --out"
                for path in exists.paths
            ]
        )
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    console.print(
        f"next: onboardflow validate {out} ; onboardflow simulate {out / instance.journey_file}",
        highlight=False,
    )


def _template(name: str) -> JourneyTemplate:
    try:
        return get_template(name)
    except TemplateNotFound as missing:
        _refuse([str(missing)])


def _refuse(problems: list[str]) -> None:
    for problem in problems:
        errors.print(f"✗ {problem}", highlight=False, markup=False)
    raise typer.Exit(2)


def _channels(journey: Journey) -> list[str]:
    return list(
        dict.fromkeys(
            channel for step in journey.steps if step.kind == "send" for channel in step.send.channels
        )
    )


def _parameters(template: JourneyTemplate) -> Table:
    table = Table(title="parameters (--param NAME=VALUE)")
    table.add_column("name", no_wrap=True, min_width=max(map(len, template.parameters)))
    for column in ("type", "default", "allowed", "description"):
        table.add_column(column)
    for name, spec in template.parameters.items():
        table.add_row(name, spec.type, shown(spec, spec.default), spec.allowed(), spec.description)
    return table


def step_tree(journey: Journey) -> Tree:
    """The steps as a tree from the first: each way out a branch labelled with its field; a step met
    again is named, not repeated."""
    ways, steps = edges(journey), {step.id: step for step in journey.steps}
    tree = Tree(f"[bold]{journey.id}[/]: trigger {journey.trigger.event}")
    seen: set[str] = set()

    def grow(node: Tree, step_id: str, field: str | None) -> None:
        label = f"[dim]{field} →[/] " if field and field not in ("(next step)", "goto") else ""
        if step_id in seen:
            node.add(f"{label}[italic]{step_id}[/] (above)")
            return
        seen.add(step_id)
        child = node.add(f"{label}[bold]{step_id}[/] {describe(steps[step_id])}")
        for way, target in ways[step_id]:
            grow(child, target, way)

    grow(tree, journey.steps[0].id, None)
    return tree


def describe(step) -> str:
    """A step in a few words: its kind and what matters about it."""
    kind = step.kind
    if kind == "send":
        return f"send {', '.join(step.send.channels)}: {step.send.template} ({step.send.purpose})"
    if kind == "wait_for":
        spec = step.wait_for
        names = [spec.event] if spec.event else [arm.event for arm in spec.events]
        return f"wait for {' or '.join(names)}, at most {format_duration(spec.timeout)}"
    if kind == "escalate":
        return f"escalate to {step.escalate.queue}: {step.escalate.reason} ({step.escalate.priority})"
    if kind == "exit":
        return "exit"
    if kind == "wait":
        return f"wait {format_duration(step.wait)}"
    if kind == "wait_until":
        return f"wait until {step.wait_until.time} local time"
    return kind.replace("_", " ")


def _write_svg(template: JourneyTemplate, path: Path) -> None:
    from onboardflow.simulation.graph import layout
    from onboardflow.simulation.plans import START
    from onboardflow.simulation.svg import graph_svg
    from onboardflow.templates.proof import prove

    proof = template.info.proof
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=errors) as bar:
        task = bar.add_task(
            f"simulating {proof.customers} customers for the graph's traffic", total=proof.days * 86400
        )
        result = prove(
            template, on_progress=lambda moment: bar.update(task, completed=(moment - START).total_seconds())
        )
        bar.update(task, completed=proof.days * 86400)
    [version] = result.journeys
    document = result.document(timelines="none")
    path.write_text(
        graph_svg(version, layout(version), document["edges"][version.id], document["steps"][version.id]),
        encoding="utf-8",
    )
    console.print(
        f"wrote {path} (the step graph, with the traffic of {proof.customers} simulated customers)",
        highlight=False,
    )

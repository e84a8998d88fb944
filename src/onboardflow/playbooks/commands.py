"""`onboardflow playbook ...`: the launch playbooks, shipped and editable: list them, show one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onboardflow.core.durations import format_duration
from onboardflow.playbooks.catalogue import KPIS
from onboardflow.playbooks.loading import PlaybookInvalid, playbooks, risk_presets
from onboardflow.playbooks.model import EVIDENCE, Playbook

playbook_app = typer.Typer(
    help="Launch playbooks: a role's decision framework, checklist, review cadence, risks and KPIs.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
Folder = Annotated[
    Path | None,
    typer.Option("--dir", help="A folder of your own playbook files, added to the built-ins (same id replaces)"),
]


def _all(folder: Path | None) -> dict[str, Playbook]:
    try:
        return playbooks(folder)
    except PlaybookInvalid as invalid:
        for problem in invalid.problems:
            errors.print(f"error: {problem}", highlight=False, markup=False)
        raise typer.Exit(1) from None


def _one(name: str, folder: Path | None) -> Playbook:
    found = _all(folder)
    if name not in found:
        errors.print(f"error: no playbook {name!r}; the playbooks are {', '.join(sorted(found))}",
                     highlight=False, markup=False)
        raise typer.Exit(1)
    return found[name]


@playbook_app.command("list")
def playbook_list(
    folder: Folder = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of {id, name, role, objective}")] = False,
) -> None:
    """List the playbooks: one per role and objective."""
    found = _all(folder)
    if as_json:
        rows = [{"id": p.id, "name": p.name, "role": p.role, "objective": p.objective} for p in found.values()]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("role", "objective", "checklist", "checkpoints", "risks", "KPIs")
    table.add_column("id", no_wrap=True)
    for p in found.values():
        table.add_row(p.role, p.objective, str(len(p.checklist)), str(len(p.cadence)),
                      str(len(p.risks)), str(len(p.kpis)), p.id)
    console.print(table)


@playbook_app.command("show")
def playbook_show(
    name: Annotated[str, typer.Argument(help="The playbook's id, as `playbook list` shows it")],
    folder: Folder = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole playbook as JSON")] = False,
) -> None:
    """Show a playbook: stages, checklist with the evidence that closes each item, cadence, risks, KPIs."""
    playbook = _one(name, folder)
    if as_json:
        typer.echo(json.dumps(playbook.model_dump(mode="json"), indent=2))
        return
    console.print(f"[bold]{playbook.name}[/bold]  ({playbook.role} × {playbook.objective})")
    console.print(playbook.description, highlight=False)
    stages = Table("stage", "guidance", title="Decision framework")
    for stage in playbook.stages:
        stages.add_row(stage.name, stage.guidance)
    checklist = Table("item", "stage", "closed by", "gate", title="Checklist")
    for item in playbook.checklist:
        checklist.add_row(item.text, item.stage, EVIDENCE[item.evidence], "pre-launch" if item.pre_launch else "")
    cadence = Table("checkpoint", "kind", "after launch", "agenda", title="Cadence after launch")
    for checkpoint in playbook.cadence:
        cadence.add_row(checkpoint.id, checkpoint.kind, format_duration(checkpoint.after), checkpoint.agenda)
    presets = risk_presets()
    risks = Table("risk", "impact", "mitigation", title="Risk presets")
    for risk_id in playbook.risks:
        preset = presets[risk_id]
        risks.add_row(preset.risk, str(preset.impact), preset.mitigation)
    kpis = Table("KPI", "definition", title="KPIs")
    for kpi_id in playbook.kpis:
        kpis.add_row(KPIS[kpi_id].name, KPIS[kpi_id].definition)
    for table in (stages, checklist, cadence, risks, kpis):
        console.print(table)

"""`onboardflow playbook ...`: the launch playbooks, shipped and editable: list them, show one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onboardflow.core.durations import format_duration
from onboardflow.governance.commands import JourneyId, Version, _now, _run, _said
from onboardflow.governance.people_commands import AsUser
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


Findings = Annotated[
    list[str] | None,
    typer.Option("--finding", help="KIND:TEXT, KIND one of process_improvement, assumption_correction, "
                 "measurement_refinement (repeatable)"),
]


def _findings(given: list[str] | None) -> list[tuple[str, str]]:
    found = []
    for text in given or []:
        kind, colon, said = text.partition(":")
        if not colon:
            errors.print(f"error: write a finding as KIND:TEXT, e.g. process_improvement:support joins week one, "
                         f"not {text!r}", highlight=False, markup=False)
            raise typer.Exit(2)
        found.append((kind.strip(), said.strip()))
    return found


@playbook_app.command("attach")
def playbook_attach(
    journey_id: JourneyId,
    version: Version,
    playbook_id: Annotated[str, typer.Argument(help="The playbook's id, as `playbook list` shows it")],
    post_launch_owner: Annotated[str, typer.Option("--post-launch-owner", help="Who follows up after launch")],
    folder: Folder = None,
    as_user: AsUser = None,
) -> None:
    """Attach a playbook to a version before it goes live: its pre-launch items join the approval gate, its
    risk presets the register, its checkpoints the calendar from launch."""
    from onboardflow.playbooks import service

    done = _run(lambda store, user: service.attach(
        store=store, journey_id=journey_id, version=version, playbook_id=playbook_id,
        post_launch_owner=post_launch_owner, actor=user, now=_now(), folder=folder), as_user)
    _said(f"{done.playbook_id} attached to {journey_id} v{version}: {len(done.playbook['risks'])} risks in the "
          f"register for their owners, {len(done.comments)} questions in the review; post-launch owner "
          f"{done.post_launch_owner}")


@playbook_app.command("status")
def playbook_status(
    journey_id: JourneyId,
    version: Version,
    as_json: Annotated[bool, typer.Option("--json", help="Checklist, checkpoints and KPIs as JSON")] = False,
    as_user: AsUser = None,
) -> None:
    """The playbook's checklist (closed on evidence, or open and what closes it), the checkpoints from launch
    (overdue flagged) and the role's KPIs."""
    from onboardflow.playbooks import service

    def read(store, user):
        now = _now()
        found = service.checklist_of(store, journey_id, version, now=now)
        if found is None:
            raise service.NotFound(f"{journey_id} v{version} has no playbook: `onboardflow playbook attach` one")
        return found, service.checkpoints(store, journey_id, version, now=now), service.kpi_readings(
            store, journey_id, version, now=now)

    (playbook_id, items), dated, readings = _run(read, as_user)
    if as_json:
        typer.echo(json.dumps(service.status_document(playbook_id, items, dated, readings), indent=2, default=str))
        return
    console.print(f"[bold]{journey_id} v{version}[/bold] under {playbook_id}")
    checklist = Table("", "item", "evidence", title="Checklist")
    for item in items:
        checklist.add_row("✓" if item.closed else "✗", item.text, item.why)
    console.print(checklist)
    if dated:
        calendar = Table("checkpoint", "kind", "due", "state", title="Checkpoints")
        for checkpoint in dated:
            state = checkpoint.state.upper() if checkpoint.state == "overdue" else checkpoint.state
            calendar.add_row(checkpoint.checkpoint_id, checkpoint.kind, f"{checkpoint.due_at:%Y-%m-%d}", state)
        console.print(calendar)
    else:
        console.print("checkpoints: dated from the launch (not launched yet)")
    kpis = Table("KPI", "value", "sample", "detail", title="KPIs")
    for reading in readings:
        value = "—" if reading.value is None else f"{reading.value:.1f} {reading.unit}"
        kpis.add_row(reading.name, value, str(reading.sample), reading.detail)
    console.print(kpis)


@playbook_app.command("checkpoint")
def playbook_checkpoint(
    journey_id: JourneyId,
    version: Version,
    checkpoint_id: Annotated[str, typer.Argument(help="The checkpoint's id, as `playbook status` shows it")],
    finding: Findings = None,
    decision: Annotated[list[str] | None, typer.Option("--decision", help="A decision taken (repeatable)")] = None,
    as_user: AsUser = None,
) -> None:
    """Hold a checkpoint: its findings and decisions are kept with the KPI readings of the day."""
    from onboardflow.playbooks import service

    findings = _findings(finding)
    done = _run(lambda store, user: service.record_checkpoint(
        store=store, journey_id=journey_id, version=version, checkpoint_id=checkpoint_id, actor=user,
        now=_now(), findings=findings, decisions=decision or []), as_user)
    _said(f"checkpoint {checkpoint_id} held by {done.by}: {len(done.detail['findings'])} findings, "
          f"{len(done.detail['kpis'])} KPI readings kept")


@playbook_app.command("close")
def playbook_close(
    journey_id: JourneyId,
    version: Version,
    item_id: Annotated[str, typer.Argument(help="A checklist item closed by hand (evidence: manual)")],
    note: Annotated[str, typer.Option(help="What closed it: the evidence, in words")],
    as_user: AsUser = None,
) -> None:
    """Close a checklist item only a person can close, with a note."""
    from onboardflow.playbooks import service

    _run(lambda store, user: service.close_item(store=store, journey_id=journey_id, version=version,
                                                item_id=item_id, note=note, actor=user, now=_now()), as_user)
    _said(f"{item_id} closed")


@playbook_app.command("rehearse")
def playbook_rehearse(
    journey_id: JourneyId,
    version: Version,
    events: Annotated[Path, typer.Option("--events", help="A scenario: canonical events, one JSON object a line")],
    as_user: AsUser = None,
) -> None:
    """Rehearse the escalation path: replay a real scenario through this exact version and resolve the tasks
    it opens as yourself; the rehearsal is kept as the checklist's evidence."""
    from onboardflow.engine.ingest import LineError, read_events
    from onboardflow.playbooks import service

    try:
        with events.open(encoding="utf-8") as lines:
            read = list(read_events(lines))
    except OSError as error:
        errors.print(f"error: cannot read {events}: {error}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    bad = [item for item in read if isinstance(item, LineError)]
    if bad:
        for item in bad:
            errors.print(f"error: {events}:{item}", highlight=False, markup=False)
        raise typer.Exit(2)
    done = _run(lambda store, user: service.rehearse_version(
        store=store, journey_id=journey_id, version=version, events=read, actor=user, now=_now()), as_user)
    detail = done.detail
    _said(f"rehearsal: {detail['events']} events, {detail['tasks_opened']} tasks opened, "
          f"{detail['tasks_resolved']} resolved by {done.by}")


@playbook_app.command("retro")
def playbook_retro(
    journey_id: JourneyId,
    version: Version,
    finding: Findings = None,
    out: Annotated[Path | None, typer.Option(help="Publish the summary to this Markdown file")] = None,
    as_user: AsUser = None,
) -> None:
    """Hold the retrospective: findings sorted into process improvements, assumption corrections and
    measurement refinements, a summary published, and the next cycle's readiness checklist."""
    from onboardflow.playbooks import service

    findings = _findings(finding)
    retro = _run(lambda store, user: service.hold_retrospective(
        store=store, journey_id=journey_id, version=version, actor=user, now=_now(), findings=findings), as_user)
    text = retro.markdown()
    if out is not None:
        out.write_text(text, encoding="utf-8")
        _said(f"retrospective published to {out}")
    else:
        typer.echo(text)

"""`onboardflow model ...`: train, evaluate and list the store's models; write the sample shop's history.

Thin: each command reads its options, calls `intelligence.training`, and shows the figures.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from onboardflow.engine.clock import SystemClock
from onboardflow.intelligence.history import HistoryError, Source
from onboardflow.intelligence.models import ModelFolder, ModelMissing, ModelUnreadable
from onboardflow.settings import Settings

model_app = typer.Typer(
    help="The store's own models: sentiment, repeat purchase, recommendations.", no_args_is_help=True
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


class ModelName(StrEnum):
    sentiment = "sentiment"
    repeat_purchase = "repeat-purchase"
    recommendations = "recommendations"


EventsOption = Annotated[
    Path | None,
    typer.Option(
        "--events",
        help="Learn from this .jsonl of canonical events instead of the store",
        exists=True,
        dir_okay=False,
    ),
]
OlistOption = Annotated[
    Path | None,
    typer.Option(
        "--olist",
        help="Learn from the Olist dataset in this folder instead of the store",
        exists=True,
        file_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the figures as one JSON line")]


class Bars:
    """Rich progress: one bar counting the events read, one line naming the step under way."""

    def __init__(self, progress: Progress, what: str) -> None:
        self._progress = progress
        self._current = progress.add_task(f"reading {what}", total=None)

    def read(self, count: int) -> None:
        self._progress.advance(self._current, count)

    def step(self, description: str) -> None:
        self.finish()
        self._current = self._progress.add_task(description, total=1)

    def finish(self) -> None:
        task = self._progress.tasks[self._current]
        self._progress.update(self._current, total=task.completed or 1, completed=task.completed or 1)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    )


def _source(events: Path | None, olist: Path | None) -> Source:
    if events and olist:
        errors.print("error: give --events or --olist, not both")
        raise typer.Exit(2)
    return Source(events=events, olist=olist)


def _store(source: Source, settings: Settings):
    if source.events or source.olist:
        return None
    from onboardflow.store.sql import open_store

    return open_store(settings.database_url)


def _run(work, source: Source, settings: Settings):
    """Call `work(store)`, closing the store, with the models' errors said plainly."""
    from onboardflow.intelligence.propensity import NotEnoughHistory
    from onboardflow.intelligence.recommendations import NothingToRecommend
    from onboardflow.intelligence.sentiment import NotEnoughReviews

    store = _store(source, settings)
    try:
        return work(store)
    except (
        HistoryError,
        ModelMissing,
        ModelUnreadable,
        NotEnoughHistory,
        NotEnoughReviews,
        NothingToRecommend,
    ) as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    finally:
        if store is not None:
            store.close()


@model_app.command("train")
def train(
    name: Annotated[ModelName, typer.Argument(help="Which model")],
    events: EventsOption = None,
    olist: OlistOption = None,
    window: Annotated[
        int | None,
        typer.Option(
            min=7,
            max=730,
            help="repeat-purchase: days after the first order in which a second one counts (default 90)",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Learn a model from the store's history (or --events / --olist), measure it on the held-out part, and
    keep it in the models folder with a card of its figures."""
    from onboardflow.intelligence.training import train_model

    settings, source = Settings(), _source(events, olist)
    folder = ModelFolder(settings.models_dir)

    def work(store):
        with _progress() as progress:
            bars = Bars(progress, "history")
            outcome = train_model(
                name=name.value,
                source=source,
                store=store,
                folder=folder,
                now=SystemClock().now(),
                progress=bars,
                window=window,
            )
            bars.finish()
            return outcome

    outcome = _run(work, source, settings)
    _show(outcome, as_json)
    if not as_json:
        console.print(f"saved {outcome.path} (card: {outcome.path.with_suffix('.json')})", highlight=False)


@model_app.command("evaluate")
def evaluate(
    name: Annotated[ModelName, typer.Argument(help="Which model")],
    events: EventsOption = None,
    olist: OlistOption = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="repeat-purchase: where to save the calibration plot "
            "(default: repeat-purchase.png in the models folder)"
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Measure the saved model on the held-out part of the history against its baseline; for repeat purchase,
    AUC, a calibration table and a calibration plot."""
    from onboardflow.intelligence.training import evaluate_model

    settings, source = Settings(), _source(events, olist)
    folder = ModelFolder(settings.models_dir)

    def work(store):
        with _progress() as progress:
            bars = Bars(progress, "history")
            outcome = evaluate_model(
                name=name.value, source=source, store=store, folder=folder, progress=bars, plot=plot
            )
            bars.finish()
            return outcome

    outcome = _run(work, source, settings)
    _show(outcome, as_json)
    if outcome.plot is not None and not as_json:
        console.print(f"calibration plot: {outcome.plot}", highlight=False)


def _show(outcome, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"model": outcome.name, **outcome.metrics}, default=str))
        return
    table = Table(title=f"{outcome.name}: held-out figures")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in outcome.metrics.items():
        table.add_row(key.replace("_", " "), "-" if value is None else str(value))
    console.print(table)
    evaluation = outcome.evaluation
    if evaluation is not None and getattr(evaluation, "table", None):
        console.print(_calibration(evaluation))
    if outcome.metrics.get("held_out_orders") == 0:
        errors.print(
            "no held-out orders: no customer ordered both before and after the split time, so the hit "
            "rate cannot be measured on this history",
            highlight=False,
        )


def _calibration(evaluation) -> Table:
    """Model and baseline side by side: each bin's predictions, how many, mean predicted, share observed."""
    table = Table(title="calibration on the held-out customers (bins of about equal count)")
    for column in (
        "model: up to",
        "n",
        "predicted",
        "observed",
        "baseline: up to",
        "n ",
        "predicted ",
        "observed ",
    ):
        table.add_column(column, justify="right")
    rows, base = evaluation.table, evaluation.baseline_table
    for index in range(max(len(rows), len(base))):
        table.add_row(
            *_cells(rows[index] if index < len(rows) else None),
            *_cells(base[index] if index < len(base) else None),
        )
    return table


def _cells(row) -> list[str]:
    if row is None:
        return [""] * 4
    return [f"{row.high:.3f}", str(row.count), f"{row.predicted:.3f}", f"{row.observed:.3f}"]


@model_app.command("list")
def list_models() -> None:
    """The trained models in the models folder, with when they were trained and their figures."""
    folder = ModelFolder(Settings().models_dir)
    table = Table(title=f"models in {folder.path}")
    for column in ("model", "trained at", "rows", "figures"):
        table.add_column(column)
    for name in ModelName:
        card = folder.card(name.value)
        if card is None:
            table.add_row(name.value, "not trained", "-", f"`onboardflow model train {name.value}`")
            continue
        figures = ", ".join(f"{key}={value}" for key, value in card.metrics.items() if value is not None)
        table.add_row(name.value, card.trained_at, str(card.rows), figures)
    console.print(table)


@model_app.command("sample-history")
def sample_history_command(
    out: Annotated[Path, typer.Option(help="The .jsonl file to write")],
    customers: Annotated[int, typer.Option(min=100, max=200_000)] = 3000,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Write a made-up shop's year of events (canonical JSON lines) to train and measure the models on where
    real history has no repeat customers: its customers reorder for reasons the models can learn."""
    from onboardflow.engine.ingest import event_to_json
    from onboardflow.intelligence.sample_shop import sample_history

    events = sample_history(customers=customers, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event_to_json(event)) + "\n")
    console.print(f"wrote {len(events)} event(s) of {customers} customer(s) to {out}", highlight=False)

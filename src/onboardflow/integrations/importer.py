"""The import service: a stream of events (and rejected rows) into the store, or into a JSON-lines file.

History is backfilled without moving journeys unless asked: a 2017 order should count in the profile,
not start a welcome journey today.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from onboardflow.core.model import Event
from onboardflow.engine.engine import BatchResult
from onboardflow.engine.ingest import event_to_json
from onboardflow.integrations.mapping import RowError


@dataclass
class ImportSummary:
    taken: int = 0
    rejected: int = 0
    by_event: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)  # a rejection's reason, without its line and values
    examples: list[str] = field(default_factory=list)  # the first rejections, whole
    processed: BatchResult = field(default_factory=BatchResult)


def import_events(
    items: Iterable[Event | RowError],
    *,
    engine=None,
    out: IO[str] | None = None,
    journeys: bool = False,
    batch_size: int = 1000,
    on_rejected: Callable[[RowError], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Take each event into `engine` (in batches, at event time) or write it to `out`; count the rest."""
    if (engine is None) == (out is None):
        raise ValueError("import into an engine or into a file, one of the two")
    summary = ImportSummary()
    batch: list[Event] = []
    for item in items:
        if isinstance(item, RowError):
            _reject(summary, item, on_rejected)
            continue
        summary.taken += 1
        summary.by_event[item.name] += 1
        if out is not None:
            out.write(json.dumps(event_to_json(item), ensure_ascii=False) + "\n")
        else:
            batch.append(item)
            if len(batch) >= batch_size:
                summary.processed.add(engine.ingest(batch, at_event_time=True, journeys=journeys))
                batch = []
        if on_progress is not None:
            on_progress(summary.taken + summary.rejected)
    if batch:
        summary.processed.add(engine.ingest(batch, at_event_time=True, journeys=journeys))
    return summary


def _reject(summary: ImportSummary, error: RowError, on_rejected) -> None:
    summary.rejected += 1
    summary.reasons[_reason_kind(error.message)] += 1
    if len(summary.examples) < 5:
        summary.examples.append(str(error))
    if on_rejected is not None:
        on_rejected(error)


_VALUE = re.compile(r"(?<= has )'[^']*'|(?<= has )\S+(?=,)|\b[0-9a-f]{16,}\b|\(the row has: [^)]*\)")


def _reason_kind(message: str) -> str:
    """A rejection's reason with its values and ids blanked, so like rejections count together."""
    return _VALUE.sub("…", message)[:160]

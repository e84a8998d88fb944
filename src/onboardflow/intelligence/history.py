"""Where the models learn from: the store's processed events (the default), a file of canonical events, or
the Olist dataset's folder; and each customer's events in time order."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from onboardflow.core.model import Event
from onboardflow.engine.ingest import LineError, read_events
from onboardflow.integrations.mapping import RowError
from onboardflow.integrations.olist import FILES, olist_events
from onboardflow.ports import Store

REVIEW_SUBMITTED = "Review Submitted"


class HistoryError(ValueError):
    """A history that cannot be read; the message names the file and what to fix."""


@dataclass(frozen=True)
class Source:
    """Which history: `events` (a .jsonl of canonical events), `olist` (the dataset's folder), or a store."""

    events: Path | None = None
    olist: Path | None = None

    def describe(self, store_url: str) -> str:
        if self.events:
            return f"events file {self.events}"
        if self.olist:
            return f"Olist folder {self.olist}"
        return f"store {store_url}"


def read_history(
    source: Source, store: Store | None, *, names: Iterable[str] | None = None
) -> Iterator[Event]:
    wanted = None if names is None else frozenset(names)
    if source.events is not None:
        events = events_file(source.events)
    elif source.olist is not None:
        events = (item for item in olist_events(source.olist) if not isinstance(item, RowError))
    else:
        if store is None:
            raise HistoryError("no store to read history from")
        return store.history(names=wanted)
    return (event for event in events if wanted is None or event.name in wanted)


def events_file(path: Path) -> Iterator[Event]:
    """The file's events; a bad line stops the read with its line number (train on clean history)."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise HistoryError(f"cannot read {path}: {error.strerror}") from None
    with handle:
        for item in read_events(handle):
            if isinstance(item, LineError):
                raise HistoryError(f"{path}:{item}; fix the line or leave it out, then train again")
            yield item


def by_customer(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Each customer's events, in time order (ties in the order read)."""
    found: dict[str, list[Event]] = {}
    for event in events:
        found.setdefault(event.customer_id, []).append(event)
    for history in found.values():
        history.sort(key=lambda event: event.at)
    return found


@dataclass(frozen=True, slots=True)
class Review:
    """A review's words and its stars (1 to 5): the star score is the label sentiment learns from."""

    id: str
    text: str
    stars: int


def reviews_in(events: Iterable[Event]) -> Iterator[Review]:
    for event in events:
        if event.name != REVIEW_SUBMITTED:
            continue
        review = _review(
            event.id,
            event.properties.get("title"),
            event.properties.get("text"),
            event.properties.get("score"),
        )
        if review is not None:
            yield review


def olist_reviews(folder: Path) -> Iterator[Review]:
    """Every review with words in the Olist reviews file, whether or not its order is in the sample: the
    text and the stars are all sentiment needs."""
    path = folder / FILES["reviews"]
    if not path.is_file():
        raise HistoryError(f"{folder} has no {FILES['reviews']}: point --olist at the dataset's folder")
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            review = _review(
                f"{row['review_id']}:{row['order_id']}",
                row.get("review_comment_title"),
                row.get("review_comment_message"),
                row.get("review_score"),
            )
            if review is not None:
                yield review


def _review(review_id: str, title, text, score) -> Review | None:
    words = "\n".join(part.strip() for part in (title, text) if isinstance(part, str) and part.strip())
    try:
        stars = int(score)
    except (TypeError, ValueError):
        return None
    if not words or not 1 <= stars <= 5:
        return None
    return Review(review_id, words, stars)

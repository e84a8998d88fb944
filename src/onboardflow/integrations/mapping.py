"""Import with a column mapping: rows of a CSV or JSON-lines file into canonical events, one row at a time.

A mapping is a small YAML file that says which column holds what; rows it cannot read are rejected with
the reason, and the rest are taken. Reading is streaming: memory does not grow with the file.
"""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from onboardflow.core.effects import stable_id
from onboardflow.core.model import Event


class MappingInvalid(ValueError):
    """A mapping file that cannot be used, with what to fix."""


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that was not taken, and why: `line` is the file line the row starts on."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    type: Literal["str", "int", "float", "bool"] = "str"


class Mapping(BaseModel):
    """Which column holds what. `id` is a template over columns (`{InvoiceNo}-{StockCode}`); without it an
    event's id is a hash of its row, so importing a file twice imports it once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["csv", "jsonl"] | None = None
    event: str | None = Field(default=None, description="One event name for every row")
    event_column: str | None = Field(default=None, description="Or a column whose value names the event")
    events: dict[str, str] = Field(default_factory=dict, description="Column value -> event name")
    id: str | None = None
    customer_id: str
    at: str
    at_format: str | None = Field(default=None, description="strptime format; ISO 8601 if absent")
    timezone: str = Field(default="UTC", description="The zone of times written without one")
    properties: dict[str, str | Column] = Field(default_factory=dict)
    customer: dict[str, str | Column] = Field(default_factory=dict)
    traits: dict[str, str | Column] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/London") from None
        return value

    @model_validator(mode="after")
    def _one_event_source(self) -> Mapping:
        if (self.event is None) == (self.event_column is None):
            raise ValueError("say the event name with `event`, or the column that names it with `event_column`")
        return self


def load_mapping(path: Path) -> Mapping:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Mapping.model_validate(data)
    except OSError as error:
        raise MappingInvalid(f"{path}: cannot read the mapping: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise MappingInvalid(f"{path}: not valid YAML: {error}") from None
    except ValidationError as error:
        lines = [f"{'.'.join(map(str, item['loc'])) or 'mapping'}: {item['msg']}" for item in error.errors()]
        raise MappingInvalid(f"{path}: " + "; ".join(lines)) from None


def read_rows(path: Path, format: str | None = None) -> Iterator[tuple[int, dict[str, Any]] | RowError]:
    """(line, row) for each row of a CSV (header first) or JSON-lines file, streaming."""
    kind = format or ("jsonl" if path.suffix in (".jsonl", ".ndjson", ".json") else "csv")
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        if kind == "jsonl":
            yield from _json_rows(handle)
        else:
            yield from numbered_rows(handle)


def numbered_rows(handle: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """CSV rows (header first) with the line each starts on: a quoted field may hold line breaks."""
    reader = csv.DictReader(handle)
    start = 2
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _json_rows(handle: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]] | RowError]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield RowError(number, f"not JSON: {error.msg}")
            continue
        yield (number, value) if isinstance(value, dict) else RowError(number, "a row is a JSON object")


def map_rows(rows: Iterable[tuple[int, dict[str, Any]] | RowError], mapping: Mapping) -> Iterator[Event | RowError]:
    zone = ZoneInfo(mapping.timezone)
    for item in rows:
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        try:
            yield map_row(row, mapping, zone)
        except ValueError as error:
            yield RowError(line, str(error))


def map_row(row: dict[str, Any], mapping: Mapping, zone: ZoneInfo) -> Event:
    """One row as an event; raises ValueError saying which column is wrong and how."""
    customer_id = _required(row, mapping.customer_id)
    name = mapping.event or mapping.events.get(_required(row, mapping.event_column), None)
    if name is None:
        value = row.get(mapping.event_column)
        raise ValueError(f"column {mapping.event_column!r} has {value!r}, which `events` does not map to an event")
    at = read_time(_required(row, mapping.at), mapping.at_format, zone, column=mapping.at)
    properties = {key: _value(row, spec) for key, spec in mapping.properties.items()}
    block = {key: _value(row, spec) for key, spec in mapping.customer.items()}
    traits = {key: _value(row, spec) for key, spec in mapping.traits.items()}
    if traits:
        block["traits"] = traits
    event_id = _format_id(mapping.id, row) if mapping.id else stable_id("imp", *sorted(row.items()))
    return Event(event_id, name, customer_id, at, properties, {k: v for k, v in block.items() if v is not None} or None)


def read_time(text: str, fmt: str | None, zone: ZoneInfo, *, column: str) -> datetime:
    try:
        value = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        expected = f"the format {fmt!r}" if fmt else "ISO 8601 (2026-03-01T10:00:00Z)"
        raise ValueError(f"column {column!r} has {text!r}, which is not a time in {expected}") from None
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)


def _required(row: dict[str, Any], column: str) -> str:
    if column not in row:
        raise ValueError(f"no column {column!r} (the row has: {', '.join(map(str, row))})")
    value = row[column]
    if value is None or str(value).strip() == "":
        raise ValueError(f"column {column!r} is empty")
    return str(value).strip()


_CONVERT = {"str": str, "int": int, "float": float, "bool": lambda text: text.strip().lower() in ("1", "true", "yes")}


def _value(row: dict[str, Any], spec: str | Column) -> Any:
    column, kind = (spec, "str") if isinstance(spec, str) else (spec.column, spec.type)
    if column not in row:
        raise ValueError(f"no column {column!r} (the row has: {', '.join(map(str, row))})")
    value = row[column]
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if not isinstance(value, str):
        return value
    try:
        return _CONVERT[kind](value.strip())
    except ValueError:
        raise ValueError(f"column {column!r} has {value!r}, which is not a {kind}") from None


def _format_id(template: str, row: dict[str, Any]) -> str:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    missing = [name for name in names if name not in row]
    if missing:
        raise ValueError(f"the id template names column(s) {', '.join(missing)}, which the row does not have")
    return template.format(**row)

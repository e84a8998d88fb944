"""Reading processed events back as history: for the models (training, scores) and the rules that count
a customer's earlier tickets. Each customer's events come in their stream order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from onboardflow.core.model import Event
from onboardflow.store import codec
from onboardflow.store.schema import events
from onboardflow.store.statements import ids_in, rows_by_ids

COLUMNS = (
    events.c.id,
    events.c.name,
    events.c.customer_id,
    events.c.at,
    events.c.properties,
    events.c.customer,
)
STREAM_ROWS = 2000


def _named(query: sa.Select, names: Iterable[str] | None) -> sa.Select:
    return query if names is None else query.where(events.c.name.in_(sorted(set(names))))


def histories(
    connection: sa.Connection, customer_ids: Iterable[str], names: Iterable[str] | None
) -> dict[str, list[Event]]:
    query = _named(
        sa.select(*COLUMNS).where(ids_in(connection.dialect.name, events.c.customer_id)), names
    )
    found: dict[str, list[tuple[int, Event]]] = {}
    query = query.add_columns(events.c.position)
    for row in rows_by_ids(connection, query, customer_ids):
        found.setdefault(row["customer_id"], []).append((row["position"], codec.event_from_document(row)))
    return {
        customer: [event for _, event in sorted(rows, key=lambda item: item[0])]
        for customer, rows in found.items()
    }


def customer_history(connection: sa.Connection, customer_id: str, names: Iterable[str] | None) -> list[Event]:
    query = _named(sa.select(*COLUMNS).where(events.c.customer_id == customer_id), names)
    rows = connection.execute(query.order_by(events.c.position, events.c.id)).mappings()
    return [codec.event_from_document(row) for row in rows]


def stream(connection: sa.Connection, names: Iterable[str] | None) -> Iterator[Event]:
    """Every processed event, customer by customer, each customer's in stream order; read in chunks."""
    query = _named(sa.select(*COLUMNS), names).order_by(events.c.customer_id, events.c.position, events.c.id)
    result = connection.execution_options(yield_per=STREAM_ROWS).execute(query).mappings()
    for row in result:
        yield codec.event_from_document(row)

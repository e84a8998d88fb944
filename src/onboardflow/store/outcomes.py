"""The SQL store's outcome reads (enrollments by journey, profiles in bulk) and its report runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager

import sqlalchemy as sa

from onboardflow.core.model import Customer, Enrollment
from onboardflow.ports import ReportRun
from onboardflow.store import codec
from onboardflow.store.schema import customers, enrollments, report_runs
from onboardflow.store.statements import dialect_insert, ids_in, rows_by_ids

READ_ROWS = 2000


class SqlOutcomes:
    """Mixed into SqlStore: `_reading` is its read-only transaction, `_engine` its engine."""

    _reading: Callable[[], AbstractContextManager[sa.Connection]]
    _engine: sa.Engine

    def journey_enrollments(self, journey_id: str | None = None) -> list[Enrollment]:
        query = sa.select(enrollments).order_by(enrollments.c.started_at, enrollments.c.id)
        if journey_id is not None:
            query = query.where(enrollments.c.journey_id == journey_id)
        with self._reading() as connection:
            return list(_enrollments(connection.execution_options(yield_per=READ_ROWS).execute(query)))

    def profiles(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        with self._reading() as connection:
            query = sa.select(customers).where(ids_in(connection.dialect.name, customers.c.id))
            rows = rows_by_ids(connection, query, set(customer_ids))
            return {row["id"]: codec.customer_from_row(row) for row in rows}

    def claim_report_run(self, run: ReportRun) -> bool:
        values = {
            "id": run.id,
            "kind": run.kind,
            "period": run.period,
            "started_at": run.started_at,
            "recipients": list(run.recipients),
        }
        with self._engine.begin() as connection:
            insert = dialect_insert(connection.dialect.name, report_runs).on_conflict_do_nothing()
            return connection.execute(insert.values(values).returning(report_runs.c.id)).first() is not None

    def report_runs(self, kind: str | None = None) -> list[ReportRun]:
        query = sa.select(report_runs).order_by(report_runs.c.started_at, report_runs.c.id)
        if kind is not None:
            query = query.where(report_runs.c.kind == kind)
        with self._reading() as connection:
            return [
                ReportRun(row["id"], row["kind"], row["period"], row["started_at"], tuple(row["recipients"]))
                for row in connection.execute(query).mappings()
            ]


def _enrollments(result: sa.CursorResult) -> Iterator[Enrollment]:
    for row in result.mappings():
        yield codec.enrollment_from_row(row)

"""Opening a database: the URL made ready for its driver, the engine tuned for it, failures said plainly.

SQLite runs in WAL mode and begins every writing transaction with BEGIN IMMEDIATE, so processes that
share the file wait their turn (up to 30 s) instead of failing; PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from onboardflow.store import codec

DEFAULT_URL = "sqlite:///./var/onboardflow.db"
BUSY_TIMEOUT_SECONDS = 30
BEGIN_MODE = "onboardflow_begin"  # execution option: "DEFERRED" for read-only SQLite transactions


class StoreError(Exception):
    """A store cannot be used as asked; the message says what to check."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


class SchemaNotReady(StoreError):
    """The database has no onboardflow schema, or not the one this version needs."""


def parse_url(url: str) -> URL:
    """The URL with the driver onboardflow uses: `postgresql://` and `postgres://` become psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(
            f"{url!r} is not a database URL: write sqlite:///path/to.db or postgresql://user@host:5432/db"
        ) from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"{safe_url(parsed)}: onboardflow stores data in SQLite or PostgreSQL only")
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise StoreError(
            f"{safe_url(parsed)} is an in-memory SQLite database, gone when its connection closes: "
            "use `memory` for the in-memory store, or sqlite:///path/to.db for a file"
        )
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL to show people: as they would write it, the password hidden."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def create_store_engine(url: str | URL) -> sa.Engine:
    parsed = parse_url(url) if isinstance(url, str) else url
    common: dict[str, Any] = {"json_serializer": codec.dumps, "json_deserializer": codec.loads}
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, common)
    return sa.create_engine(parsed, pool_pre_ping=True, **common)


def _sqlite_engine(url: URL, common: dict[str, Any]) -> sa.Engine:
    if url.database and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}, **common
    )
    event.listen(engine, "connect", _tune_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver's own BEGIN off: `_begin_sqlite` says how to begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _begin_sqlite(connection: sa.Connection) -> None:
    mode = connection.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def check_connection(engine: sa.Engine) -> None:
    """Connect once, so a wrong URL fails here with a message that says what to check."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as error:
        raise unavailable(engine.url, error) from error


def unavailable(url: URL, error: DBAPIError) -> StoreUnavailable:
    reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    if url.get_backend_name() == "sqlite":
        return StoreUnavailable(
            f"cannot open the SQLite database {safe_url(url)}: {reason}. "
            "Check that the path is right and that its folder exists and is writable."
        )
    return StoreUnavailable(
        f"cannot connect to the PostgreSQL database {safe_url(url)}: {reason}. "
        "Check that the server is running and reachable at that host and port, "
        "that the user and password are right, and that the database exists."
    )

"""Shared fixtures: a `store` for every Store implementation, and PostgreSQL databases made for the session.

PostgreSQL is the server at ONBOARDFLOW_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
When it cannot be reached, the tests that need it fail: CI has the server, so a skip would hide a problem.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from onboardflow.store.memory import MemoryStore
from onboardflow.store.migrate import upgrade
from onboardflow.store.schema import metadata, partitions
from onboardflow.store.sql import SqlStore

POSTGRES_URL = os.environ.get("ONBOARDFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _server_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is needed at {POSTGRES_URL} (ONBOARDFLOW_TEST_POSTGRES_URL names another): {error}",
            pytrace=False,
        )


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; yields its URL."""
    name = f"onboardflow_test_{os.getpid()}_{secrets.token_hex(4)}"
    with _server_connection() as server:
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with _server_connection() as server:
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A database of its own for one test, with no tables at all."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One database for the session, at the newest schema; `store` empties it before each test."""
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest schema, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "onboardflow.db"
    upgrade(f"sqlite:///{path}")
    return path


def _empty_postgres(url: str) -> SqlStore:
    names = sql.SQL(", ").join(sql.Identifier(t.name) for t in metadata.sorted_tables if t is not partitions)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(names))
    return SqlStore(url)


def _open_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore | SqlStore:
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        path = tmp_path / "onboardflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return SqlStore(f"sqlite:///{path}")
    return _empty_postgres(request.getfixturevalue("postgres_url"))


@contextmanager
def _opened(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore | SqlStore]:
    store = _open_store(kind, request, tmp_path)
    try:
        yield store
    finally:
        store.close()


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore | SqlStore]:
    """An empty store of each kind: the same test runs on memory, SQLite and PostgreSQL."""
    with _opened(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture(params=["sqlite", POSTGRES])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """An empty SQL store, on SQLite and on PostgreSQL."""
    with _opened(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    with _opened("sqlite", request, tmp_path) as opened:
        yield opened


@pytest.fixture
def postgres_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """An empty PostgreSQL store; tests using it are marked `postgres`."""
    with _opened("postgres", request, tmp_path) as opened:
        yield opened

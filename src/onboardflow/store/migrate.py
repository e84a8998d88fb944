"""Alembic, configured in code: the migrations ship inside the package, no alembic.ini needed at run time.

New revision (named by date, `2026-12-01_0002_add_tasks.py`):
    from alembic import command
    command.revision(alembic_config(), message="add tasks", rev_id="0002", autogenerate=False)
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from onboardflow.store.connection import SchemaNotReady, create_store_engine, safe_url, unavailable

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_LOCK = 0x0B0A2D_F10E  # PostgreSQL advisory lock key: one process upgrades at a time


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (the newest by default); a no-op when it is there."""
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except DBAPIError as error:
        if error.connection_invalidated or _is_connect_error(error):
            raise unavailable(engine.url, error) from error
        raise
    finally:
        engine.dispose()


def _is_connect_error(error: DBAPIError) -> bool:
    return error.statement is None  # failed before any statement ran: the connection itself


def check_schema(connection: sa.Connection) -> None:
    """Fail with what to run when the database is not at the schema this code needs."""
    current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current == head:
        return
    where = safe_url(connection.engine.url)
    if current is None:
        raise SchemaNotReady(
            f"the database {where} has no onboardflow tables yet: run `onboardflow init`, "
            "or open it with SqlStore.open(url, migrate=True)"
        )
    raise SchemaNotReady(
        f"the database {where} is at schema revision {current}, this onboardflow needs {head}: "
        "run `onboardflow init` to upgrade it (or use the onboardflow version that wrote it)"
    )

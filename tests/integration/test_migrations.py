"""The migrations build exactly the schema the code defines, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from onboardflow.core.validation import check_document
from onboardflow.ports import PARTITIONS
from onboardflow.store import schema
from onboardflow.store.connection import create_store_engine
from onboardflow.store.migrate import MIGRATIONS, alembic_config, head_revision, upgrade
from onboardflow.store.schema import metadata
from onboardflow.store.sql import SqlStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/empty.db"
    return request.getfixturevalue("empty_postgres_url")


def differences(url: str) -> list:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def scalar(url: str, query: str):
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(query).scalar()
    finally:
        engine.dispose()


def test_an_empty_database_upgraded_to_head_matches_the_schema_in_code(empty_url):
    upgrade(empty_url)

    assert differences(empty_url) == []
    assert scalar(empty_url, "SELECT version_num FROM alembic_version") == head_revision()


def test_upgrading_twice_changes_nothing(empty_url):
    upgrade(empty_url)
    upgrade(empty_url)

    assert differences(empty_url) == []


def test_the_migration_writes_one_row_per_work_partition(empty_url):
    upgrade(empty_url)

    assert scalar(empty_url, "SELECT count(*) FROM partitions") == PARTITIONS
    assert scalar(empty_url, "SELECT max(id) FROM partitions") == PARTITIONS - 1


def test_downgrading_to_base_leaves_no_tables(empty_url):
    upgrade(empty_url)
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        names = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()

    assert names <= {"alembic_version"}


def test_migration_files_are_named_by_date_and_revision():
    names = sorted(path.name for path in (MIGRATIONS / "versions").glob("*.py"))

    assert names and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}_\w+\.py", name) for name in names)


def test_a_version_stored_with_sentence_criteria_keeps_them_in_its_description_and_reads_again(empty_url):
    upgrade(empty_url, "0011")
    definition = {"id": "welcome", "name": "Welcome", "owner": "cs@shop.example",
                  "description": "First order.",
                  "trigger": {"event": "Order Completed"},
                  "steps": [{"id": "hello", "send": {"channel": "email", "template": "welcome"}}],
                  "acceptance": ["no customer receives more than 4 messages in the first 7 days",
                                 {"max_messages": 6, "within": "2w"}]}
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(schema.journey_versions.insert().values(
                journey_id="welcome", version=1, digest="d1", definition=definition, source="welcome.yaml",
                created_at=datetime(2026, 3, 1, tzinfo=UTC)))
    finally:
        engine.dispose()

    upgrade(empty_url)

    store = SqlStore(empty_url)
    try:
        stored = store.version("welcome", 1)
    finally:
        store.close()
    assert stored.digest == "d1"
    assert stored.definition["acceptance"] == [{"max_messages": 6, "within": "2w"}]
    assert stored.definition["description"] == (
        "First order.\n\nAcceptance criteria as first written (sentences, not checked): "
        "no customer receives more than 4 messages in the first 7 days")
    version = check_document(stored.definition, source="stored")
    labels = [criterion.label for criterion in version.journey.acceptance]
    assert labels == ["at most 6 messages in the first 14d"]

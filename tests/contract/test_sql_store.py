"""What only the SQL store does: opening URLs, saying what is wrong, rolling back, and sharing work safely."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from onboardflow.core.effects import ScheduleTimer
from onboardflow.core.model import Customer, Event
from onboardflow.ports import PARTITIONS, Changes
from onboardflow.store.connection import (
    SchemaNotReady,
    StoreError,
    StoreUnavailable,
    create_store_engine,
    parse_url,
)
from onboardflow.store.memory import MemoryStore
from onboardflow.store.sql import SqlStore, open_store

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("written", ["postgresql://u@db:5432/app", "postgres://u@db:5432/app"])
def test_postgres_urls_use_psycopg_3(written):
    assert parse_url(written).drivername == "postgresql+psycopg"


def test_a_url_that_is_not_a_database_url_says_what_to_write():
    with pytest.raises(StoreError, match="not a database URL: write sqlite:///path/to.db or postgresql://"):
        SqlStore("not a url")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_database_is_refused_with_the_alternative(url):
    with pytest.raises(StoreError, match="use `memory` for the in-memory store"):
        SqlStore.open(url)


def test_a_database_other_than_sqlite_or_postgres_is_refused():
    with pytest.raises(StoreError, match="SQLite or PostgreSQL only"):
        SqlStore("mysql://u@db/app")


def test_a_refused_postgres_connection_names_the_url_without_its_password():
    url = "postgresql://shop:s3cret@127.0.0.1:1/onboardflow"

    with pytest.raises(StoreUnavailable) as raised:
        SqlStore.open(url)

    message = str(raised.value)
    assert "postgresql://shop:***@127.0.0.1:1/onboardflow" in message
    assert "s3cret" not in message
    assert "Check that the server is running" in message


def test_a_sqlite_file_that_cannot_be_opened_says_so(tmp_path):
    folder = tmp_path / "db.sqlite"
    folder.mkdir()  # a folder where the file should be

    with pytest.raises(StoreUnavailable, match=f"cannot open the SQLite database sqlite:///{folder}"):
        SqlStore(f"sqlite:///{folder}")


def test_a_database_without_the_schema_is_not_migrated_silently(tmp_path):
    url = f"sqlite:///{tmp_path}/new.db"

    with pytest.raises(SchemaNotReady, match="has no onboardflow tables yet: run `onboardflow init`"):
        SqlStore(url)

    SqlStore.open(url).close()
    SqlStore(url).close()


def test_the_default_store_is_a_sqlite_file_in_var(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    store = SqlStore.open()
    store.close()

    assert (tmp_path / "var" / "onboardflow.db").is_file()


def test_open_store_gives_memory_or_sql(tmp_path):
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store("memory"), MemoryStore)
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(store, SqlStore)
    store.close()


def test_sqlite_runs_in_wal_mode_and_waits_for_locks(sqlite_store):
    engine = create_store_engine(sqlite_store.url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()


def test_times_come_back_aware_in_utc(sql_store):
    with sql_store.transaction() as tx:
        tx.apply(Changes(customers={"c1": Customer("c1", updated_at=T0)}))

    assert sql_store.customer("c1").updated_at.tzinfo is UTC


def test_a_time_without_a_zone_is_refused(sql_store):
    with pytest.raises((sa.exc.StatementError, ValueError), match="has no time zone"):
        with sql_store.transaction() as tx:
            tx.apply(Changes(customers={"c1": Customer("c1", updated_at=datetime(2026, 3, 1))}))


def test_a_transaction_that_fails_writes_nothing(sql_store):
    with pytest.raises(RuntimeError):
        with sql_store.transaction() as tx:
            tx.apply(Changes(customers={"c1": Customer("c1")}))
            raise RuntimeError("the batch failed")

    assert sql_store.customer("c1") is None


def test_a_big_batch_is_written_in_one_apply(sql_store):
    events = [(Event(f"e{n}", "Signed Up", f"c{n}", T0), 1) for n in range(3000)]
    timers = {f"t{n}": ScheduleTimer(f"t{n}", f"en{n}", f"c{n}", T0, "welcome") for n in range(3000)}
    with sql_store.transaction() as tx:
        tx.apply(
            Changes(events=events, timers=timers, customers={f"c{n}": Customer(f"c{n}") for n in range(3000)})
        )
    with sql_store.transaction() as tx:
        tx.apply(Changes(fired_timers=set(timers)))

    counts = sql_store.counts()
    assert (counts["events"], counts["customers"], counts["timers"]) == (3000, 3000, 0)


@pytest.mark.postgres
def test_postgres_workers_claim_different_partitions(postgres_store):
    with postgres_store.transaction() as first, postgres_store.transaction() as second:
        mine = first.claim_partitions(10)
        first.lock_partitions([60, 61])
        theirs = second.claim_partitions(PARTITIONS)

    assert len(mine) == 10 and len(theirs) == PARTITIONS - len(set(mine) | {60, 61})
    assert not set(mine) & set(theirs) and not {60, 61} & set(theirs)


def test_sqlite_writers_in_two_processes_wait_for_each_other(sqlite_store):
    other = SqlStore(sqlite_store.url.render_as_string(hide_password=False))
    finished: list[int] = []
    try:
        with sqlite_store.transaction() as tx:
            tx.apply(Changes(customers={"c1": Customer("c1")}))
            writer = threading.Thread(target=lambda: finished.append(other.enqueue([_event()], now=T0)))
            writer.start()
            time.sleep(0.2)  # the other writer is now waiting for our lock
            assert finished == []
        writer.join(timeout=10)
    finally:
        other.close()

    assert finished == [1]


def _event() -> Event:
    return Event("e1", "Signed Up", "c1", T0 + timedelta(minutes=1))

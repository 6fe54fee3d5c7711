"""Storage on a temporary SQLite file: migrations, schema drift, the event log, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect, text
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage import (
    Database,
    DatabaseUnavailableError,
    EventStore,
    StorageError,
    StoredEvent,
)
from hotline.storage.migrate import (
    current,
    current_async,
    downgrade,
    downgrade_async,
    head_revision,
    upgrade,
    upgrade_async,
)
from hotline.storage.models import Base

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def settings(tmp_path: Path) -> DatabaseSettings:
    # A directory that does not exist yet: create_engine must make it.
    return DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/var/hotline.db")


@pytest.fixture
async def db(settings: DatabaseSettings) -> AsyncIterator[Database]:
    await upgrade_async(settings)
    async with Database(settings) as database:
        yield database


def schema_diff(connection: Connection, metadata: MetaData = Base.metadata) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_migrations_up_down_up(settings: DatabaseSettings, tmp_path: Path) -> None:
    assert current(settings) is None
    upgrade(settings)
    assert (tmp_path / "var" / "hotline.db").is_file()
    assert current(settings) == head_revision()
    downgrade(settings, "base")
    assert current(settings) is None
    upgrade(settings, "head")
    assert current(settings) == head_revision()


async def test_downgrade_drops_the_tables(db: Database, settings: DatabaseSettings) -> None:
    async with db.engine.connect() as conn:
        assert "events" in await conn.run_sync(table_names)
    await downgrade_async(settings, "base")
    async with db.engine.connect() as conn:
        assert await conn.run_sync(table_names) == {"alembic_version"}


async def test_sync_api_refuses_a_running_loop(settings: DatabaseSettings) -> None:
    with pytest.raises(StorageError, match="_async"):
        upgrade(settings)
    await upgrade_async(settings)
    assert await current_async(settings) == head_revision()


async def test_migrated_schema_matches_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(schema_diff) == []
        # The check can fail: a model change without a migration shows up as a diff.
        drifted = MetaData(naming_convention=Base.metadata.naming_convention)
        for table in Base.metadata.tables.values():
            table.to_metadata(drifted)
        drifted.tables["events"].append_column(Column("extra", String(8)))
        diff = await conn.run_sync(schema_diff, drifted)
        assert [op[0] for op in diff] == ["add_column"]


async def test_sqlite_connection_settings(db: Database) -> None:
    async with db.engine.connect() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


async def test_sqlite_transactions_roll_back_ddl(db: Database) -> None:
    # SQLAlchemy emits BEGIN itself, so even DDL is undone by a rollback.
    async with db.engine.connect() as conn:
        await conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        await conn.rollback()
        assert "scratch" not in await conn.run_sync(table_names)


async def test_event_store_round_trip(db: Database) -> None:
    store = EventStore(db)
    t0 = datetime(2025, 3, 1, 9, 30, tzinfo=BEIJING)
    events = [
        StoredEvent(
            kind="call.ivr",
            ts=t0 + timedelta(seconds=1),
            call_id="c1",
            payload={"菜单": "信用卡服务", "digits": "1234", "nested": {"语言": "普通话"}},
        ),
        StoredEvent(kind="call.offered", ts=t0, call_id="c1", queue="cards", monotonic_ns=7),
        StoredEvent(kind="agent.paused", ts=t0, agent_id="a1", payload={"reason": "no-answer"}),
        StoredEvent(kind="call.offered", ts=t0, call_id="c2", queue="loans"),
    ]
    assert await store.append_many(events) == 4
    assert await store.append_many([]) == 0

    c1 = await store.for_call("c1")
    assert [e.kind for e in c1] == ["call.offered", "call.ivr"]  # by ts, not insert order
    ivr = c1[1]
    assert ivr.payload == {"菜单": "信用卡服务", "digits": "1234", "nested": {"语言": "普通话"}}
    assert ivr.ts == t0 + timedelta(seconds=1)
    assert ivr.ts.tzinfo is UTC  # stored and returned as UTC, whatever zone came in
    assert c1[0].monotonic_ns == 7 and c1[0].queue == "cards"
    assert all(e.id is not None for e in c1)

    recent = await store.recent(limit=3)
    assert [(e.kind, e.call_id) for e in recent] == [
        ("call.offered", "c2"),
        ("agent.paused", None),
        ("call.offered", "c1"),
    ]
    offered = await store.recent(limit=10, kind="call.offered")
    assert [e.call_id for e in offered] == ["c2", "c1"]
    assert await store.for_call("nobody") == []


def test_stored_event_needs_an_aware_timestamp() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        StoredEvent(kind="x", ts=datetime(2025, 1, 1))


async def test_ping(db: Database) -> None:
    assert await db.ping() is True


async def test_unreachable_database_hides_the_password() -> None:
    # Port 1 on loopback refuses at once; no PostgreSQL server is needed for this test.
    settings = DatabaseSettings(url="postgresql+asyncpg://hotline:s3cret-pw@127.0.0.1:1/hotline")
    async with Database(settings) as db:
        assert await db.ping() is False
        with pytest.raises(DatabaseUnavailableError) as caught:
            await db.connect()
    message = str(caught.value)
    assert "s3cret-pw" not in message and "s3cret-pw" not in repr(caught.value)
    assert "hotline:***@127.0.0.1:1/hotline" in message
    assert "refused" in message.lower() or "connect call failed" in message.lower()
    with pytest.raises(DatabaseUnavailableError, match=r"\*\*\*") as caught:
        await upgrade_async(settings)
    assert "s3cret-pw" not in str(caught.value)


def test_unusable_sqlite_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{blocker}/hotline.db")
    with pytest.raises(DatabaseUnavailableError, match="cannot create its directory"):
        upgrade(settings)

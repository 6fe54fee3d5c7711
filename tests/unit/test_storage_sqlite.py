"""What only SQLite has: the file and its directory, connection settings, transactional DDL,
and errors (the migrations, schema and event log on both backends: test_storage_database.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage import (
    Database,
    DatabaseUnavailableError,
    StorageError,
)
from hotline.storage.migrate import (
    current,
    current_async,
    downgrade,
    head_revision,
    upgrade,
    upgrade_async,
)

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def settings(tmp_path: Path) -> DatabaseSettings:
    # A directory that does not exist yet: create_engine must make it.
    return DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/var/hotline.db")


@pytest.fixture
async def sqlite_db(settings: DatabaseSettings) -> AsyncIterator[Database]:
    """SQLite only (unlike the ``db`` fixture of the other storage tests)."""
    await upgrade_async(settings)
    async with Database(settings) as database:
        yield database


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_the_sync_api_makes_the_directory(settings: DatabaseSettings, tmp_path: Path) -> None:
    assert current(settings) is None
    upgrade(settings)
    assert (tmp_path / "var" / "hotline.db").is_file()
    assert current(settings) == head_revision()
    downgrade(settings, "base")
    assert current(settings) is None
    upgrade(settings, "head")
    assert current(settings) == head_revision()


async def test_sync_api_refuses_a_running_loop(settings: DatabaseSettings) -> None:
    with pytest.raises(StorageError, match="_async"):
        upgrade(settings)
    await upgrade_async(settings)
    assert await current_async(settings) == head_revision()


async def test_sqlite_connection_settings(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


async def test_sqlite_transactions_roll_back_ddl(sqlite_db: Database) -> None:
    # SQLAlchemy emits BEGIN itself, so even DDL is undone by a rollback.
    async with sqlite_db.engine.connect() as conn:
        await conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        await conn.rollback()
        assert "scratch" not in await conn.run_sync(table_names)


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

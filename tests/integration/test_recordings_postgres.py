"""Migration 0003 up and down on PostgreSQL (the schema at head: test_storage_database.py)."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.migrate import current_async, downgrade_async, upgrade_async

RECORDING_TABLES = {"recordings", "recording_audit", "qa_scores"}


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_0003_up_down_up(pg_settings: DatabaseSettings) -> None:
    await upgrade_async(pg_settings, "0003_recordings")
    assert await current_async(pg_settings) == "0003_recordings"
    await downgrade_async(pg_settings, "0002_call_records")
    async with Database(pg_settings) as database, database.engine.connect() as conn:
        left = await conn.run_sync(tables)
    assert not left & RECORDING_TABLES and "calls" in left
    await upgrade_async(pg_settings, "0003_recordings")
    async with Database(pg_settings) as database, database.engine.connect() as conn:
        assert await conn.run_sync(tables) >= RECORDING_TABLES

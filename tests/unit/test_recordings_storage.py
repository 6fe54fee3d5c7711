"""Migration 0003 on SQLite (up, down to 0002, up again), schema matches the models, store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.migrate import current_async, downgrade_async, upgrade_async
from hotline.storage.models import Base
from hotline.storage.recording_store import SqlRecordingStore
from recordings.records import SearchFilter

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
RECORDING_TABLES = {"recordings", "recording_audit", "qa_scores"}


@pytest.fixture
def settings(tmp_path: Path) -> DatabaseSettings:
    return DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/rec.db")


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_0003_up_down_up(settings: DatabaseSettings) -> None:
    await upgrade_async(settings, "0003_recordings")
    assert await current_async(settings) == "0003_recordings"
    await downgrade_async(settings, "0002_call_records")
    async with Database(settings) as db, db.engine.connect() as conn:
        left = await conn.run_sync(tables)
    assert not left & RECORDING_TABLES
    assert {"events", "calls", "agent_intervals"} <= left
    await upgrade_async(settings, "0003_recordings")
    async with Database(settings) as db, db.engine.connect() as conn:
        assert await conn.run_sync(tables) >= RECORDING_TABLES


async def test_schema_matches_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_store_round_trip_and_search(db: Database) -> None:
    store = SqlRecordingStore(db)
    for n, (agent, queue, caller) in enumerate(
        [("a1", "credit-card", "13800000001"), ("a2", "basic-banking", "13800000002")]
    ):
        await store.add_started(
            call_id=f"c{n}", agent_id=agent, queue=queue, product="p", caller=caller,
            path=f"2025-03-01/p/c{n}.wav", started_at=T0 + timedelta(minutes=n),
        )  # fmt: skip
    await store.finish("c0", ended_at=T0 + timedelta(seconds=30), duration_s=30.0,
                       size_bytes=480_044, sha256="ab" * 32)  # fmt: skip
    row = await store.get("c0")
    assert row is not None and row.duration_s == 30.0 and row.sha256 == "ab" * 32
    assert row.started_at == T0 and row.legal_hold is False
    assert [r.call_id for r in await store.search(SearchFilter(agent_id="a2"))] == ["c1"]
    assert [r.call_id for r in await store.search(SearchFilter(caller="13800000001"))] == ["c0"]
    assert [r.call_id for r in await store.search(SearchFilter(queue="credit-card"))] == ["c0"]
    window = SearchFilter(since=T0 + timedelta(seconds=30), until=T0 + timedelta(hours=1))
    assert [r.call_id for r in await store.search(window)] == ["c1"]
    assert [r.call_id for r in await store.search(SearchFilter())] == ["c1", "c0"]
    assert await store.set_legal_hold("c0", True)
    assert not await store.set_legal_hold("nope", True)

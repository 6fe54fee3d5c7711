"""Storage on each backend (SQLite and PostgreSQL, the ``db`` and ``empty_database``
fixtures): migrations both ways, the migrated schema against the models, the event log's
rows. What only one backend has is in test_storage_sqlite.py and, for PostgreSQL's types,
tests/integration/test_storage_postgres.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, inspect
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage import Database, EventStore, StoredEvent
from hotline.storage.migrate import current_async, downgrade_async, head_revision, upgrade_async
from hotline.storage.schema import metadata
from tests.fakes.databases import schema_diff

BEIJING = timezone(timedelta(hours=8))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_up_down_up(empty_database: DatabaseSettings) -> None:
    assert await current_async(empty_database) is None
    await upgrade_async(empty_database)
    assert await current_async(empty_database) == head_revision()
    await downgrade_async(empty_database, "base")
    assert await current_async(empty_database) is None
    async with Database(empty_database) as db, db.engine.connect() as conn:
        assert await conn.run_sync(table_names) == {"alembic_version"}
    await upgrade_async(empty_database, "head")
    assert await current_async(empty_database) == head_revision()


def drift(connection: Connection) -> list[Any]:
    """The schema diff against the models with one column more on ``events``."""
    drifted = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["events"].append_column(Column("extra", String(8)))
    return schema_diff(connection, drifted)


async def test_migrated_schema_matches_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(schema_diff) == []
        # The check can fail: a model change without a migration shows up as a diff.
        assert [op[0] for op in await conn.run_sync(drift)] == ["add_column"]


async def test_event_store_round_trip(db: Database) -> None:
    store = EventStore(db)
    t0 = datetime(2025, 3, 1, 9, 30, tzinfo=BEIJING)
    payload = {"菜单": "信用卡服务", "digits": "1234", "nested": {"语言": "普通话"}}
    events = [
        StoredEvent(kind="call.ivr", ts=t0 + timedelta(seconds=1), call_id="c1", payload=payload),
        StoredEvent(kind="call.offered", ts=t0, call_id="c1", queue="cards", monotonic_ns=2**62),
        StoredEvent(kind="agent.paused", ts=t0, agent_id="a1", payload={"reason": "no-answer"}),
        StoredEvent(kind="call.offered", ts=t0, call_id="c2", queue="loans"),
    ]
    assert await store.append_many(events) == 4
    assert await store.append_many([]) == 0

    c1 = await store.for_call("c1")
    assert [e.kind for e in c1] == ["call.offered", "call.ivr"]  # by ts, not insert order
    ivr = c1[1]
    assert ivr.payload == payload
    assert ivr.ts == t0 + timedelta(seconds=1)
    assert ivr.ts.tzinfo is UTC  # stored and returned as UTC, whatever zone came in
    assert c1[0].monotonic_ns == 2**62 and c1[0].queue == "cards"
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
    since = await store.since(t0, until=t0 + timedelta(seconds=1))
    assert [(e.kind, e.call_id) for e in since] == [
        ("call.offered", "c1"),
        ("agent.paused", None),
        ("call.offered", "c2"),
    ]


def test_stored_event_needs_an_aware_timestamp() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        StoredEvent(kind="x", ts=datetime(2025, 1, 1))


async def test_ping(db: Database) -> None:
    assert await db.ping() is True

"""Storage against the real PostgreSQL: migrations both ways, the schema, JSONB, errors. Each
test gets a scratch database (``tests/integration/conftest.py``), dropped afterwards. The unit
tests of storage, records and reports run on PostgreSQL too (their ``db`` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, inspect, text
from sqlalchemy.engine import Connection, make_url

from cti.settings import DatabaseSettings
from hotline.storage import (
    Database,
    DatabaseUnavailableError,
    EventStore,
    StoredEvent,
)
from hotline.storage.migrate import current_async, downgrade_async, head_revision, upgrade_async
from tests.fakes.databases import schema_diff

SHANGHAI = timezone(timedelta(hours=8))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_up_down_up(settings: DatabaseSettings) -> None:
    assert await current_async(settings) is None
    await upgrade_async(settings)
    assert await current_async(settings) == head_revision()
    await downgrade_async(settings, "base")
    assert await current_async(settings) is None
    async with Database(settings) as db, db.engine.connect() as conn:
        assert await conn.run_sync(table_names) == {"alembic_version"}
    await upgrade_async(settings, "head")
    assert await current_async(settings) == head_revision()


async def test_migrated_schema_matches_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(schema_diff) == []
        columns = {
            c["name"]: c for c in await conn.run_sync(lambda c: inspect(c).get_columns("events"))
        }
    assert columns["payload"]["type"].__class__.__name__ == "JSONB"
    assert columns["id"]["type"].__class__.__name__ == "BIGINT"
    ts_type = columns["ts"]["type"]
    assert isinstance(ts_type, DateTime) and ts_type.timezone is True


async def test_event_store_round_trip(db: Database) -> None:
    store = EventStore(db)
    t0 = datetime(2025, 3, 1, 9, 30, tzinfo=SHANGHAI)
    payload = {"菜单": "信用卡服务", "digits": "1234", "nested": {"语言": "普通话"}}
    events = [
        StoredEvent(kind="call.ivr", ts=t0 + timedelta(seconds=1), call_id="c1", payload=payload),
        StoredEvent(kind="call.offered", ts=t0, call_id="c1", queue="cards", monotonic_ns=2**62),
        StoredEvent(kind="agent.paused", ts=t0, agent_id="a1"),
    ]
    assert await store.append_many(events) == 3

    c1 = await store.for_call("c1")
    assert [e.kind for e in c1] == ["call.offered", "call.ivr"]
    assert c1[1].payload == payload
    assert c1[1].ts == t0 + timedelta(seconds=1) and c1[1].ts.tzinfo is UTC
    assert c1[0].monotonic_ns == 2**62
    assert [e.kind for e in await store.recent(limit=2)] == ["agent.paused", "call.offered"]
    assert [e.call_id for e in await store.recent(kind="call.ivr")] == ["c1"]

    # Stored as real JSONB with the text intact, so SQL can reach inside it.
    async with db.session() as session:
        menu = await session.scalar(
            text("SELECT payload->>'菜单' FROM events WHERE kind='call.ivr'")
        )
    assert menu == "信用卡服务"


async def test_ping(db: Database) -> None:
    assert await db.ping() is True


async def test_missing_database_error_hides_the_password(settings: DatabaseSettings) -> None:
    url = make_url(settings.url).set(password="s3cret-pw", database="hotline_no_such_db")
    missing = DatabaseSettings(url=url.render_as_string(hide_password=False))
    async with Database(missing) as db:
        assert await db.ping() is False
        with pytest.raises(DatabaseUnavailableError) as caught:
            await db.connect()
    assert "s3cret-pw" not in str(caught.value)
    assert ":***@" in str(caught.value) and "hotline_no_such_db" in str(caught.value)

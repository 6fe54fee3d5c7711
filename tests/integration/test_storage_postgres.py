"""Storage against the real PostgreSQL: each test gets a scratch database, dropped afterwards.

URL of a role that may CREATE DATABASE: env HOTLINE_TEST_POSTGRES_URL, default below. When the
server is down these tests fail (not skip): CI must provide PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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
from hotline.storage.models import Base
from tests.unit import test_call_legs as legs_tests
from tests.unit import test_live_warm_start as warm_start_tests

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def settings(pg_settings: DatabaseSettings) -> DatabaseSettings:
    """A scratch database of its own (``pg_settings``, tests/integration/conftest.py)."""
    return pg_settings


@pytest.fixture
async def db(settings: DatabaseSettings) -> AsyncIterator[Database]:
    await upgrade_async(settings)
    async with Database(settings) as database:
        yield database


def schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


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


async def test_migration_0005_moves_stored_calls_into_legs(settings: DatabaseSettings) -> None:
    await legs_tests.check_0005_with_data(settings)


@pytest.mark.parametrize(
    "scenario",
    [
        "test_one_writer_writes_the_leg",
        "test_writer_restart_between_queued_and_answered",
        "test_restart_mid_hold_keeps_earlier_holds",
        "test_overflow_after_a_restart_closes_the_old_leg_first",
        "test_resync_does_not_offer_a_waiting_call_twice",
    ],
)
async def test_call_legs_writer_on_postgres(db: Database, tmp_path: Any, scenario: str) -> None:
    """The leg writer's scenarios (tests/unit/test_call_legs.py) on PostgreSQL: its SQL (the
    open leg of a call found by the database after a restart) must hold on both."""
    await getattr(legs_tests, scenario)(db, tmp_path)


@pytest.mark.parametrize(
    ("scenario", "args"),
    [
        ("test_a_rebuilt_day_shows_what_the_running_one_showed", ("09:41:20",)),
        ("test_a_rebuilt_day_shows_what_the_running_one_showed", ("10:30:00",)),
        ("test_calls_and_agents_the_acd_no_longer_has_are_dropped_uncounted", ()),
        ("test_only_today_is_replayed_and_unreadable_rows_are_skipped", ()),
        ("test_events_the_last_run_spooled_are_written_then_replayed", ()),
    ],
)
async def test_live_rebuild_on_postgres(
    db: Database, tmp_path: Any, scenario: str, args: tuple[str, ...]
) -> None:
    """Today's live figures rebuilt from the event log (tests/unit/test_live_warm_start.py) on
    PostgreSQL: its paged read by (ts, id), with a time zone, must hold on both."""
    await getattr(warm_start_tests, scenario)(db, tmp_path, *args)

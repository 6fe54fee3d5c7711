"""What only PostgreSQL has: its column types, JSONB, the error for a missing database. Each
test gets a scratch database (``tests/integration/conftest.py``), dropped afterwards. The
unit tests of storage (migrations, schema, event log), records and reports run on PostgreSQL
too (their ``db`` fixture). ``pg_settings`` and ``pg_db``: tests/integration/conftest.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, inspect, text
from sqlalchemy.engine import make_url

from cti.settings import DatabaseSettings
from hotline.storage import (
    Database,
    DatabaseUnavailableError,
    EventStore,
    StoredEvent,
)

SHANGHAI = timezone(timedelta(hours=8))


async def test_postgresql_column_types(pg_db: Database) -> None:
    async with pg_db.engine.connect() as conn:
        columns = {
            c["name"]: c for c in await conn.run_sync(lambda c: inspect(c).get_columns("events"))
        }
    assert columns["payload"]["type"].__class__.__name__ == "JSONB"
    assert columns["id"]["type"].__class__.__name__ == "BIGINT"
    ts_type = columns["ts"]["type"]
    assert isinstance(ts_type, DateTime) and ts_type.timezone is True


async def test_payload_is_jsonb_that_sql_can_reach_into(pg_db: Database) -> None:
    t0 = datetime(2025, 3, 1, 9, 30, tzinfo=SHANGHAI)
    payload = {"菜单": "信用卡服务", "nested": {"语言": "普通话"}}
    await EventStore(pg_db).append_many([StoredEvent(kind="ivr.node", ts=t0, payload=payload)])
    # Stored as real JSONB with the text intact.
    async with pg_db.session() as session:
        menu = await session.scalar(
            text("SELECT payload->>'菜单' FROM events WHERE kind='ivr.node'")
        )
    assert menu == "信用卡服务"


async def test_missing_database_error_hides_the_password(pg_settings: DatabaseSettings) -> None:
    url = make_url(pg_settings.url).set(password="s3cret-pw", database="hotline_no_such_db")
    missing = DatabaseSettings(url=url.render_as_string(hide_password=False))
    async with Database(missing) as db:
        assert await db.ping() is False
        with pytest.raises(DatabaseUnavailableError) as caught:
            await db.connect()
    assert "s3cret-pw" not in str(caught.value)
    assert ":***@" in str(caught.value) and "hotline_no_such_db" in str(caught.value)

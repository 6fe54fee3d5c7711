"""The event log writer on the real PostgreSQL: real outages lose nothing, duplicate nothing.

Two kinds of outage: the server kills the writer's connections (``pg_terminate_backend``) in
the middle of traffic, and the server disappears (the engine is pointed at a closed port) and
comes back. ``pg_db``: a scratch database (``tests/integration/conftest.py``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from cti.events import DomainBus
from cti.settings import DatabaseSettings, EventLogSettings
from hotline.storage import Database
from hotline.storage.db import create_engine
from hotline.storage.event_log import EventLogWriter
from hotline.storage.models import Call, Event
from hotline.storage.simulate import traffic

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def log_settings(tmp_path: Path) -> EventLogSettings:
    return EventLogSettings.model_validate(
        {
            "spool_dir": tmp_path / "spool",
            "batch_size": 100,
            "flush_interval_ms": 20,
            "retry_min_s": 0.05,
            "retry_max_s": 0.3,
        }
    )


async def totals(db: Database) -> tuple[int, int, int]:
    async with db.session() as session:
        events = await session.scalar(select(func.count()).select_from(Event))
        distinct = await session.scalar(select(func.count(func.distinct(Event.uid))))
        calls = await session.scalar(select(func.count()).select_from(Call))
    return int(events or 0), int(distinct or 0), int(calls or 0)


async def settle(writer: EventLogWriter) -> None:
    for _ in range(300):
        await writer.flush()
        if not writer.spooling:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"still spooling: {writer.stats()}")


async def test_terminated_connections_mid_traffic(pg_db: Database, tmp_path: Path) -> None:
    bus = DomainBus()
    events = list(traffic(T0, 600))
    name = make_url(pg_db.engine.url).database
    async with EventLogWriter(bus, pg_db, log_settings(tmp_path)) as writer:
        for n, event in enumerate(events):
            bus.publish(event)
            if n % 500 == 250:
                await asyncio.sleep(0.03)  # let a batch be in flight
                async with pg_db.engine.connect() as admin:
                    await admin.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :db AND pid <> pg_backend_pid()"
                        ),
                        {"db": name},
                    )
        await settle(writer)
    assert writer.counters.db_failures > 0  # the terminations did hit writes in flight
    assert writer.counters.received == len(events)
    assert writer.counters.dropped_bus == writer.counters.dropped_spool_full == 0
    assert await totals(pg_db) == (len(events), len(events), 600)


async def test_server_gone_and_back(pg_db: Database, tmp_path: Path) -> None:
    bus = DomainBus()
    events = list(traffic(T0, 300))
    good = pg_db.engine
    closed_port = make_url(str(good.url.render_as_string(hide_password=False))).set(port=1)
    async with EventLogWriter(bus, pg_db, log_settings(tmp_path)) as writer:
        for event in events[:1000]:
            bus.publish(event)
        await writer.flush()
        pg_db.engine = create_engine(
            DatabaseSettings(url=closed_port.render_as_string(hide_password=False))
        )
        for event in events[1000:2500]:
            bus.publish(event)
        await writer.flush()
        assert writer.spooling and writer.counters.spooled > 0
        await pg_db.engine.dispose()
        pg_db.engine = good
        for event in events[2500:]:
            bus.publish(event)
        await settle(writer)
    c = writer.counters
    assert c.written == c.received == len(events) and c.replayed == c.spooled > 0
    assert await totals(pg_db) == (len(events), len(events), 300)

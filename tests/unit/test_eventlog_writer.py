"""The event log writer on SQLite and PostgreSQL: batching, records, outages, spool replay,
shutdown flush."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from cti.events import DomainBus, DomainEvent
from cti.settings import EventLogSettings
from hotline.storage import Database
from hotline.storage.batch_codec import encode
from hotline.storage.call_records import RecordFolder
from hotline.storage.event_log import EventLogWriter, to_batch
from hotline.storage.models import AgentInterval, Call, Event
from hotline.storage.record_sql import write_batch
from hotline.storage.simulate import agent_shift, answered_call, traffic
from hotline.storage.spool import Spool
from tests.fakes.clock import Ticking
from tests.fakes.databases import broken_engine

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def log_settings(tmp_path: Path, **overrides: object) -> EventLogSettings:
    values: dict[str, object] = {
        "spool_dir": tmp_path / "spool",
        "batch_size": 50,
        "flush_interval_ms": 20,
        "retry_min_s": 0.05,
        "retry_max_s": 0.2,
    }
    return EventLogSettings.model_validate(values | overrides)


async def count(db: Database, model: type[object]) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def publish_all(bus: DomainBus, events: list[DomainEvent]) -> None:
    for event in events:
        bus.publish(event)


async def test_writes_events_calls_and_intervals(db: Database, tmp_path: Path) -> None:
    bus = DomainBus()
    async with EventLogWriter(bus, db, log_settings(tmp_path)) as writer:
        events = answered_call("c1", T0, wait_s=12, talk_s=100, wrap_up_s=15)
        events += agent_shift("1001", T0, T0 + timedelta(hours=1), [(T0, 60, "lunch")])
        publish_all(bus, events)
        await writer.flush()
        assert writer.counters.written == len(events)
    assert await count(db, Event) == len(events)
    async with db.session() as session:
        call = await session.get(Call, "c1")
        assert call is not None
        assert (call.outcome, call.wait_s, call.talk_s, call.wrap_up_s) == ("answered", 12, 100, 15)
        assert call.ivr_path == ["welcome", "menu"] and call.disposition == "resolved"
        assert call.answered_at == T0 + timedelta(seconds=22)
        rows = (await session.scalars(select(AgentInterval).order_by(AgentInterval.id))).all()
    pause = [r for r in rows if r.category == "pause"]
    assert [(r.reason, r.started_at, r.ended_at) for r in pause] == [
        ("lunch", T0, T0 + timedelta(seconds=60))
    ]
    session_rows = [r for r in rows if r.category == "session"]
    assert [(r.started_at, r.ended_at) for r in session_rows] == [(T0, T0 + timedelta(hours=1))]


async def test_outage_in_the_middle_of_traffic_loses_nothing(db: Database, tmp_path: Path) -> None:
    bus = DomainBus()
    events = list(traffic(T0, 300))
    good_engine = db.engine
    settings = log_settings(tmp_path)
    clock = Ticking()  # stands still: the writer retries the database when the test says
    writer = EventLogWriter(bus, db, settings, monotonic=clock)
    await writer.start()
    third = len(events) // 3
    publish_all(bus, events[:third])
    await writer.flush()
    db.engine = broken_engine(tmp_path)
    publish_all(bus, events[third : 2 * third])
    await writer.flush()
    assert writer.spooling and writer.counters.spooled > 0
    assert writer.spool_bytes > 0
    db.engine = good_engine  # the database is back...
    clock.t += settings.retry_max_s * 1.2  # ...and the back-off is over, whatever its jitter
    publish_all(bus, events[2 * third :])
    await writer.flush()  # the next batch goes behind the spool, which is then replayed
    assert not writer.spooling
    await writer.stop()
    c = writer.counters
    assert not writer.spooling and writer.spool_bytes == 0
    assert c.written == c.received == len(events)
    assert c.replayed == c.spooled and c.dropped_bus == c.dropped_spool_full == 0
    assert await count(db, Event) == len(events)
    assert await count(db, Call) == 300
    async with db.session() as session:
        outcomes = dict(
            (await session.execute(select(Call.outcome, func.count()).group_by(Call.outcome))).all()
        )
    assert outcomes == {"answered": 240, "abandoned": 30, "short_abandon": 30}


async def test_spool_replays_on_restart_without_duplicates(db: Database, tmp_path: Path) -> None:
    settings = log_settings(tmp_path)
    good_engine = db.engine
    db.engine = broken_engine(tmp_path)
    bus = DomainBus()
    events = list(traffic(T0, 50))
    async with EventLogWriter(bus, db, settings) as writer:
        publish_all(bus, events)
    # Stopped with the database down: everything is on disk, nothing lost.
    assert writer.counters.spooled == len(events) and writer.counters.written == 0
    segments = Spool(settings.spool_dir / "eventlog", 1 << 20, 1 << 30).segments()
    assert segments
    # A crash after a replay committed but before the segment was deleted replays it twice:
    # simulate by copying the first segment under a later number.
    copy = segments[0].with_name(f"{int(segments[-1].stem) + 1:012d}.jsonl")
    copy.write_bytes(segments[0].read_bytes())
    # ... and a torn line at its end (a crash in the middle of an append).
    with copy.open("ab") as handle:
        handle.write(b'{"v":1,"events":[{"uid"')
    db.engine = good_engine
    async with EventLogWriter(DomainBus(), db, settings) as restarted:
        await restarted.flush()
    assert restarted.counters.replayed > len(events)  # the copy was written again...
    assert await count(db, Event) == len(events)  # ...and stored nothing twice
    assert await count(db, Call) == 50
    assert restarted.counters.unreadable_spool_lines == 1
    assert Spool(settings.spool_dir / "eventlog", 1 << 20, 1 << 30).segments() == []


async def test_stop_flushes_what_the_bus_holds(db: Database, tmp_path: Path) -> None:
    bus = DomainBus()
    writer = EventLogWriter(
        bus, db, log_settings(tmp_path, batch_size=1000, flush_interval_ms=5000)
    )
    await writer.start()
    events = list(traffic(T0, 20))
    publish_all(bus, events)
    await writer.stop()  # long before the 5 s flush interval
    assert await count(db, Event) == len(events)


async def test_full_spool_drops_and_counts(db: Database, tmp_path: Path) -> None:
    db.engine = broken_engine(tmp_path)
    bus = DomainBus()
    settings = log_settings(tmp_path, spool_max_bytes=1 << 16, spool_segment_bytes=4096)
    async with EventLogWriter(bus, db, settings) as writer:
        publish_all(bus, list(traffic(T0, 200)))
    c = writer.counters
    assert c.dropped_spool_full > 0 and c.spooled > 0
    assert c.spooled + c.dropped_spool_full == c.received
    assert writer.spool_bytes <= 1 << 16


async def test_the_bus_drops_oldest_when_the_writer_lags(db: Database, tmp_path: Path) -> None:
    bus = DomainBus()
    writer = EventLogWriter(bus, db, log_settings(tmp_path, bus_buffer=100))
    await writer.start()
    publish_all(bus, list(traffic(T0, 30)))  # 30 calls ≈ 380 events, no await in between
    await writer.stop()
    assert writer.counters.dropped_bus > 0
    assert writer.counters.received + writer.counters.dropped_bus == len(list(traffic(T0, 30)))


async def test_replay_is_idempotent_on_records(db: Database, tmp_path: Path) -> None:
    # Writing the same batch twice gives the same rows as once (interval close included).
    events = answered_call("c1", T0)
    events += agent_shift("9", T0, T0 + timedelta(hours=1), [(T0, 5, "x")])
    batch = to_batch(events, RecordFolder())
    assert encode(batch)
    for _ in range(2):
        async with db.engine.begin() as conn:
            await write_batch(conn, batch.events, batch.ops)
    assert await count(db, Event) == len(events)
    assert await count(db, AgentInterval) == 2 + 3  # session, pause + 3 agent states
    assert await count(db, Call) == 1

"""Recordings' storage on SQLite and PostgreSQL (the ``db`` and ``empty_database`` fixtures):
migration 0003 up, down to 0002 and up again; the SQL store, whose rows become the domain's
records (times come back aware, also through min()/max())."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.migrate import current_async, downgrade_async, upgrade_async
from hotline.storage.recording_store import SqlRecordingStore
from recordings.records import AgentAverage, SearchFilter, StoredRecording

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
RECORDING_TABLES = {"recordings", "recording_audit", "qa_scores"}


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_0003_up_down_up(empty_database: DatabaseSettings) -> None:
    settings = empty_database
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


async def two_recordings(store: SqlRecordingStore) -> StoredRecording:
    """c0 (a1, credit-card, 30 s, finished) and c1 (a2, basic-banking, still recording)."""
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
    assert row is not None
    return row


async def test_store_round_trip_and_search(db: Database) -> None:
    store = SqlRecordingStore(db)
    row = await two_recordings(store)
    assert row.duration_s == 30.0 and row.sha256 == "ab" * 32
    assert (row.started_at, row.ended_at) == (T0, T0 + timedelta(seconds=30))
    assert row.legal_hold is False
    assert [r.call_id for r in await store.search(SearchFilter(agent_id="a2"))] == ["c1"]
    assert [r.call_id for r in await store.search(SearchFilter(caller="13800000001"))] == ["c0"]
    assert [r.call_id for r in await store.search(SearchFilter(queue="credit-card"))] == ["c0"]
    window = SearchFilter(since=T0 + timedelta(seconds=30), until=T0 + timedelta(hours=1))
    assert [r.call_id for r in await store.search(window)] == ["c1"]
    assert [r.call_id for r in await store.search(SearchFilter())] == ["c1", "c0"]
    assert await store.set_legal_hold("c0", True)
    assert not await store.set_legal_hold("nope", True)


async def test_audit_trail_scores_and_averages(db: Database) -> None:
    store = SqlRecordingStore(db)
    row = await two_recordings(store)
    await store.audit("c0", "mute", "ivr", "card", T0 + timedelta(seconds=5))
    await store.audit("c0", "unmute", "ivr", "card", T0 + timedelta(seconds=9))
    trail = [(a.action, a.at) for a in await store.audit_trail("c0")]
    assert trail == [("mute", T0 + timedelta(seconds=5)), ("unmute", T0 + timedelta(seconds=9))]
    for total, at in ((80.0, T0), (90.0, T0 + timedelta(hours=1))):
        score = await store.add_score(recording=row, form_id="complaints", scorer="qa",
                                      items={"acknowledge": 4, "reference": None},
                                      total=total, at=at)  # fmt: skip
        assert score.id > 0 and score.agent_id == "a1"
    scores = await store.scores_of_call("c0")
    assert [(s.total, s.items) for s in scores] == [
        (80.0, {"acknowledge": 4, "reference": None}),
        (90.0, {"acknowledge": 4, "reference": None}),
    ]
    averages = await store.agent_averages(T0, T0 + timedelta(days=1))  # min() and max() of times
    assert averages == [AgentAverage("a1", 2, 85.0, T0, T0 + timedelta(hours=1))]


async def test_purge_spares_a_legal_hold(db: Database) -> None:
    store = SqlRecordingStore(db)
    await two_recordings(store)
    assert await store.set_legal_hold("c1", True)
    due = await store.unpurged_before(T0 + timedelta(days=1))
    assert [r.call_id for r in due] == ["c0", "c1"]
    purged_at = T0 + timedelta(days=40)
    for call_id in ("c0", "c1"):
        await store.mark_purged(call_id, purged_at)
    purged = await store.get("c0")
    held = await store.get("c1")
    assert purged is not None and purged.purged_at == purged_at
    assert held is not None and held.purged_at is None  # legal hold wins
    assert [r.call_id for r in await store.search(SearchFilter())] == ["c1"]

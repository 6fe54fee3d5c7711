"""Recordings on PostgreSQL: migration 0003 up and down, and the SQL store (its rows become
the domain's records; times come back aware, also through min()/max())."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.migrate import current_async, downgrade_async, upgrade_async
from hotline.storage.recording_store import SqlRecordingStore
from recordings.records import AgentAverage, SearchFilter

RECORDING_TABLES = {"recordings", "recording_audit", "qa_scores"}
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


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


async def test_the_store_on_postgres(pg_settings: DatabaseSettings) -> None:
    await upgrade_async(pg_settings)
    async with Database(pg_settings) as db:
        store = SqlRecordingStore(db)
        for n, agent in enumerate(("a1", "a2")):
            await store.add_started(
                call_id=f"c{n}", agent_id=agent, queue="cards", product="credit_card",
                caller=f"1380000000{n}", path=f"2025-03-01/credit_card/c{n}.wav",
                started_at=T0 + timedelta(minutes=n),
            )  # fmt: skip
        await store.finish("c0", ended_at=T0 + timedelta(seconds=30), duration_s=30.0,
                           size_bytes=480_044, sha256="ab" * 32)  # fmt: skip
        row = await store.get("c0")
        assert row is not None and (row.started_at, row.ended_at) == (
            T0, T0 + timedelta(seconds=30)
        )  # fmt: skip
        assert [r.call_id for r in await store.search(SearchFilter(agent_id="a2"))] == ["c1"]

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
        averages = await store.agent_averages(T0, T0 + timedelta(days=1))
        assert averages == [AgentAverage("a1", 2, 85.0, T0, T0 + timedelta(hours=1))]

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

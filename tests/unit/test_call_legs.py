"""Call legs on SQLite and PostgreSQL: one row per queue visit, written by the real writer,
across restarts, resyncs and replays (the open leg of a call found by the database after a
restart must hold on both); and migration 0005 with data, both ways.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text

from cti.events import (
    AgentDisposition,
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallOverflowed,
    CallQueued,
    CallStarted,
    CallUnheld,
    DomainBus,
    DomainEvent,
    IvrEnded,
)
from cti.settings import DatabaseSettings, EventLogSettings
from hotline.storage import Database, StoredEvent
from hotline.storage.batch_codec import decode, encode
from hotline.storage.call_records import RecordFolder
from hotline.storage.event_log import EventLogWriter, to_batch
from hotline.storage.migrate import downgrade_async, upgrade_async
from hotline.storage.models import Call, CallLeg
from hotline.storage.record_ops import LegPatch, OpenLeg, slot_of
from hotline.storage.record_sql import write_batch
from tests.fakes.events import leg as fake_leg

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def log_settings(tmp_path: Path) -> EventLogSettings:
    return EventLogSettings.model_validate(
        {"spool_dir": tmp_path / "spool", "batch_size": 50, "flush_interval_ms": 10}
    )


async def write(db: Database, tmp_path: Path, events: list[DomainEvent]) -> None:
    """Through a fresh writer (a fresh folder: nothing remembered from before)."""
    bus = DomainBus()
    async with EventLogWriter(bus, db, log_settings(tmp_path)) as writer:
        for event in events:
            bus.publish(event)
        await writer.flush()
    assert writer.counters.written == len(events) and writer.counters.db_failures == 0


async def legs(db: Database, call_id: str) -> list[CallLeg]:
    async with db.session() as session:
        query = select(CallLeg).where(CallLeg.call_id == call_id).order_by(CallLeg.enqueued_at)
        return list((await session.scalars(query)).all())


async def call_row(db: Database, call_id: str) -> Call:
    async with db.session() as session:
        row = await session.get(Call, call_id)
    assert row is not None
    return row


def before_answer() -> list[DomainEvent]:
    return [
        CallStarted(call_id="r1", caller="1380", hotline="bank", ts=at(0)),
        IvrEnded(call_id="r1", outcome="queue", path=("welcome", "menu"), language="zh", ts=at(8)),
        CallQueued(call_id="r1", queue="cards", position=2, ewt_s=30.0, ts=at(10)),
    ]


def after_answer() -> list[DomainEvent]:
    """Answered after 25 s, two holds (30 s given, 5 s given), talk 100 s without hold,
    wrap-up 15 s and a disposition."""
    leg = fake_leg("r1", "cards", "1001")
    return [
        CallAnswered(**leg, wait_s=25.0, ts=at(35)),
        AgentStateChanged(agent_id="1001", state="on_call", ts=at(35)),
        CallHeld(**leg, ts=at(60)),
        CallUnheld(**leg, hold_s=30.0, ts=at(90)),
        CallHeld(**leg, ts=at(100)),
        CallUnheld(**leg, hold_s=5.0, ts=at(105)),
        CallCompleted(**leg, by="caller", talk_s=100.0, ts=at(170)),
        CallEnded(call_id="r1", queue="cards", ts=at(170)),
        AgentStateChanged(agent_id="1001", state="wrap_up", ts=at(170)),
        AgentDisposition(agent_id="1001", call_id="r1", disposition="resolved", ts=at(180)),
        AgentStateChanged(agent_id="1001", state="available", ts=at(185)),
    ]


EXPECTED_LEG = {
    "queue": "cards",
    "position": 2,
    "predicted_wait_s": 30.0,
    "enqueued_at": at(10),
    "answered_at": at(35),
    "left_queue_at": at(35),
    "wait_s": 25.0,
    "agent_id": "1001",
    "talk_s": 100.0,
    "hold_s": 35.0,
    "wrap_up_s": 15.0,
    "disposition": "resolved",
    "outcome": "answered",
    "enter_slot": slot_of(at(10)),
    "answer_slot": slot_of(at(35)),
    "leave_slot": slot_of(at(35)),
}


def leg_dict(leg: CallLeg) -> dict[str, Any]:
    return {key: getattr(leg, key) for key in EXPECTED_LEG}


async def test_one_writer_writes_the_leg(db: Database, tmp_path: Path) -> None:
    await write(db, tmp_path, before_answer() + after_answer())
    (leg,) = await legs(db, "r1")
    assert leg_dict(leg) == EXPECTED_LEG
    call = await call_row(db, "r1")
    assert (call.wait_s, call.talk_s, call.hold_s, call.wrap_up_s) == (25.0, 100.0, 35.0, 15.0)
    assert (call.ivr_path, call.disposition, call.outcome) == (
        ["welcome", "menu"],
        "resolved",
        "answered",
    )


async def test_writer_restart_between_queued_and_answered(db: Database, tmp_path: Path) -> None:
    # The first writer stops with the call waiting; the second one never saw it queue.
    await write(db, tmp_path, before_answer())
    (waiting,) = await legs(db, "r1")
    assert (waiting.outcome, waiting.answered_at) == ("queued", None)
    await write(db, tmp_path, after_answer())
    (leg,) = await legs(db, "r1")
    assert leg.leg_id == waiting.leg_id
    assert leg_dict(leg) == EXPECTED_LEG  # hold summed from the stored call.unheld events
    call = await call_row(db, "r1")
    assert (call.wait_s, call.talk_s, call.hold_s, call.wrap_up_s) == (25.0, 100.0, 35.0, 15.0)
    assert call.ivr_path == ["welcome", "menu"] and call.agent_id == "1001"


async def test_restart_mid_hold_keeps_earlier_holds(db: Database, tmp_path: Path) -> None:
    events = before_answer() + after_answer()
    first_unheld = next(i for i, e in enumerate(events) if isinstance(e, CallUnheld))
    await write(db, tmp_path, events[: first_unheld + 1])
    await write(db, tmp_path, events[first_unheld + 1 :])
    (leg,) = await legs(db, "r1")
    assert leg_dict(leg) == EXPECTED_LEG


async def test_overflow_after_a_restart_closes_the_old_leg_first(
    db: Database, tmp_path: Path
) -> None:
    # Overflow and requeue at the same instant, in one batch, by a writer that did not see
    # the first leg open: the overflow must land on the cards leg, not on the new loans one.
    await write(db, tmp_path, before_answer())
    await write(
        db,
        tmp_path,
        [
            CallOverflowed(call_id="r1", queue="cards", target="loans", target_kind="queue",
                           reason="max_wait", wait_s=30.0, ts=at(40)),
            CallQueued(call_id="r1", queue="loans", position=1, ts=at(40)),
            CallAnswered(call_id="r1", queue="loans", agent_id="2001", wait_s=12.0, ts=at(52)),
            CallCompleted(call_id="r1", queue="loans", agent_id="2001", talk_s=60.0, ts=at(112)),
            CallEnded(call_id="r1", queue="loans", ts=at(112)),
        ],
    )  # fmt: skip
    cards, loans = await legs(db, "r1")
    assert (cards.queue, cards.outcome, cards.wait_s, cards.left_queue_at) == (
        "cards", "overflow", 30.0, at(40)
    )  # fmt: skip
    assert cards.answered_at is None and cards.agent_id is None
    assert (loans.queue, loans.outcome, loans.wait_s, loans.agent_id, loans.talk_s) == (
        "loans", "answered", 12.0, "2001", 60.0
    )  # fmt: skip
    call = await call_row(db, "r1")
    assert (call.queue, call.outcome, call.wait_s, call.talk_s) == ("loans", "answered", 42.0, 60.0)


async def test_resync_does_not_offer_a_waiting_call_twice(db: Database, tmp_path: Path) -> None:
    await write(db, tmp_path, before_answer())
    resync = CallQueued(call_id="r1", queue="cards", resync=True, wait_s=20.0, ts=at(30))
    # ... and a call whose call.queued never reached the log: the resync opens its leg.
    lost = CallQueued(call_id="r2", queue="loans", resync=True, wait_s=7.5, position=3, ts=at(30))
    await write(
        db,
        tmp_path,
        [
            resync,
            lost,
            CallAbandoned(call_id="r2", queue="loans", wait_s=17.5, ts=at(40)),
            *after_answer(),
        ],
    )
    (leg,) = await legs(db, "r1")
    assert leg_dict(leg) == EXPECTED_LEG
    (r2,) = await legs(db, "r2")
    assert (r2.enqueued_at, r2.position, r2.outcome, r2.wait_s) == (
        at(22.5), 3, "abandoned", 17.5
    )  # fmt: skip


async def test_replaying_a_batch_changes_nothing(db: Database) -> None:
    events = before_answer() + after_answer()
    built = to_batch(events, RecordFolder())
    assert any(isinstance(op, OpenLeg) for op in built.ops)
    assert any(isinstance(op, LegPatch) for op in built.ops)
    batch = decode(encode(built))  # through the spool's codec
    assert list(batch.ops) == list(built.ops)
    for _ in range(2):
        async with db.engine.begin() as conn:
            await write_batch(conn, batch.events, batch.ops)
    (leg,) = await legs(db, "r1")
    assert leg_dict(leg) == EXPECTED_LEG
    # A prefix written again after the whole (a crash before the spool segment was deleted),
    # folded afresh: the rest written once more converges to the same rows.
    for part in (slice(0, 4), slice(4, None)):
        folder, rows = RecordFolder(), list(batch.events[part])
        ops = [
            op for e, row in zip(events[part], rows, strict=True) for op in folder.fold(e, uid(row))
        ]
        async with db.engine.begin() as conn:
            await write_batch(conn, rows, ops)
    (leg,) = await legs(db, "r1")
    assert leg_dict(leg) == EXPECTED_LEG


def uid(row: StoredEvent) -> str:
    assert row.uid is not None
    return row.uid


# -- migration 0005 with data ----------------------------------------------------------------

LEGACY = {
    # call_id: (queue, enqueued, answered, left, wait, talk, hold, wrap, outcome, agent)
    "old-answered": ("cards", at(10), at(22), at(22), 12.0, 100.0, 20.0, 15.0, "answered", "7"),
    "old-abandoned": ("loans", at(905), None, at(950), 45.0, None, None, None, "abandoned", None),
}


async def check_0005_with_data(settings: DatabaseSettings) -> None:
    """At 0004, store calls the old way (slots on the call); upgrade: one legacy leg each,
    no slots on calls; downgrade: the slots and durations are back on the calls."""
    await upgrade_async(settings, "0004_agents")
    async with Database(settings) as db:
        async with db.engine.begin() as conn:
            for call_id, row in LEGACY.items():
                queue, enq, ans, left, wait, talk, hold, wrap, outcome, agent = row
                await conn.execute(
                    text(
                        "INSERT INTO calls (call_id, queue, enqueued_at, answered_at,"
                        " left_queue_at, wait_s, talk_s, hold_s, wrap_up_s, outcome, agent_id,"
                        " enter_slot, leave_slot, answer_slot) VALUES (:c, :q, :e, :a, :l, :w,"
                        " :t, :h, :u, :o, :g, :es, :ls, :as_)"
                    ),
                    {
                        "c": call_id, "q": queue, "e": _db_ts(conn, enq), "a": _db_ts(conn, ans),
                        "l": _db_ts(conn, left), "w": wait, "t": talk, "h": hold, "u": wrap,
                        "o": outcome, "g": agent, "es": slot_of(enq), "ls": slot_of(left),
                        "as_": None if ans is None else slot_of(ans),
                    },
                )  # fmt: skip
            await conn.execute(
                text("INSERT INTO calls (call_id, outcome) VALUES ('ivr', 'ivr_only')")
            )
        await upgrade_async(settings, "0005_call_legs")
        async with db.engine.connect() as conn:
            columns = {
                c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns("calls"))
            }
        assert not columns & {"enter_slot", "leave_slot", "answer_slot"}
        async with db.session() as session:
            rows = (await session.scalars(select(CallLeg).order_by(CallLeg.leg_id))).all()
        assert [(r.leg_id, r.call_id) for r in rows] == [
            ("legacy-old-abandoned", "old-abandoned"),
            ("legacy-old-answered", "old-answered"),
        ]
        for leg in rows:
            queue, enq, ans, left, wait, talk, hold, wrap, outcome, agent = LEGACY[leg.call_id]
            assert (leg.queue, leg.enqueued_at, leg.answered_at, leg.left_queue_at) == (
                queue, enq, ans, left
            )  # fmt: skip
            assert (leg.wait_s, leg.talk_s, leg.hold_s, leg.wrap_up_s) == (wait, talk, hold, wrap)
            assert (leg.outcome, leg.agent_id, leg.enter_slot, leg.leave_slot) == (
                outcome, agent, slot_of(enq), slot_of(left)
            )  # fmt: skip
        await downgrade_async(settings, "0004_agents")
        async with db.engine.connect() as conn:
            back = (
                await conn.execute(
                    text(
                        "SELECT call_id, enter_slot, leave_slot, answer_slot, wait_s, talk_s"
                        " FROM calls ORDER BY call_id"
                    )
                )
            ).all()
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "call_legs" not in tables
        assert [tuple(r) for r in back] == [
            ("ivr", None, None, None, None, None),
            ("old-abandoned", slot_of(at(905)), slot_of(at(950)), None, 45.0, None),
            ("old-answered", slot_of(at(10)), slot_of(at(22)), slot_of(at(22)), 12.0, 100.0),
        ]
    await upgrade_async(settings)


def _db_ts(conn: Any, value: datetime | None) -> Any:
    """A timestamp as the models store it (SQLite: SQLAlchemy's text format, in UTC)."""
    if value is None or conn.dialect.name != "sqlite":
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def test_migration_0005_with_data(empty_database: DatabaseSettings) -> None:
    await check_0005_with_data(empty_database)

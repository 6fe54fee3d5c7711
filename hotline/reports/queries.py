"""SQL aggregation for reports: additive sums per (key, UTC slot), on SQLite and PostgreSQL.

Everything returned is a count, a sum or a max, so slots roll up into any local period
(``buckets``) without going back to the rows. Attribution follows live statistics: a call is
*offered* in the slot it entered the queue, and *answered / abandoned / overflowed* in the slot
it left the queue (``left_queue_at``); an agent's calls count where they were answered.

The only dialect-specific piece is the slot number of a timestamp column.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.storage.models import AgentInterval, Call

ABANDONS = ("abandoned", "short_abandon")
EXITS = ("overflow", "transferred")  # left the queue for another target


def slot_of(column: Any, width_s: int, dialect: str) -> ColumnElement[int]:
    """floor(epoch seconds / width) of a timestamp column, as an integer."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / width_s), Integer)
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); unixepoch() reads it (SQLite ≥ 3.38).
    return cast(func.unixepoch(column) / literal(width_s), Integer)


@dataclass
class QueueSlot:
    queue: str
    slot: int
    offered: int = 0
    answered: int = 0
    answered_within_t: int = 0
    answered_wait_s: float = 0.0
    abandoned: int = 0  # at or above the short-abandon threshold
    abandoned_within_t: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    overflowed_within_t: int = 0
    longest_wait_s: float = 0.0
    handled: int = 0  # answered calls with a talk time (completed)
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_up_s: float = 0.0


@dataclass
class AgentSlot:
    agent_id: str
    slot: int
    answered: int = 0
    handled: int = 0
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_up_s: float = 0.0


def _n(flag: ColumnElement[bool]) -> Any:
    return func.sum(case((flag, 1), else_=0))


def _s(flag: ColumnElement[bool], value: Any) -> Any:
    return func.sum(case((flag, func.coalesce(value, 0.0)), else_=0.0))


async def queue_slots(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    width_s: int,
    threshold_s: float,
    short_abandon_s: float,
    queues: list[str] | None = None,
) -> list[QueueSlot]:
    dialect = conn.dialect.name
    c = Call
    slots: dict[tuple[str, int], QueueSlot] = {}

    entered = slot_of(c.enqueued_at, width_s, dialect).label("slot")
    offered = select(c.queue, entered, func.count().label("offered")).where(
        c.enqueued_at >= start, c.enqueued_at < end, c.queue.is_not(None)
    )
    if queues:
        offered = offered.where(c.queue.in_(queues))
    for row in await conn.execute(offered.group_by(c.queue, entered)):
        slots[(row.queue, row.slot)] = QueueSlot(row.queue, row.slot, offered=row.offered)

    wait = func.coalesce(c.wait_s, 0.0)
    answered = c.answered_at.is_not(None)
    abandoned = c.outcome.in_(ABANDONS)
    short = and_(abandoned, wait < short_abandon_s)
    long_abandon = and_(abandoned, wait >= short_abandon_s)
    exited = c.outcome.in_(EXITS)
    within = wait <= threshold_s
    handled = and_(answered, c.talk_s.is_not(None))
    left = slot_of(c.left_queue_at, width_s, dialect).label("slot")
    exits = select(
        c.queue,
        left,
        _n(answered).label("answered"),
        _n(and_(answered, within)).label("answered_within_t"),
        _s(answered, c.wait_s).label("answered_wait_s"),
        _n(long_abandon).label("abandoned"),
        _n(and_(long_abandon, within)).label("abandoned_within_t"),
        _n(short).label("short_abandoned"),
        _n(exited).label("overflowed"),
        _n(and_(exited, within)).label("overflowed_within_t"),
        func.max(c.wait_s).label("longest_wait_s"),
        _n(handled).label("handled"),
        _s(handled, c.talk_s).label("talk_s"),
        _s(handled, c.hold_s).label("hold_s"),
        _s(handled, c.wrap_up_s).label("wrap_up_s"),
    ).where(c.left_queue_at >= start, c.left_queue_at < end, c.queue.is_not(None))
    if queues:
        exits = exits.where(c.queue.in_(queues))
    names = [f.name for f in fields(QueueSlot)][3:]
    for row in await conn.execute(exits.group_by(c.queue, left)):
        target = slots.setdefault((row.queue, row.slot), QueueSlot(row.queue, row.slot))
        for name in names:
            setattr(target, name, getattr(row, name) or 0)
    return list(slots.values())


async def agent_slots(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    width_s: int,
    agents: list[str] | None = None,
) -> list[AgentSlot]:
    c = Call
    slot = slot_of(c.answered_at, width_s, conn.dialect.name).label("slot")
    handled = c.talk_s.is_not(None)
    query = select(
        c.agent_id,
        slot,
        func.count().label("answered"),
        _n(handled).label("handled"),
        _s(handled, c.talk_s).label("talk_s"),
        _s(handled, c.hold_s).label("hold_s"),
        _s(handled, c.wrap_up_s).label("wrap_up_s"),
    ).where(c.answered_at >= start, c.answered_at < end, c.agent_id.is_not(None))
    if agents:
        query = query.where(c.agent_id.in_(agents))
    rows = await conn.execute(query.group_by(c.agent_id, slot))
    return [
        AgentSlot(r.agent_id, r.slot, r.answered, r.handled, r.talk_s, r.hold_s, r.wrap_up_s)
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Span:
    agent_id: str
    category: str
    reason: str | None
    started_at: datetime
    ended_at: datetime | None


async def agent_spans(
    conn: AsyncConnection, start: datetime, end: datetime, agents: list[str] | None = None
) -> list[Span]:
    """Login sessions and pauses overlapping [start, end) (open ones included)."""
    a = AgentInterval
    query = select(a.agent_id, a.category, a.reason, a.started_at, a.ended_at).where(
        a.category.in_(("session", "pause")),
        a.started_at < end,
        or_(a.ended_at.is_(None), a.ended_at > start),
    )
    if agents:
        query = query.where(a.agent_id.in_(agents))
    return [Span(*row) for row in await conn.execute(query)]

"""SQL aggregation for reports: additive sums per (key, 15-minute UTC slot), on SQLite and
PostgreSQL, over call legs (``models.CallLeg``: one per visit of a call to a queue).

Everything returned is a count, a sum or a max, so slots roll up into any local period
(``buckets``) without going back to the rows. Attribution follows live statistics: a leg is
*offered* in the slot it entered the queue, and *answered / abandoned / overflowed* in the slot
it left the queue (``left_queue_at``); an agent's calls count where they were answered. A call
that overflows from queue A into queue B is offered and overflowed in A, and offered (then
answered, abandoned...) in B: two legs.

How it stays fast: every leg stores the slot of those timestamps (``enter_slot``,
``leave_slot``, ``answer_slot``), and one query walks the covering index
``ix_call_legs_report_queues`` in (enter_slot, queue, leave_slot) order, so the database groups
as it reads (no sort, no table lookups) and both sides of a leg come from one scan. A second,
small query adds the legs that left in range but entered outside it. Bounds that are not on a
slot boundary are exact too: only rows in the first or last slot compare the timestamps.

Agents' calls are summed per report period and agent (``agent_periods``), not per slot: the
database does the rolling up, and returns the rows in report order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, pairwise, repeat
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped
from sqlalchemy.types import NullType

from hotline.storage.models import CROSSING_LEGS, AgentInterval, CallLeg
from hotline.storage.record_ops import slot_of

ABANDONS = ("abandoned", "short_abandon")
EXITS = ("overflow", "transferred")  # left the queue for another target
TAKEN_OVER = "taken_over"  # a consulted agent's leg after an attended transfer (call_records)

# The figures of one (queue, slot), in this order (``QueueSums``): offered, then what left the
# queue in the slot. ``left`` counts every call that left (a slot with only a transfer still
# has a row); ``longest_wait_s`` is a max, the rest are sums.
QUEUE_FIGURES = (
    "offered", "left", "answered", "answered_within_t", "answered_wait_s", "abandoned",
    "abandoned_within_t", "short_abandoned", "overflowed", "overflowed_within_t",
    "longest_wait_s", "handled", "talk_s", "hold_s", "wrap_up_s",
)  # fmt: skip
LONGEST = QUEUE_FIGURES.index("longest_wait_s")
QueueSums = list[Any]  # QUEUE_FIGURES: counts as ints, seconds as floats
AGENT_FIGURES = ("answered", "handled", "talk_s", "hold_s", "wrap_up_s")  # agent_periods


@dataclass(frozen=True, slots=True)
class SlotRange:
    """The slots holding [start, end), and how to test a row of an edge slot exactly."""

    start: datetime
    end: datetime
    first: int
    last: int

    @classmethod
    def of(cls, start: datetime, end: datetime) -> SlotRange:
        return cls(start, end, slot_of(start), slot_of(_before(end)))

    def slots(self, column: Mapped[int | None]) -> ColumnElement[bool]:
        return column.between(self.first, self.last)

    def edges(self, slot: Any, ts: Any) -> ColumnElement[bool] | None:
        """Rows of the slot range outside [start, end): only possible in a partial edge slot.
        None when both bounds are slot boundaries (the usual report)."""
        checks = []
        if not _on_boundary(self.start):
            checks.append(or_(slot > self.first, ts >= self.start))
        if not _on_boundary(self.end):
            checks.append(or_(slot < self.last, ts < self.end))
        return and_(*checks) if checks else None


def _before(ts: datetime) -> datetime:
    """The instant before ``ts``: in UTC (in a zone with DST, ``ts - 1 µs`` is wall-clock
    arithmetic, an hour off where the clock skipped or repeated one)."""
    return ts.astimezone(UTC) - timedelta(microseconds=1)


def _on_boundary(ts: datetime) -> bool:
    return slot_of(ts) == slot_of(_before(ts)) + 1


def _count(*conditions: ColumnElement[bool] | None) -> Any:
    kept = [c for c in conditions if c is not None]
    return func.count().filter(and_(*kept)) if kept else func.count()


def _sum(value: Any, *conditions: ColumnElement[bool] | None) -> Any:
    kept = [c for c in conditions if c is not None]
    return func.sum(value).filter(and_(*kept)) if kept else func.sum(value)


def _max(value: Any, condition: ColumnElement[bool] | None) -> Any:
    return func.max(value) if condition is None else func.max(value).filter(condition)


_ALL_TO = tuple(range(1, len(QUEUE_FIGURES)))  # where _all_figures go in QUEUE_FIGURES


def _answered_figures(left: Any, threshold_s: float) -> list[Any]:
    """Over answered calls (``left``: the calls of the row that left in range, None: all):
    left, answered (the same), answered_within_t, answered_wait_s, longest_wait_s, handled, talk_s,
    hold_s, wrap_up_s."""
    c = CallLeg
    talked = c.talk_s.is_not(None)
    return [
        _count(left),
        _count(left),  # the same aggregate: computed once
        _count(left, func.coalesce(c.wait_s, 0.0) <= threshold_s),
        _sum(c.wait_s, left),
        _max(c.wait_s, left),
        _count(left, talked),
        _sum(c.talk_s, left),
        _sum(c.hold_s, left, talked),
        _sum(c.wrap_up_s, left, talked),
    ]


def _unanswered_figures(left: Any, threshold_s: float, short_abandon_s: float) -> list[Any]:
    """Over calls not answered: left, longest_wait_s, short_abandoned, abandoned,
    abandoned_within_t, overflowed, overflowed_within_t."""
    c = CallLeg
    wait = func.coalesce(c.wait_s, 0.0)
    abandoned = c.outcome.in_(ABANDONS)
    exited = c.outcome.in_(EXITS)
    within = wait <= threshold_s
    return [
        _count(left),
        _max(c.wait_s, left),
        _count(left, abandoned, wait < short_abandon_s),
        _count(left, abandoned, wait >= short_abandon_s),
        _count(left, abandoned, wait >= short_abandon_s, within),
        _count(left, exited),
        _count(left, exited, within),
    ]


def _all_figures(left: Any, threshold_s: float, short_abandon_s: float) -> list[Any]:
    """QUEUE_FIGURES[1:] over any legs (the few that left in range but entered outside it)."""
    c = CallLeg
    answered = c.answer_slot.is_not(None)
    wait = func.coalesce(c.wait_s, 0.0)
    abandoned = c.outcome.in_(ABANDONS)
    long_abandon = and_(abandoned, wait >= short_abandon_s)
    exited = c.outcome.in_(EXITS)
    within = wait <= threshold_s
    handled = and_(answered, c.talk_s.is_not(None))
    return [
        _count(left),
        _count(left, answered),
        _count(left, answered, within),
        _sum(c.wait_s, left, answered),
        _count(left, long_abandon),
        _count(left, long_abandon, within),
        _count(left, abandoned, wait < short_abandon_s),
        _count(left, exited),
        _count(left, exited, within),
        _max(c.wait_s, left),
        _count(left, handled),
        _sum(c.talk_s, left, handled),
        _sum(c.hold_s, left, handled),
        _sum(c.wrap_up_s, left, handled),
    ]


def _empty() -> QueueSums:
    return [0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, 0.0, 0, 0.0, 0.0, 0.0]


def _add_exits(
    sums: dict[tuple[int, str], QueueSums],
    key: tuple[int, str],
    figures: Sequence[Any],
    to: tuple[int, ...],
) -> None:
    target = sums.get(key)
    if target is None:
        sums[key] = target = _empty()
    for i, value in zip(to, figures, strict=True):
        if value is None:
            continue
        if i == LONGEST:
            if value > target[i]:
                target[i] = value
        else:
            target[i] += value


async def queue_slots(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    threshold_s: float,
    short_abandon_s: float,
    queues: list[str] | None = None,
) -> dict[tuple[int, str], QueueSums]:
    """(slot, queue) → QUEUE_FIGURES, for every slot where a call entered or left a queue."""
    c = CallLeg
    span = SlotRange.of(start, end)
    entered = span.edges(c.enter_slot, c.enqueued_at)
    left = span.edges(c.leave_slot, c.left_queue_at)
    first, last = span.first, span.last
    keep = [c.queue.in_(queues)] if queues else []
    key_columns = (c.enter_slot, c.queue, c.leave_slot)
    sums: dict[tuple[int, str], QueueSums] = {}

    # Legs that entered in the slot range, answered ones apart (fewer conditions per row),
    # each grouped in index order. A row's exit figures count only if its leave_slot is in
    # range. The loops are written out: they run once per group (~100,000 in a month).
    answered = (
        select(*key_columns, _count(entered), *_answered_figures(left, threshold_s))
        .where(
            span.slots(c.enter_slot),
            c.answer_slot.is_not(None),
            c.outcome != TAKEN_OVER,  # a consulted agent's part: not an offer
            *keep,
        )
        .group_by(*key_columns)
    )
    rows = (await conn.execute(answered)).all()
    for enter_slot, queue, leave_slot, offered, n, answered_n, within, wait, longest, *rest in rows:
        if offered:
            t = sums.get((enter_slot, queue))
            if t is None:
                t = sums[enter_slot, queue] = _empty()
            t[0] += offered
        if n and leave_slot is not None and first <= leave_slot <= last:
            t = sums.get((leave_slot, queue))
            if t is None:
                t = sums[leave_slot, queue] = _empty()
            handled, talk, hold, wrap = rest
            t[1] += n
            t[2] += answered_n
            t[3] += within
            t[4] += wait or 0.0
            if longest is not None and longest > t[10]:
                t[10] = longest
            t[11] += handled
            t[12] += talk or 0.0
            t[13] += hold or 0.0
            t[14] += wrap or 0.0
    if conn.dialect.name == "postgresql":
        # Unanswered calls are found through a bitmap scan and hashed into ~50,000 groups
        # (~15 MB): enough memory not to spill to disk. Set here, not for the transaction: the
        # query above walks its index in order and needs none, and more would tempt the
        # planner into hashing it from a table scan instead (slower).
        await conn.exec_driver_sql("SET LOCAL work_mem = '32MB'")
    unanswered = (
        select(
            *key_columns,
            _count(entered),
            *_unanswered_figures(left, threshold_s, short_abandon_s),
        )
        .where(span.slots(c.enter_slot), c.answer_slot.is_(None), *keep)
        .group_by(*key_columns)
    )
    rows = (await conn.execute(unanswered)).all()
    for enter_slot, queue, leave_slot, offered, n, longest, *rest in rows:
        if offered:
            t = sums.get((enter_slot, queue))
            if t is None:
                t = sums[enter_slot, queue] = _empty()
            t[0] += offered
        if n and leave_slot is not None and first <= leave_slot <= last:
            t = sums.get((leave_slot, queue))
            if t is None:
                t = sums[leave_slot, queue] = _empty()
            short, abandoned, abandoned_within, overflowed, overflowed_within = rest
            t[1] += n
            if longest is not None and longest > t[10]:
                t[10] = longest
            t[7] += short
            t[5] += abandoned
            t[6] += abandoned_within
            t[8] += overflowed
            t[9] += overflowed_within

    # Left in range, entered outside it: a few rows, found through the partial index of legs
    # whose two slots differ.
    late = (
        select(c.leave_slot, c.queue, *_all_figures(left, threshold_s, short_abandon_s))
        .where(
            span.slots(c.leave_slot),
            text(CROSSING_LEGS),
            or_(c.enter_slot < first, c.enter_slot > last),
            *keep,
        )
        .group_by(c.leave_slot, c.queue)
    )
    for leave_slot, queue, *row in (await conn.execute(late)).all():
        if row[0]:
            _add_exits(sums, (leave_slot, queue), row, _ALL_TO)
    return sums


def _period_of(slot: Any, runs: Sequence[tuple[int, int]]) -> Any:
    """The first slot of the report period holding ``slot``: ``SlotPeriods.runs`` in SQL
    (integer arithmetic; the slot itself when every period is one slot)."""

    def first_slot(begin: int, width: int) -> Any:
        if width == 1:
            return slot
        b, w = literal_column(str(int(begin)), Integer), literal_column(str(int(width)), Integer)
        return (slot - b) // w * w + b

    if len(runs) == 1:
        return first_slot(*runs[0])
    whens = [
        (slot < literal_column(str(int(following)), Integer), first_slot(begin, width))
        for (begin, width), (following, _) in pairwise(runs)
    ]
    return case(*whens, else_=first_slot(*runs[-1]))


@dataclass(frozen=True, slots=True)
class _PeriodArrays:
    """Rows received as one row per period holding a list per column (PostgreSQL's
    ``array_agg``), iterated (as often as needed) as the rows they hold."""

    periods: Sequence[Sequence[Any]]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return chain.from_iterable(
            zip(repeat(period), *columns) for period, *columns in self.periods
        )


async def agent_periods(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    runs: Sequence[tuple[int, int]],
    agents: list[str] | None = None,
) -> Iterable[Sequence[Any]]:
    """(first slot of the period answered, agent, *AGENT_FIGURES) over the legs agents answered
    in [start, end), one row per report period (``runs``: ``SlotPeriods.runs``) and agent that
    answered any, in that order as the database sorts agent ids (usually as Python does:
    ``build`` checks). Sums are 0.0 rather than None. Can be iterated more than once.

    15-minute periods group the index ``ix_call_legs_report_agents`` as it is walked (no sort,
    no table lookups); longer ones add the index's slots up in the database too, so a day,
    week or month report reads one row per agent and period. By 15 minutes, 1,000 agents over
    a month are still ~700,000 rows (one per agent and quarter-hour with a call): PostgreSQL
    sends them as one row per period with a list per column, which asyncpg decodes in a third
    less time."""
    c = CallLeg
    span = SlotRange.of(start, end)
    edge = span.edges(c.answer_slot, c.answered_at)
    handled = c.talk_s.is_not(None)
    period = _period_of(c.answer_slot, runs)
    answered = _count(edge)
    query = (
        select(
            period,
            c.agent_id,
            answered,
            _count(edge, handled),
            func.coalesce(_sum(c.talk_s, edge, handled), 0.0),
            func.coalesce(_sum(c.hold_s, edge, handled), 0.0),
            func.coalesce(_sum(c.wrap_up_s, edge, handled), 0.0),
        )
        .where(span.slots(c.answer_slot), c.agent_id.is_not(None))
        .group_by(period, c.agent_id)
        .order_by(period, c.agent_id)
    )
    if edge is not None:  # legs of an edge slot all outside [start, end): no row
        query = query.having(answered > 0)
    if agents:
        query = query.where(c.agent_id.in_(agents))
    if conn.dialect.name != "postgresql":
        return (await conn.execute(query)).all()
    # Each list in the order of the subquery's rows (period, agent), as PostgreSQL aggregates
    # them; had it reordered them, ``build`` would find agents out of order and sort.
    rows = query.subquery()
    period_of_row, *columns = rows.c
    packed = (
        select(period_of_row, *(func.array_agg(column, type_=NullType()) for column in columns))
        .group_by(period_of_row)
        .order_by(period_of_row)
    )
    return _PeriodArrays((await conn.execute(packed)).all())


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

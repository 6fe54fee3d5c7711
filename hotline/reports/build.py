"""Queue and agent reports: SQL slot sums (``queries``) rolled up into local periods
(``buckets``) and turned into figures (``staffing.kpi``). Rows are plain dicts, ready for JSON
and CSV; every row names the service-level formula it was computed with, and a queue row the
abandon-rate definition (``staffing.kpi.ABANDON_RATE_DEFINITION``).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from cti.settings import LiveSettings
from hotline.reports.buckets import Period, SlotPeriods
from hotline.reports.queries import (
    LONGEST,
    QueueSums,
    SlotRange,
    Span,
    agent_periods,
    agent_spans,
    queue_slots,
)
from hotline.storage.db import Database
from hotline.storage.record_ops import SLOT_S
from staffing import kpi


@dataclass(frozen=True, slots=True)
class ReportRequest:
    start: datetime
    end: datetime
    period: Period
    formula: str = "answered_within_t_over_answered"
    threshold_s: float = 20.0
    short_abandon_s: float = 5.0
    only: tuple[str, ...] = ()  # queues (or agents) to keep; empty: all

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("report bounds must be timezone-aware")
        # In UTC: bounds in the centre's zone would compare by wall-clock time (wrong at DST).
        if self.end.astimezone(UTC) <= self.start.astimezone(UTC):
            raise ValueError("report 'to' must be after 'from'")
        if self.formula not in kpi.FORMULAS:
            names = ", ".join(kpi.FORMULA_NAMES)
            raise ValueError(f"unknown service-level formula {self.formula!r} (one of {names})")


def request_from_settings(
    live: LiveSettings,
    start: datetime,
    end: datetime,
    interval: str = "15m",
    formula: str | None = None,
    threshold_s: float | None = None,
    only: Iterable[str] = (),
) -> ReportRequest:
    """Defaults from the live-statistics settings, so both use the same definitions."""
    zone = ZoneInfo(live.timezone)
    return ReportRequest(
        start=start,
        end=end,
        period=Period.parse(interval, zone),
        formula=formula or live.sl_formula,
        threshold_s=threshold_s if threshold_s is not None else live.sl_threshold_s,
        short_abandon_s=live.short_abandon_s,
        only=tuple(only),
    )


def _header(kind: str, req: ReportRequest) -> dict[str, Any]:
    return {
        "report": kind,
        "from": req.start.isoformat(),
        "to": req.end.isoformat(),
        "interval": req.period.name,
        "timezone": req.period.zone.key,
        "service_level_formula": req.formula,
        "service_level_threshold_s": req.threshold_s,
        "short_abandon_s": req.short_abandon_s,
    }


def _bucket(req: ReportRequest, slot: int, cache: dict[int, datetime]) -> datetime:
    start = cache.get(slot)
    if start is None:
        start = cache[slot] = req.period.start_of(datetime.fromtimestamp(slot * SLOT_S, UTC))
    return start


def _roll_up(
    req: ReportRequest, sums: dict[tuple[int, str], list[Any]], combine: Callable[..., None]
) -> list[tuple[datetime, str, list[Any]]]:
    """(period start, key, figures) in order, the slots of each local period added up."""
    cache: dict[int, datetime] = {}
    if req.period.minutes == SLOT_S // 60:
        # One slot per period (the common 15-minute case): nothing to add up; slot order is
        # time order.
        return [(_bucket(req, slot, cache), key, sums[slot, key]) for slot, key in sorted(sums)]
    totals: dict[tuple[datetime, str], list[Any]] = {}
    for (slot, key), figures in sums.items():
        bucket = (_bucket(req, slot, cache), key)
        total = totals.get(bucket)
        if total is None:
            totals[bucket] = list(figures)
        else:
            combine(total, figures)
    return [(start, key, t) for (start, key), t in sorted(totals.items(), key=_first)]


def _first(item: tuple[tuple[datetime, str], list[Any]]) -> tuple[datetime, str]:
    return item[0]


def _add_queue(total: list[Any], figures: list[Any]) -> None:
    for i, value in enumerate(figures):
        total[i] = max(total[i], value) if i == LONGEST else total[i] + value


def queue_rows(req: ReportRequest, sums: dict[tuple[int, str], QueueSums]) -> list[dict[str, Any]]:
    sl = kpi.FORMULAS[req.formula]
    name = req.formula
    isoformat: dict[datetime, str] = {}
    rows = []
    for start, queue, t in _roll_up(req, sums, _add_queue):
        when = isoformat.get(start)
        if when is None:
            when = isoformat[start] = start.isoformat()
        rows.append(_queue_row(sl, name, when, queue, t))
    return rows


def _queue_row(
    sl: Callable[[kpi.SlCounts], float | None],
    formula: str,
    start: str,
    queue: str,
    t: QueueSums,
) -> dict[str, Any]:
    # Seconds are floats here (``QueueSums``), ratios float or None: rounded inline.
    (offered, _, answered, answered_within_t, answered_wait_s, abandoned, abandoned_within_t,
     short_abandoned, overflowed, overflowed_within_t, longest_wait_s, handled, talk_s, hold_s,
     wrap_up_s) = t  # fmt: skip
    queued = offered - short_abandoned if offered > short_abandoned else 0
    level = sl(
        kpi.SlCounts(
            queued, answered, answered_within_t, abandoned, abandoned_within_t, overflowed_within_t
        )
    )
    abandon_rate = kpi.abandon_rate(abandoned, queued)
    asa = kpi.asa(answered_wait_s, answered)
    aht = kpi.aht(talk_s, hold_s, wrap_up_s, handled)
    return {
        "interval_start": start,
        "queue": queue,
        "offered": offered,
        "answered": answered,
        "answered_within_t": answered_within_t,
        "abandoned": abandoned,
        "short_abandoned": short_abandoned,
        "overflowed": overflowed,
        "service_level": None if level is None else round(level, 4),
        "service_level_formula": formula,
        "abandon_rate": None if abandon_rate is None else round(abandon_rate, 4),
        "asa_s": None if asa is None else round(asa, 4),
        "aht_s": None if aht is None else round(aht, 4),
        "longest_wait_s": round(longest_wait_s, 4),
        "talk_s": round(talk_s, 4),
        "hold_s": round(hold_s, 4),
        "wrap_up_s": round(wrap_up_s, 4),
        # Last, after the columns reports have always had: CSV readers by position still work.
        "abandon_rate_definition": kpi.ABANDON_RATE_DEFINITION,
    }


class _Unordered(Exception):
    """The database sorted agent ids otherwise than Python (a collation): sort here."""


def agent_rows(
    req: ReportRequest,
    periods: SlotPeriods,
    calls: Iterable[Sequence[Any]],
    spans: list[Span],
    now: datetime,
) -> list[dict[str, Any]]:
    """Rows in (period, agent) order: an agent's calls (``queries.agent_periods``: one row per
    period and agent), login time and pause time by reason in a period, for each period and
    agent with any of them."""
    login: dict[tuple[int, str], float] = defaultdict(float)
    pause: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    # Instants in UTC throughout: the report's bounds are often in the centre's zone, where
    # comparisons (and subtractions, in ``split``) would go by wall-clock time.
    start, end = req.start.astimezone(UTC), req.end.astimezone(UTC)
    limit = min(end, now.astimezone(UTC))
    for span in spans:
        begin = max(span.started_at.astimezone(UTC), start)
        finish = min((span.ended_at or limit).astimezone(UTC), end)
        if begin >= finish:
            continue
        for i, seconds in periods.split(begin, finish):
            if span.category == "session":
                login[(i, span.agent_id)] += seconds
            else:
                pause[(i, span.agent_id)][span.reason or "unspecified"] += seconds
    timed = sorted(login.keys() | pause.keys())
    try:
        return _agent_rows(periods, calls, timed, login, pause)
    except _Unordered:
        return _agent_rows(periods, sorted(calls, key=_period_agent), timed, login, pause)


def _period_agent(row: Sequence[Any]) -> tuple[int, str]:
    return row[0], row[1]


def _agent_rows(
    periods: SlotPeriods,
    calls: Iterable[Sequence[Any]],
    timed: list[tuple[int, str]],
    login: dict[tuple[int, str], float],
    pause: dict[tuple[int, str], dict[str, float]],
) -> list[dict[str, Any]]:
    """The rows of ``agent_rows``: calls in (period, agent) order merged with ``timed``, the
    (period index, agent) keys with login or pause time, sorted.

    The loop runs once per row (~700,000 for 1,000 agents over a month by 15 minutes), so the
    figures are computed inline, as ``_round(kpi.…)`` would: the sums are floats (SQL
    ``coalesce(sum(…), 0.0)``), rounded by ``float.__round__`` (``round`` without its dispatch),
    and whole seconds (no hold, a fixed wrap-up) need no rounding."""
    round_ = float.__round__
    index = periods.index()
    when = [start.isoformat() for start in periods.starts]
    rows: list[dict[str, Any]] = []
    append = rows.append
    timed_rows = iter(timed)
    next_timed = next(timed_rows, None)
    last_slot, last_agent, i, start = periods.slots[0] - 1, "", -1, ""
    for slot, agent_id, answered, handled, talk_s, hold_s, wrap_up_s in calls:
        if slot != last_slot:
            if slot < last_slot:
                raise _Unordered
            last_slot, i = slot, index[slot]
            start = when[i]
        elif agent_id <= last_agent:
            raise _Unordered
        last_agent = agent_id
        while next_timed is not None and next_timed < (i, agent_id):
            append(_timed_row(when, next_timed, login, pause))
            next_timed = next(timed_rows, None)
        handle = talk_s + hold_s + wrap_up_s
        row = {
            "interval_start": start,
            "agent_id": agent_id,
            "answered": answered,
            "talk_s": round_(talk_s, 4),
            "hold_s": hold_s if hold_s.is_integer() else round_(hold_s, 4),
            "wrap_up_s": wrap_up_s if wrap_up_s.is_integer() else round_(wrap_up_s, 4),
            "aht_s": round_(handle / handled, 4) if handled > 0 else None,
            "login_s": 0.0,
            "pause_s": 0,
            "pause_by_reason": {},
            "occupancy": None,
        }
        if next_timed is not None and next_timed[0] == i and next_timed[1] == agent_id:
            _add_time(row, handle, login.get(next_timed, 0.0), pause.get(next_timed, {}))
            next_timed = next(timed_rows, None)
        append(row)
    while next_timed is not None:
        append(_timed_row(when, next_timed, login, pause))
        next_timed = next(timed_rows, None)
    return rows


def _timed_row(
    when: list[str],
    key: tuple[int, str],
    login: dict[tuple[int, str], float],
    pause: dict[tuple[int, str], dict[str, float]],
) -> dict[str, Any]:
    """The row of an agent with login or pause time but no calls in a period."""
    row = {
        "interval_start": when[key[0]],
        "agent_id": key[1],
        "answered": 0,
        "talk_s": 0.0,
        "hold_s": 0.0,
        "wrap_up_s": 0.0,
        "aht_s": None,
    }
    _add_time(row, 0.0, login.get(key, 0.0), pause.get(key, {}))
    return row


def _add_time(row: dict[str, Any], handle: float, login_s: float, pauses: dict[str, float]) -> None:
    pause_s = sum(pauses.values())
    row["login_s"] = _round(login_s)
    row["pause_s"] = _round(pause_s)
    row["pause_by_reason"] = {k: _round(v) for k, v in sorted(pauses.items())}
    row["occupancy"] = _round(kpi.occupancy(handle, login_s, pause_s))


def _round(value: float | None) -> float | None:
    return value if value is None or value.__class__ is int else round(value, 4)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a big report is read and built. Its rows
    (~700,000 fetched tuples and as many row dicts, all alive until the report is returned)
    would otherwise set off repeated full collections of the whole heap as it grows: more time
    than building them. They hold no cycles; collection resumes after (left alone if something
    else had paused it)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _snapshot(conn: AsyncConnection) -> None:
    """One snapshot for all of a report's queries (each call is read by exactly one of them).
    SQLite: the connection's transaction already is one (WAL). PostgreSQL: repeatable read,
    and no JIT (it costs more than it saves on queries of a second)."""
    if conn.dialect.name == "postgresql":
        await conn.execution_options(isolation_level="REPEATABLE READ")
        await conn.exec_driver_sql("SET LOCAL jit = off")


async def queue_report(db: Database, req: ReportRequest) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        await _snapshot(conn)
        sums = await queue_slots(
            conn, req.start, req.end, req.threshold_s, req.short_abandon_s, list(req.only)
        )
    header = _header("queues", req) | {"abandon_rate_definition": kpi.ABANDON_RATE_DEFINITION}
    return {**header, "rows": queue_rows(req, sums)}


async def agent_report(
    db: Database, req: ReportRequest, now: datetime | None = None
) -> dict[str, Any]:
    span = SlotRange.of(req.start, req.end)
    periods = SlotPeriods.of(req.period, span.first, span.last, SLOT_S)
    with _collector_paused():
        async with db.engine.connect() as conn:
            await _snapshot(conn)
            calls = await agent_periods(conn, req.start, req.end, periods.runs(), list(req.only))
            spans = await agent_spans(conn, req.start, req.end, list(req.only))
        rows = agent_rows(req, periods, calls, spans, now or datetime.now(UTC))
        del calls  # freed while paused: the collection that follows has the rows alone to scan
    return {**_header("agents", req), "rows": rows}

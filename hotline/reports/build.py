"""Queue and agent reports: SQL slot sums (``queries``) rolled up into local periods
(``buckets``) and turned into figures (``formulas``). Rows are plain dicts, ready for JSON
and CSV; every row names the service-level formula it was computed with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from cti.settings import LiveSettings
from hotline.reports import formulas
from hotline.reports.buckets import Period, split
from hotline.reports.queries import (
    LONGEST,
    AgentSums,
    QueueSums,
    Span,
    agent_slots,
    agent_spans,
    queue_slots,
)
from hotline.storage.db import Database
from hotline.storage.record_ops import SLOT_S


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
        if self.end <= self.start:
            raise ValueError("report 'to' must be after 'from'")
        if self.formula not in formulas.FORMULAS:
            names = ", ".join(formulas.FORMULA_NAMES)
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


def _add_agent(total: list[Any], figures: list[Any]) -> None:
    for i, value in enumerate(figures):
        total[i] += value


def queue_rows(req: ReportRequest, sums: dict[tuple[int, str], QueueSums]) -> list[dict[str, Any]]:
    sl = formulas.FORMULAS[req.formula]
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
    sl: Callable[[formulas.SlCounts], float | None],
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
        formulas.SlCounts(
            queued, answered, answered_within_t, abandoned, abandoned_within_t, overflowed_within_t
        )
    )
    abandon_rate = formulas.abandon_rate(abandoned, queued)
    asa = formulas.asa(answered_wait_s, answered)
    aht = formulas.aht(talk_s, hold_s, wrap_up_s, handled)
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
    }


def agent_rows(
    req: ReportRequest, sums: dict[tuple[int, str], AgentSums], spans: list[Span], now: datetime
) -> list[dict[str, Any]]:
    calls = {(start, key): t for start, key, t in _roll_up(req, sums, _add_agent)}
    login: dict[tuple[datetime, str], float] = defaultdict(float)
    pause: dict[tuple[datetime, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    limit = min(req.end, now)
    for span in spans:
        begin = max(span.started_at, req.start)
        finish = min(span.ended_at or limit, req.end)
        for bucket, seconds in split(begin, finish, req.period):
            if span.category == "session":
                login[(bucket, span.agent_id)] += seconds
            else:
                pause[(bucket, span.agent_id)][span.reason or "unspecified"] += seconds
    keys = sorted(set(calls) | set(login) | set(pause)) if login or pause else list(calls)
    return [_agent_row(k, calls.get(k), login.get(k, 0.0), pause.get(k, {})) for k in keys]


def _agent_row(
    key: tuple[datetime, str], c: AgentSums | None, login_s: float, pauses: dict[str, float]
) -> dict[str, Any]:
    start, agent_id = key
    answered, handled, talk_s, hold_s, wrap_up_s = c or (0, 0, 0.0, 0.0, 0.0)
    handle = talk_s + hold_s + wrap_up_s
    pause_s = sum(pauses.values())
    return {
        "interval_start": start.isoformat(),
        "agent_id": agent_id,
        "answered": answered,
        "talk_s": _round(talk_s),
        "hold_s": _round(hold_s),
        "wrap_up_s": _round(wrap_up_s),
        "aht_s": _round(formulas.aht(talk_s, hold_s, wrap_up_s, handled)),
        "login_s": _round(login_s),
        "pause_s": _round(pause_s),
        "pause_by_reason": {k: _round(v) for k, v in sorted(pauses.items())},
        "occupancy": _round(formulas.occupancy(handle, login_s, pause_s)),
    }


def _round(value: float | None) -> float | None:
    return value if value is None or value.__class__ is int else round(value, 4)


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
    return {**_header("queues", req), "rows": queue_rows(req, sums)}


async def agent_report(
    db: Database, req: ReportRequest, now: datetime | None = None
) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        sums = await agent_slots(conn, req.start, req.end, list(req.only))
        spans = await agent_spans(conn, req.start, req.end, list(req.only))
    rows = agent_rows(req, sums, spans, now or datetime.now(UTC))
    return {**_header("agents", req), "rows": rows}

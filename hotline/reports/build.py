"""Queue and agent reports: SQL slot sums (``queries``) rolled up into local periods
(``buckets``) and turned into figures (``formulas``). Rows are plain dicts, ready for JSON
and CSV; every row names the service-level formula it was computed with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cti.settings import LiveSettings
from hotline.reports import formulas
from hotline.reports.buckets import Period, split
from hotline.reports.queries import (
    AgentSlot,
    QueueSlot,
    Span,
    agent_slots,
    agent_spans,
    queue_slots,
)
from hotline.storage.db import Database


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


def _bucket(req: ReportRequest, slot: int, width: int, cache: dict[int, datetime]) -> datetime:
    if slot not in cache:
        cache[slot] = req.period.start_of(datetime.fromtimestamp(slot * width, UTC))
    return cache[slot]


def queue_rows(req: ReportRequest, slots: list[QueueSlot], width: int) -> list[dict[str, Any]]:
    sums: dict[tuple[datetime, str], QueueSlot] = {}
    cache: dict[int, datetime] = {}
    if req.period.minutes is not None and req.period.minutes * 60 == width:
        # One slot per period (the common 15-minute case): nothing to add up.
        keyed = [((_bucket(req, s.slot, width, cache), s.queue), s) for s in slots]
        return [_queue_row(req, start, t) for (start, _), t in sorted(keyed, key=_first)]
    names = [f.name for f in fields(QueueSlot)][2:]
    for s in slots:
        key = (_bucket(req, s.slot, width, cache), s.queue)
        total = sums.setdefault(key, QueueSlot(s.queue, 0))
        for name in names:
            if name == "longest_wait_s":
                total.longest_wait_s = max(total.longest_wait_s, s.longest_wait_s or 0.0)
            else:
                setattr(total, name, getattr(total, name) + getattr(s, name))
    return [_queue_row(req, start, t) for (start, _), t in sorted(sums.items())]


def _first(item: tuple[tuple[datetime, str], QueueSlot]) -> tuple[datetime, str]:
    return item[0]


def _queue_row(req: ReportRequest, start: datetime, t: QueueSlot) -> dict[str, Any]:
    counts = formulas.SlCounts(
        queued=max(t.offered - t.short_abandoned, 0),
        answered=t.answered,
        answered_within_t=t.answered_within_t,
        abandoned=t.abandoned,
        abandoned_within_t=t.abandoned_within_t,
        overflowed_within_t=t.overflowed_within_t,
    )
    return {
        "interval_start": start.isoformat(),
        "queue": t.queue,
        "offered": t.offered,
        "answered": t.answered,
        "answered_within_t": t.answered_within_t,
        "abandoned": t.abandoned,
        "short_abandoned": t.short_abandoned,
        "overflowed": t.overflowed,
        "service_level": _round(formulas.FORMULAS[req.formula](counts)),
        "service_level_formula": req.formula,
        "abandon_rate": _round(formulas.abandon_rate(t.abandoned, counts.queued)),
        "asa_s": _round(formulas.asa(t.answered_wait_s, t.answered)),
        "aht_s": _round(formulas.aht(t.talk_s, t.hold_s, t.wrap_up_s, t.handled)),
        "longest_wait_s": _round(t.longest_wait_s),
        "talk_s": _round(t.talk_s),
        "hold_s": _round(t.hold_s),
        "wrap_up_s": _round(t.wrap_up_s),
    }


def agent_rows(
    req: ReportRequest, slots: list[AgentSlot], spans: list[Span], width: int, now: datetime
) -> list[dict[str, Any]]:
    calls: dict[tuple[datetime, str], AgentSlot] = {}
    cache: dict[int, datetime] = {}
    for s in slots:
        key = (_bucket(req, s.slot, width, cache), s.agent_id)
        t = calls.setdefault(key, AgentSlot(s.agent_id, 0))
        t.answered += s.answered
        t.handled += s.handled
        t.talk_s += s.talk_s
        t.hold_s += s.hold_s
        t.wrap_up_s += s.wrap_up_s
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
    keys = sorted(set(calls) | set(login) | set(pause))
    return [_agent_row(k, calls.get(k), login.get(k, 0.0), pause.get(k, {})) for k in keys]


def _agent_row(
    key: tuple[datetime, str], c: AgentSlot | None, login_s: float, pauses: dict[str, float]
) -> dict[str, Any]:
    start, agent_id = key
    c = c or AgentSlot(agent_id, 0)
    handle = c.talk_s + c.hold_s + c.wrap_up_s
    pause_s = sum(pauses.values())
    return {
        "interval_start": start.isoformat(),
        "agent_id": agent_id,
        "answered": c.answered,
        "talk_s": _round(c.talk_s),
        "hold_s": _round(c.hold_s),
        "wrap_up_s": _round(c.wrap_up_s),
        "aht_s": _round(formulas.aht(c.talk_s, c.hold_s, c.wrap_up_s, c.handled)),
        "login_s": _round(login_s),
        "pause_s": _round(pause_s),
        "pause_by_reason": {k: _round(v) for k, v in sorted(pauses.items())},
        "occupancy": _round(formulas.occupancy(handle, login_s, pause_s)),
    }


def _round(value: float | None) -> float | None:
    return value if value is None or value.__class__ is int else round(value, 4)


async def queue_report(db: Database, req: ReportRequest) -> dict[str, Any]:
    width = req.period.slot_seconds(req.start, req.end)
    async with db.engine.connect() as conn:
        slots = await queue_slots(
            conn, req.start, req.end, width, req.threshold_s, req.short_abandon_s, list(req.only)
        )
    return {**_header("queues", req), "rows": queue_rows(req, slots, width)}


async def agent_report(
    db: Database, req: ReportRequest, now: datetime | None = None
) -> dict[str, Any]:
    width = req.period.slot_seconds(req.start, req.end)
    async with db.engine.connect() as conn:
        slots = await agent_slots(conn, req.start, req.end, width, list(req.only))
        spans = await agent_spans(conn, req.start, req.end, list(req.only))
    rows = agent_rows(req, slots, spans, width, now or datetime.now(UTC))
    return {**_header("agents", req), "rows": rows}

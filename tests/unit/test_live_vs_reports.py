"""Live statistics and historical reports agree to the call (issue 6).

The scripted morning of ``tests.fakes.live_morning`` (ACD-shaped domain events) is published
on a ``DomainBus``; live statistics (one ``LiveStats`` per service-level formula) and the real
``EventLogWriter`` (into a tmp SQLite database) consume the same bus. For every queue, every
15-minute interval (live figures read just before the interval closes) and the day, the
figures must be equal: offered, answered, abandoned, short abandons, service level by each
formula, abandon rate (one definition, ``abandoned_over_queued``), ASA and AHT. Occupancy is
per queue live and per agent in reports: the day's live occupancy of each queue equals its
agents' report rows summed, handle ÷ (logged in − paused) (``staffing.kpi.occupancy``).

c6 is one call with two legs (``call_legs``): offered and overflowed in cards, offered and
answered in loans, in reports as in live statistics. The first test overflows c6 to voicemail
instead (and loans answers another caller, c6b, the same way): the same figures, one leg each.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cti.events import AgentLoggedOut, AgentStateChanged, DomainBus, DomainEvent
from cti.fanout import Subscription
from cti.settings import EventLogSettings, LiveSettings, SlFormulaName
from hotline.live.model import PeriodStats, QueueDefinition
from hotline.live.stats import LiveStats
from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.storage import Database
from hotline.storage.event_log import EventLogWriter
from staffing import kpi
from staffing.kpi import FORMULA_NAMES
from tests.fakes.clock import DAY, FakeClock, at, when
from tests.fakes.live_morning import (
    QUEUES,
    SHORT_ABANDON_S,
    THRESHOLD_S,
    hold_and_transfer,
    morning,
)

ZONE = ZoneInfo("UTC")
FORMULAS: tuple[SlFormulaName, ...] = FORMULA_NAMES  # type: ignore[assignment]


def drain(sub: Subscription[DomainEvent]) -> Iterator[DomainEvent]:
    while (event := sub.get_nowait()) is not None:
        yield event


LiveFigures = dict[tuple[str, str], dict[str, Any]]  # (period start, queue) → figures


def live_figures(stats: dict[SlFormulaName, LiveStats], queue: str, period: str) -> dict[str, Any]:
    periods: dict[SlFormulaName, PeriodStats] = {}
    for formula, live in stats.items():
        view = live.queue_stats(queue)
        assert view is not None
        periods[formula] = view.interval if period == "interval" else view.today
    first = next(iter(periods.values()))
    return {
        "offered": first.offered,
        "answered": first.answered,
        "answered_within_t": first.answered_within_t,
        "abandoned": first.abandoned,
        "short_abandoned": first.short_abandoned,
        "overflowed": first.overflowed,
        "abandon_rate": first.abandon_rate,
        "asa_s": first.asa_s,
        "aht_s": first.aht_s,
        **{f"sl:{formula}": p.service_level for formula, p in periods.items()},
    }


async def report_figures(
    db: Database, start: datetime, end: datetime, interval: str
) -> LiveFigures:
    out: LiveFigures = {}
    for formula in FORMULAS:
        req = ReportRequest(
            start, end, Period.parse(interval, ZONE), formula, THRESHOLD_S, SHORT_ABANDON_S
        )
        for row in (await queue_report(db, req))["rows"]:
            figures = out.setdefault((row["interval_start"], row["queue"]), {})
            figures.update({k: row[k] for k in (
                "offered", "answered", "answered_within_t", "abandoned", "short_abandoned",
                "overflowed", "abandon_rate", "asa_s", "aht_s",
            )})  # fmt: skip
            figures[f"sl:{formula}"] = row["service_level"]
    return out


MEMBERS = {"cards": ("A", "B"), "loans": ("C",)}  # tests.fakes.live_morning's agents


async def report_occupancy(db: Database) -> dict[str, float | None]:
    """Each queue's occupancy from its agents' rows of the day's agent report."""
    req = ReportRequest(
        DAY, DAY + timedelta(days=1), Period.parse("day", ZONE), FORMULAS[0], THRESHOLD_S,
        SHORT_ABANDON_S,
    )  # fmt: skip
    rows = {
        row["agent_id"]: row for row in (await agent_report(db, req, now=at("23:00:00")))["rows"]
    }
    occupancy: dict[str, float | None] = {}
    for queue, agents in MEMBERS.items():
        mine = [rows[a] for a in agents]
        handle = sum(r["talk_s"] + r["hold_s"] + r["wrap_up_s"] for r in mine)
        login, paused = sum(r["login_s"] for r in mine), sum(r["pause_s"] for r in mine)
        occupancy[queue] = kpi.occupancy(handle, login, paused)
    return occupancy


def logged_out(hms: str) -> list[DomainEvent]:
    """The morning's agents log out (so the day's time is whole on both sides)."""
    return [
        event
        for agent in ("A", "B", "C")
        for event in (
            AgentStateChanged(agent_id=agent, state="logged_out", **when(hms)),
            AgentLoggedOut(agent_id=agent, **when(hms)),
        )
    ]


def close(live: dict[str, Any], report: dict[str, Any]) -> bool:
    if live.keys() != report.keys():
        return False
    for key, value in live.items():
        other = report[key]
        if isinstance(value, float) and isinstance(other, float):
            if abs(value - other) > 1e-3:
                return False
        elif value != other:
            return False
    return True


def empty(figures: dict[str, Any]) -> bool:
    return not any(figures[k] for k in ("offered", "answered", "abandoned", "short_abandoned"))


async def agree(db: Database, tmp_path: Path, events: list[DomainEvent]) -> None:
    clock = FakeClock("08:50:00")
    base = {"short_abandon_s": SHORT_ABANDON_S, "sl_threshold_s": THRESHOLD_S, "timezone": "UTC"}
    definitions = [QueueDefinition(q) for q in QUEUES]
    stats = {
        formula: LiveStats(
            LiveSettings.model_validate(base | {"sl_formula": formula}), definitions, clock=clock
        )
        for formula in FORMULAS
    }
    log_settings = EventLogSettings.model_validate(
        {"spool_dir": tmp_path / "spool", "batch_size": 7, "flush_interval_ms": 10,
         "short_abandon_s": SHORT_ABANDON_S}
    )  # fmt: skip
    bus = DomainBus()
    live_sub = bus.subscribe()
    live_intervals: LiveFigures = {}

    def snapshot(period_start: datetime) -> None:
        # Read the live interval just before it closes.
        before_close = period_start + timedelta(minutes=15) - timedelta(seconds=1)
        clock.now = before_close.strftime("%H:%M:%S")
        for queue in QUEUES:
            live_intervals[(period_start.isoformat(), queue)] = live_figures(
                stats, queue, "interval"
            )

    async with EventLogWriter(bus, db, log_settings) as writer:
        current = at("08:45:00")
        for event in events:
            start = event.ts.replace(minute=event.ts.minute - event.ts.minute % 15, second=0)
            while start > current:
                snapshot(current)
                current += timedelta(minutes=15)
            bus.publish(event)
            for got in drain(live_sub):
                for live in stats.values():
                    live.apply(got)
        snapshot(current)
        live_today = {q: live_figures(stats, q, "today") for q in QUEUES}
        await writer.flush()
    assert writer.counters.written == len(events) and writer.counters.dropped_bus == 0

    reported = await report_figures(
        db, at("00:00:00"), at("23:59:59") + timedelta(seconds=1), "15m"
    )
    live_nonempty = {key: f for key, f in live_intervals.items() if not empty(f)}
    assert len(live_nonempty) >= 5  # cards and loans in 09:00, 09:15; loans in 09:30
    assert sorted(live_nonempty) == sorted(k for k, f in reported.items() if not empty(f))
    mismatches = {
        key: (live_nonempty[key], reported[key])
        for key in live_nonempty
        if not close(live_nonempty[key], reported[key])
    }
    assert not mismatches, mismatches

    daily = await report_figures(db, DAY, DAY + timedelta(days=1), "day")
    for queue in QUEUES:
        assert close(live_today[queue], daily[(DAY.isoformat(), queue)]), (
            queue, live_today[queue], daily[(DAY.isoformat(), queue)],
        )  # fmt: skip
    occupancy = await report_occupancy(db)
    for queue in QUEUES:
        view = stats[FORMULAS[0]].queue_stats(queue)
        assert view is not None and view.today.occupancy is not None
        assert view.today.occupancy == round(occupancy[queue] or 0.0, 4), (  # live rounds to 4
            queue, view.today.occupancy, occupancy[queue],
        )  # fmt: skip


async def test_live_and_reports_agree_to_the_call(db: Database, tmp_path: Path) -> None:
    await agree(db, tmp_path, morning(requeue=False) + logged_out("10:30:00"))


async def test_overflow_into_another_queue_counts_in_both_queues(
    db: Database, tmp_path: Path
) -> None:
    await agree(db, tmp_path, morning(requeue=True) + logged_out("10:30:00"))


async def test_hold_and_a_blind_transfer_back_into_a_queue(db: Database, tmp_path: Path) -> None:
    events = sorted(morning(requeue=True) + hold_and_transfer(), key=lambda e: e.ts)
    events += logged_out("10:30:00")
    await agree(db, tmp_path, events)
    reported = await report_figures(db, at("09:30:00"), at("10:00:00"), "15m")
    cards = reported[(at("09:30:00").isoformat(), "cards")]
    assert (cards["offered"], cards["answered"]) == (1, 1)
    assert cards["aht_s"] == 200.0  # c13: 140 talk + 40 hold + 20 wrap-up
    cards, loans = (reported[(at("09:45:00").isoformat(), q)] for q in QUEUES)
    assert (cards["offered"], cards["answered"], cards["aht_s"]) == (1, 1, 70.0)  # 60 + 10
    assert (loans["offered"], loans["answered"], loans["aht_s"]) == (1, 1, 55.0)  # 50 + 5

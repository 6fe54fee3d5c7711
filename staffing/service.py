"""Forecast and staffing plan for one queue from the stored history (async orchestration).

Shared by ``hotline forecast``, ``hotline staffing plan`` and the staffing API. Settings are
passed in: the time zone and service-level defaults come from ``settings.live``, the hotline
calendar from ``settings.config_dir / "hotlines.yaml"`` (no calendar file: no special days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cti.settings import Settings
from hotline.storage.db import Database
from staffing.forecast import DayKind, Forecast, build_forecast, count_history
from staffing.history import load_arrivals, load_calendar, load_handle_time, special_days
from staffing.plan import PlanRow, Target, staffing_plan


@dataclass(frozen=True, slots=True)
class ForecastRequest:
    queue: str
    start: date
    days: int = 7
    history_weeks: int = 8
    interval_min: int = 30
    backtest_weeks: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.days <= 62:
            raise ValueError("days must be 1..62")
        if not 1 <= self.history_weeks <= 104:
            raise ValueError("history_weeks must be 1..104")
        if self.interval_min not in (15, 30, 60):
            raise ValueError("interval_min must be 15, 30 or 60")
        if not 0 <= self.backtest_weeks < self.history_weeks:
            raise ValueError("backtest_weeks must be below history_weeks")


def calendar_days(settings: Settings, queue: str) -> dict[date, DayKind]:
    path = settings.config_dir / "hotlines.yaml"
    if not path.exists():
        return {}
    return special_days(load_calendar(path), queue)


async def queue_forecast(db: Database, settings: Settings, req: ForecastRequest) -> Forecast:
    zone = ZoneInfo(settings.live.timezone)
    first = req.start - timedelta(weeks=req.history_weeks)
    last = req.start - timedelta(days=1)
    since = datetime.combine(first, time(0), tzinfo=zone)
    until = datetime.combine(req.start, time(0), tzinfo=zone)
    arrivals = await load_arrivals(db, req.queue, since, until)
    history = count_history(arrivals, zone, req.interval_min, first, last)
    special = calendar_days(settings, req.queue)
    return build_forecast(
        req.queue, history, zone, req.start, req.days, special, req.backtest_weeks
    )


async def queue_plan(
    db: Database,
    settings: Settings,
    req: ForecastRequest,
    target: Target,
    aht_s: float | None = None,
) -> tuple[Forecast, float, list[PlanRow]]:
    """The forecast, the handle time used (given, else the history's mean, else 180 s)."""
    forecast = await queue_forecast(db, settings, req)
    if aht_s is None:
        zone = ZoneInfo(settings.live.timezone)
        since = datetime.combine(req.start - timedelta(weeks=req.history_weeks), time(0), zone)
        until = datetime.combine(req.start, time(0), tzinfo=zone)
        aht_s = await load_handle_time(db, req.queue, since, until) or 180.0
    rows = staffing_plan(req.queue, forecast.intervals, req.interval_min, aht_s, target)
    return forecast, aht_s, rows

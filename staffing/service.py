"""Forecast and staffing plan for one queue from its call history (async orchestration over
``staffing.ports``; the pure model is ``staffing.forecast`` and ``staffing.plan``).

Shared by ``hotline forecast``, ``hotline staffing plan`` and the staffing API, which build a
``StaffingPlanner`` over the installation's database and hotline calendar
(``hotline.staffing.service``). Days are local days in ``zone``; the history is the
``history_weeks`` weeks before the first forecast day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from staffing.forecast import Forecast, build_forecast, count_history
from staffing.plan import PlanRow, Target, staffing_plan
from staffing.ports import CallHistory, HolidayCalendar

DEFAULT_AHT_S = 180.0  # when neither the caller nor the history gives a handle time


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

    @property
    def history_start(self) -> date:
        """The first day of the history (it ends the day before ``start``)."""
        return self.start - timedelta(weeks=self.history_weeks)


@dataclass(frozen=True, slots=True)
class StaffingPlanner:
    history: CallHistory
    calendar: HolidayCalendar
    zone: ZoneInfo

    def _history_span(self, req: ForecastRequest) -> tuple[datetime, datetime]:
        """The history's first and the forecast's first local midnight."""
        since = datetime.combine(req.history_start, time(0), tzinfo=self.zone)
        return since, datetime.combine(req.start, time(0), tzinfo=self.zone)

    async def forecast(self, req: ForecastRequest) -> Forecast:
        arrivals = await self.history.arrivals(req.queue, *self._history_span(req))
        last = req.start - timedelta(days=1)
        history = count_history(arrivals, self.zone, req.interval_min, req.history_start, last)
        special = self.calendar.special_days(req.queue)
        return build_forecast(
            req.queue, history, self.zone, req.start, req.days, special, req.backtest_weeks
        )

    async def plan(
        self, req: ForecastRequest, target: Target, aht_s: float | None = None
    ) -> tuple[Forecast, float, list[PlanRow]]:
        """The forecast, the handle time used (given, else the history's mean, else 180 s)."""
        forecast = await self.forecast(req)
        if aht_s is None:
            mean = await self.history.mean_handle_time(req.queue, *self._history_span(req))
            aht_s = mean or DEFAULT_AHT_S
        rows = staffing_plan(req.queue, forecast.intervals, req.interval_min, aht_s, target)
        return forecast, aht_s, rows

"""``StaffingPlanner`` over fakes of its ports: which history it reads, the calendar's days in
the forecast, and where the plan's handle time comes from."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from staffing.forecast import DayKind
from staffing.plan import Target
from staffing.service import DEFAULT_AHT_S, ForecastRequest, StaffingPlanner
from tests.fakes.staffing import FakeCallHistory, FakeHolidayCalendar, StoredCall

ZONE = ZoneInfo("Asia/Shanghai")
START = date(2025, 9, 29)  # a Monday
REQ = ForecastRequest("cards", START, days=1, history_weeks=4, interval_min=60)


def four_weeks(handle_s: float | None) -> list[StoredCall]:
    """Two calls a day at 09:00 and 09:30 local for the 28 days before START, one elsewhere."""
    calls = [StoredCall("loans", datetime(2025, 9, 10, 9, tzinfo=ZONE), 999.0)]
    for n in range(28):
        day = START - timedelta(days=28 - n)
        for minute in (0, 30):
            at = datetime(day.year, day.month, day.day, 9, minute, tzinfo=ZONE)
            calls.append(StoredCall("cards", at, handle_s))
    return calls


async def test_forecast_reads_the_history_weeks_in_local_time() -> None:
    history = FakeCallHistory(four_weeks(None))
    planner = StaffingPlanner(history, FakeHolidayCalendar(), ZONE)
    forecast = await planner.forecast(REQ)
    since = datetime(2025, 9, 1, tzinfo=ZONE)  # four weeks before, at local midnight
    assert history.asked == [("cards", since, datetime(2025, 9, 29, tzinfo=ZONE))]
    by_hour = [round(i.calls, 6) for i in forecast.intervals]
    assert by_hour[9] == 2.0 and sum(by_hour) == pytest.approx(2.0)
    assert forecast.history_days == 28


async def test_the_calendar_marks_the_forecast_day() -> None:
    calendar = FakeHolidayCalendar({START: DayKind.HOLIDAY})
    planner = StaffingPlanner(FakeCallHistory(four_weeks(None)), calendar, ZONE)
    forecast = await planner.forecast(REQ)
    assert {i.day_kind for i in forecast.intervals} == {"holiday"}


@pytest.mark.parametrize(
    ("handle_s", "given", "used"),
    [(240.0, None, 240.0), (None, None, DEFAULT_AHT_S), (240.0, 100.0, 100.0)],
)
async def test_plan_handle_time_given_else_history_else_default(
    handle_s: float | None, given: float | None, used: float
) -> None:
    planner = StaffingPlanner(FakeCallHistory(four_weeks(handle_s)), FakeHolidayCalendar(), ZONE)
    _, aht_s, rows = await planner.plan(REQ, Target(20, 0.8), given)
    assert aht_s == used
    assert rows[9].aht_s == used and rows[9].agents >= 1

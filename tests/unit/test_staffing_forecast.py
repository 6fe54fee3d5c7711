"""Forecast (profile, trend, holidays, backtest) and the staffing plan built on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.staffing.calendar import load_calendar, special_days
from staffing.forecast import DayKind, History, build_forecast, count_history, fit
from staffing.plan import Target, agents_needed_now, plan_csv, staffing_plan

ZONE = ZoneInfo("Asia/Shanghai")
FIRST = date(2025, 9, 1)  # a Monday


def synthetic(days: int, slope: float = 0.0, holidays: dict[date, float] | None = None) -> History:
    """30-min slots; 08:00–20:00 open; weekends at half volume; a daily trend of ``slope``."""
    rows = {}
    for n in range(days):
        day = FIRST + timedelta(n)
        level = (100.0 + slope * n) * (0.5 if day.weekday() >= 5 else 1.0)
        level *= (holidays or {}).get(day, 1.0)
        rows[day] = [level / 24 if 16 <= i < 40 else 0.0 for i in range(48)]
    return History(30, rows)


def test_count_history_buckets_in_local_time() -> None:
    moments = [datetime(2025, 9, 1, 0, 10, tzinfo=UTC), datetime(2025, 9, 1, 16, 5, tzinfo=UTC)]
    history = count_history(moments, ZONE, 30, FIRST, FIRST + timedelta(1))
    assert history.days[FIRST][16] == 1  # 08:10 in Shanghai
    assert history.days[FIRST + timedelta(1)][0] == 1  # 00:05 the next day


def test_profile_and_trend_are_recovered() -> None:
    # The weekday factors are ratios of means, so a trend leaks slightly into them (Sunday
    # sits later in the week than Monday): recovered within a few per cent, not exactly.
    # The slope is that of the average day's total: weekends at half volume make the average
    # day 6/7 of a weekday, so +1 call/day on weekdays is +6/7 on the average day.
    model = fit(synthetic(56, slope=1.0), {})
    assert model.slope == pytest.approx(6 / 7, rel=0.03)
    day = FIRST + timedelta(60)  # a Wednesday
    forecast = model.day(day)
    assert sum(forecast) == pytest.approx(160.0, rel=0.02)
    assert forecast[16] == pytest.approx(sum(forecast) / 24) and forecast[0] == 0
    saturday = FIRST + timedelta(61 + (5 - (FIRST + timedelta(61)).weekday()) % 7)
    assert sum(model.day(saturday)) == pytest.approx(0.5 * (100 + (saturday - FIRST).days), 0.02)


def test_holidays_are_left_out_of_the_profile_and_forecast_by_their_factor() -> None:
    holiday = FIRST + timedelta(16)
    special = {holiday: DayKind.HOLIDAY, FIRST + timedelta(70): DayKind.HOLIDAY}
    history = synthetic(56, holidays={holiday: 0.3})
    model = fit(history, special)
    assert model.holiday_factor == pytest.approx(0.3, rel=1e-6)
    assert model.slope == pytest.approx(0.0, abs=1e-9)  # the holiday did not bend the trend
    forecast = build_forecast("cards", history, ZONE, FIRST + timedelta(70), 1, special)
    assert sum(i.calls for i in forecast.intervals) == pytest.approx(30.0, rel=1e-6)
    assert {i.day_kind for i in forecast.intervals} == {"holiday"}
    assert forecast.intervals[16].start == datetime(2025, 11, 10, 8, 0, tzinfo=ZONE)


def test_backtest_of_a_noise_free_history_is_exact() -> None:
    forecast = build_forecast("q", synthetic(56), ZONE, FIRST + timedelta(56), 7, {})
    assert forecast.backtest is not None
    assert forecast.backtest.weeks == 2 and forecast.backtest.intervals == 14 * 48
    assert forecast.backtest.wape == pytest.approx(0.0, abs=1e-9)
    assert forecast.backtest.mape == pytest.approx(0.0, abs=1e-9)
    assert len(forecast.intervals) == 7 * 48
    trending = build_forecast("q", synthetic(56, 0.5), ZONE, FIRST + timedelta(56), 7, {})
    assert trending.backtest is not None and (trending.backtest.wape or 1) < 0.02


def test_short_history_has_no_trend_and_says_so() -> None:
    forecast = build_forecast("q", synthetic(10, slope=5.0), ZONE, FIRST + timedelta(10), 1, {})
    assert forecast.model.slope == 0.0
    assert forecast.backtest is None
    assert "no trend" in forecast.notes[0]


def test_special_days_come_from_the_hotline_calendar() -> None:
    hotlines = load_calendar(Path("config/hotlines.yaml"))
    days = special_days(hotlines, "basic-banking")  # a 24x7 line: every calendar applies
    assert days[date(2025, 10, 1)] is DayKind.HOLIDAY
    assert days[date(2025, 10, 11)] is DayKind.MAKEUP


def test_plan_matches_the_erlang_c_vector_with_shrinkage() -> None:
    forecast = build_forecast("q", synthetic(28), ZONE, FIRST + timedelta(28), 1, {})
    # 100 calls in a 30-min interval at AHT 180 s: 10 Erlang → 14 agents, 20 positions at 30 %.
    interval = forecast.intervals[16]
    scaled = type(interval)(interval.start, 100.0, interval.day_kind)
    rows = staffing_plan("q", [scaled], 30, 180.0, Target(20, 0.8, shrinkage=0.3))
    assert (rows[0].traffic, rows[0].agents, rows[0].positions) == (10.0, 14, 20)
    assert rows[0].service_level == pytest.approx(0.88835, abs=5e-6)
    text = plan_csv(rows)
    assert text.splitlines()[0].startswith("queue,start,day,calls,aht_s,traffic,agents")
    closed = staffing_plan("q", forecast.intervals[:1], 30, 180.0, Target())
    assert closed[0].agents == 0 and closed[0].positions == 0


def test_erlang_a_plan_needs_fewer_agents_than_erlang_c() -> None:
    c = agents_needed_now(200 / 1800, 180.0, 12, Target(20, 0.8))
    a = agents_needed_now(200 / 1800, 180.0, 12, Target(20, 0.8, patience_s=60))
    assert c.traffic == pytest.approx(20.0) and c.needed > 20
    assert a.model == "erlang_a" and a.needed <= c.needed
    assert c.shortfall == c.needed - 12
    assert c.expected_calls == pytest.approx(200.0)
    with pytest.raises(ValueError):
        agents_needed_now(-1, 180, 1, Target())

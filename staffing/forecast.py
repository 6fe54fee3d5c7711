"""Offered calls per interval: weekday × interval profile with a linear trend (pure).

Model, fitted on *ordinary* days (history days that are neither holidays nor make-up working
days of the hotline calendar):
- weekday factor f_w = mean daily total of weekday w ÷ mean daily total of all ordinary days;
- intraday shape s_w(i) = calls of weekday w in interval i ÷ calls of weekday w (pooled over
  the weeks, so a quiet week weighs less than a busy one);
- level L(d) = a + b·d, ordinary least squares over the deseasonalised totals total_d / f_w
  (d = day ordinal); with fewer than 14 ordinary days the trend is flat (b = 0): two weeks are
  too few to tell a trend from noise;
- forecast F(d, i) = max(0, L(d)) · f_w · s_w(i).
Special days:
- a holiday (a calendar entry without hours: closed all day) is forecast as F · h · s_H(i),
  with h = Σ actual ÷ Σ ordinary-day forecast over the holidays in the history and s_H their
  pooled shape; without a holiday in the history, h = 1 and the weekday's shape (said in
  ``holiday_basis``);
- a make-up working day (an entry with hours) is forecast as an average Monday–Friday.
Backtest: the last K weeks of the history are held out, the model is fitted on the rest and
scored per interval: WAPE = Σ|F − A| ÷ ΣA, MAPE = mean |F − A| ÷ A over intervals with A > 0
(intervals with no calls are left out of MAPE: it is undefined there), and daily WAPE.
Intervals are in local time (``zone``); a day has 1440 ÷ interval_min of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MIN_TREND_DAYS = 14
WORKDAYS = range(5)  # Monday..Friday


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # closed all day in the calendar
    MAKEUP = "makeup"  # a working day in the calendar (e.g. a Saturday worked)


@dataclass(frozen=True, slots=True)
class History:
    """Calls per local day and interval, every day from ``first`` to ``last`` included."""

    interval_min: int
    days: dict[date, list[float]]

    @property
    def slots(self) -> int:
        return 1440 // self.interval_min


@dataclass(frozen=True, slots=True)
class Model:
    interval_min: int
    intercept: float
    slope: float  # calls per day per day (the trend of the deseasonalised daily total)
    weekday_factor: tuple[float, ...]  # 7 values, Monday first
    shape: tuple[tuple[float, ...], ...]  # 7 × slots, each summing to 1 (or all 0)
    holiday_factor: float
    holiday_shape: tuple[float, ...] | None  # None: the weekday's shape
    holiday_basis: str

    def day(self, day: date, kind: DayKind | None = None) -> list[float]:
        level = max(0.0, self.intercept + self.slope * day.toordinal())
        if kind is DayKind.MAKEUP:
            factor = sum(self.weekday_factor[w] for w in WORKDAYS) / len(WORKDAYS)
            shape = [
                sum(self.shape[w][i] for w in WORKDAYS) / len(WORKDAYS)
                for i in range(len(self.shape[0]))
            ]
            return [level * factor * s for s in shape]
        weekday = day.weekday()
        total = level * self.weekday_factor[weekday]
        if kind is DayKind.HOLIDAY:
            shape = list(self.holiday_shape or self.shape[weekday])
            return [total * self.holiday_factor * s for s in shape]
        return [total * s for s in self.shape[weekday]]


@dataclass(frozen=True, slots=True)
class ForecastInterval:
    start: datetime  # local, aware
    calls: float
    day_kind: str  # "ordinary", "holiday" or "makeup"


@dataclass(frozen=True, slots=True)
class Backtest:
    weeks: int
    wape: float | None
    mape: float | None
    daily_wape: float | None
    intervals: int


@dataclass(frozen=True, slots=True)
class Forecast:
    queue: str
    interval_min: int
    timezone: str
    intervals: list[ForecastInterval]
    model: Model
    backtest: Backtest | None
    history_days: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        m = self.model
        return {
            "queue": self.queue,
            "interval_min": self.interval_min,
            "timezone": self.timezone,
            "history_days": self.history_days,
            "model": {
                "trend_calls_per_day": m.slope,
                "weekday_factor": list(m.weekday_factor),
                "holiday_factor": m.holiday_factor,
                "holiday_basis": m.holiday_basis,
            },
            "backtest": None
            if self.backtest is None
            else {
                "weeks": self.backtest.weeks,
                "wape": self.backtest.wape,
                "mape": self.backtest.mape,
                "daily_wape": self.backtest.daily_wape,
                "intervals": self.backtest.intervals,
            },
            "notes": self.notes,
            "intervals": [
                {"start": i.start.isoformat(), "calls": round(i.calls, 3), "day": i.day_kind}
                for i in self.intervals
            ],
        }


def count_history(
    arrivals: Iterable[datetime], zone: ZoneInfo, interval_min: int, first: date, last: date
) -> History:
    """Bucket aware arrival times into local days × intervals over ``[first, last]``."""
    if 1440 % interval_min:
        raise ValueError("interval_min must divide a day")
    slots = 1440 // interval_min
    days = {first + timedelta(n): [0.0] * slots for n in range((last - first).days + 1)}
    for moment in arrivals:
        local = moment.astimezone(zone)
        row = days.get(local.date())
        if row is not None:
            row[(local.hour * 60 + local.minute) // interval_min] += 1
    return History(interval_min, days)


def fit(history: History, special: Mapping[date, DayKind]) -> Model:
    ordinary = {d: row for d, row in history.days.items() if d not in special}
    if not ordinary:
        raise ValueError("no ordinary day in the history: nothing to forecast from")
    totals = {d: sum(row) for d, row in ordinary.items()}
    overall = sum(totals.values()) / len(totals)
    factors, shapes = [], []
    for weekday in range(7):
        rows = [row for d, row in ordinary.items() if d.weekday() == weekday]
        day_totals = [sum(row) for row in rows]
        mean = sum(day_totals) / len(day_totals) if rows else overall
        factors.append(mean / overall if overall > 0 else 1.0)
        shapes.append(_shape([sum(col) for col in zip(*rows, strict=True)] if rows else []))
    # Weekdays never seen take the pooled shape of all ordinary days.
    pooled = _shape([sum(col) for col in zip(*ordinary.values(), strict=True)])
    shapes = [s if sum(s) > 0 else pooled for s in shapes]
    intercept, slope = _trend(
        [
            (d.toordinal(), t / factors[d.weekday()] if factors[d.weekday()] else 0.0)
            for d, t in totals.items()
        ]
    )
    model = Model(
        history.interval_min,
        intercept,
        slope,
        tuple(factors),
        tuple(tuple(s) for s in shapes),
        1.0,
        None,
        "no holiday in the history: the weekday's profile",
    )
    holidays = [d for d, kind in special.items() if kind is DayKind.HOLIDAY and d in history.days]
    if not holidays:
        return model
    expected = sum(sum(model.day(d)) for d in holidays)
    actual_rows = [history.days[d] for d in holidays]
    actual = sum(sum(row) for row in actual_rows)
    shape = _shape([sum(col) for col in zip(*actual_rows, strict=True)])
    return Model(
        model.interval_min,
        intercept,
        slope,
        model.weekday_factor,
        model.shape,
        actual / expected if expected > 0 else 1.0,
        tuple(shape) if sum(shape) > 0 else None,
        f"{len(holidays)} holiday(s) in the history",
    )


def predict(
    model: Model, start: date, days: int, zone: ZoneInfo, special: Mapping[date, DayKind]
) -> list[ForecastInterval]:
    out: list[ForecastInterval] = []
    for n in range(days):
        day = start + timedelta(n)
        kind = special.get(day)
        for index, calls in enumerate(model.day(day, kind)):
            minutes = index * model.interval_min
            moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
            out.append(ForecastInterval(moment, calls, kind.value if kind else "ordinary"))
    return out


def backtest(history: History, special: Mapping[date, DayKind], weeks: int) -> Backtest | None:
    """Hold out the last ``weeks`` weeks, fit on the rest, score the held-out intervals."""
    ordered = sorted(history.days)
    held = ordered[-7 * weeks :] if weeks > 0 else []
    train = ordered[: len(ordered) - len(held)]
    if not held or len([d for d in train if d not in special]) < 7:
        return None
    model = fit(History(history.interval_min, {d: history.days[d] for d in train}), special)
    abs_error = actual_total = 0.0
    ape: list[float] = []
    day_abs = 0.0
    for day in held:
        forecast, actual = model.day(day, special.get(day)), history.days[day]
        for f, a in zip(forecast, actual, strict=True):
            abs_error += abs(f - a)
            actual_total += a
            if a > 0:
                ape.append(abs(f - a) / a)
        day_abs += abs(sum(forecast) - sum(actual))
    return Backtest(
        weeks=weeks,
        wape=abs_error / actual_total if actual_total else None,
        mape=sum(ape) / len(ape) if ape else None,
        daily_wape=day_abs / actual_total if actual_total else None,
        intervals=len(held) * history.slots,
    )


def build_forecast(
    queue: str,
    history: History,
    zone: ZoneInfo,
    start: date,
    days: int,
    special: Mapping[date, DayKind],
    backtest_weeks: int = 2,
) -> Forecast:
    model = fit(history, special)
    notes = []
    ordinary_days = sum(1 for d in history.days if d not in special)
    if ordinary_days < MIN_TREND_DAYS:
        notes.append(f"{ordinary_days} ordinary days of history: no trend fitted")
    return Forecast(
        queue=queue,
        interval_min=history.interval_min,
        timezone=zone.key,
        intervals=predict(model, start, days, zone, special),
        model=model,
        backtest=backtest(history, special, backtest_weeks),
        history_days=len(history.days),
        notes=notes,
    )


def _shape(sums: Sequence[float]) -> list[float]:
    total = sum(sums)
    return [s / total for s in sums] if total > 0 else [0.0] * len(sums)


def _trend(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """Least squares y = a + b·x; flat (b = 0, a = mean) below ``MIN_TREND_DAYS`` points."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    if n < MIN_TREND_DAYS:
        return mean_y, 0.0
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx if sxx else 0.0
    return mean_y - slope * mean_x, slope

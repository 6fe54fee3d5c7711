"""Clocks for tests. A scripted day for live statistics: ``DAY`` at midnight UTC, times given
as "HH:MM:SS", and a monotonic clock that reads seconds since that midnight, so durations read
easily. ``Ticking``: a bare monotonic clock (``() -> float``) the test moves by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from hotline.live.stats import LiveClock

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hms: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in hms.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def since_midnight(ts: datetime) -> float:
    return (ts - DAY).total_seconds()


class Stamp(TypedDict):
    """An event's times (``ts``, ``mono``): ``CallQueued(..., **when("09:00:10"))``."""

    ts: datetime
    mono: float


def when(hms: str) -> Stamp:
    ts = at(hms)
    return Stamp(ts=ts, mono=since_midnight(ts))


def stamped(ts: datetime) -> Stamp:
    return Stamp(ts=ts, mono=since_midnight(ts))


@dataclass
class FakeClock:
    """``hotline.live.stats.LiveClock`` at ``now`` ("HH:MM:SS") of ``DAY``, or of ``days``
    later (the monotonic clock still counts from ``DAY``'s midnight)."""

    now: str = "09:00:00"
    days: int = 0

    def wall(self) -> datetime:
        return at(self.now) + timedelta(days=self.days)

    def mono(self) -> float:
        return since_midnight(self.wall())


@dataclass
class Ticking:
    """A monotonic clock the test moves by hand: ``clock.t += 30``."""

    t: float = 1000.0

    def __call__(self) -> float:
        return self.t


_: type[LiveClock] = FakeClock  # checked by mypy: the fake has every method of the port

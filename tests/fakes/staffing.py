"""Fakes of staffing's ports (``staffing.ports``): a call history in memory and a fixed
holiday calendar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from staffing.forecast import DayKind
from staffing.ports import CallHistory, HolidayCalendar


@dataclass(frozen=True, slots=True)
class StoredCall:
    queue: str
    enqueued_at: datetime
    handle_s: float | None = None  # None: not answered


@dataclass
class FakeCallHistory:
    calls: list[StoredCall] = field(default_factory=list)
    asked: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    def _between(self, queue: str, since: datetime, until: datetime) -> list[StoredCall]:
        self.asked.append((queue, since, until))
        return [c for c in self.calls if c.queue == queue and since <= c.enqueued_at < until]

    async def arrivals(self, queue: str, since: datetime, until: datetime) -> list[datetime]:
        return [c.enqueued_at for c in self._between(queue, since, until)]

    async def mean_handle_time(self, queue: str, since: datetime, until: datetime) -> float | None:
        handled = [c.handle_s for c in self._between(queue, since, until) if c.handle_s is not None]
        return sum(handled) / len(handled) if handled else None


@dataclass
class FakeHolidayCalendar:
    days: dict[date, DayKind] = field(default_factory=dict)

    def special_days(self, queue: str) -> Mapping[date, DayKind]:
        return self.days


# Checked by mypy: each fake has every method of its port.
_: tuple[type[CallHistory], type[HolidayCalendar]] = (FakeCallHistory, FakeHolidayCalendar)

"""What staffing needs from outside the domain, as ports (implemented in ``hotline/``).

- ``CallHistory``: the stored calls a forecast is fitted on, one leg per visit of a call to a
  queue (a call that overflows or is transferred into a queue is demand there too, as live
  statistics and reports count it). SQL: ``hotline.storage.staffing_history``.
- ``HolidayCalendar``: the days whose demand is not that of an ordinary weekday (holidays,
  make-up working days) for a queue. From the hotline configuration:
  ``hotline.staffing.calendar``.

Instants are timezone-aware; ``since`` is included and ``until`` excluded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol

from staffing.forecast import DayKind


class CallHistory(Protocol):
    async def arrivals(self, queue: str, since: datetime, until: datetime) -> list[datetime]:
        """When each call offered to ``queue`` in ``[since, until)`` entered it.

        A consulted agent's part of an attended transfer is no arrival."""
        ...

    async def mean_handle_time(self, queue: str, since: datetime, until: datetime) -> float | None:
        """Mean handle time (talk + hold + wrap-up) of the calls answered in ``queue`` that
        entered it in ``[since, until)``, seconds; None when none was answered."""
        ...


class HolidayCalendar(Protocol):
    def special_days(self, queue: str) -> Mapping[date, DayKind]:
        """The queue's holidays and make-up days; raises ``ValueError`` when the calendar
        cannot be read (the message says why)."""
        ...

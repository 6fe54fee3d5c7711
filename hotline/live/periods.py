"""Counting periods: the current interval (15 minutes by default) and today, in the centre's
time zone. Boundaries are wall-clock (that is what a report shows); durations inside a period
are measured on the monotonic clock by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from staffing.kpi import SlCounts


def interval_bounds(ts: datetime, zone: ZoneInfo, minutes: int) -> tuple[datetime, datetime]:
    local = ts.astimezone(zone)
    start = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    return start, start + timedelta(minutes=minutes)


def day_bounds(ts: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    local = ts.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Aware datetime arithmetic is wall-clock: this is the next local midnight, even on a
    # 23- or 25-hour DST day.
    return start, start + timedelta(days=1)


@dataclass
class Counters:
    """What one queue did in one period. Every count is attributed to the period in which the
    event happened (a call queued at 10:14 and answered at 10:16 is offered in the 10:00
    interval and answered in the 10:15 one), as live wallboards do."""

    start: datetime
    queued: int = 0
    answered: int = 0
    answered_within_t: int = 0
    abandoned: int = 0  # at or above the short-abandon threshold
    abandoned_within_t: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    overflowed_within_t: int = 0
    answered_wait_s: float = 0.0
    completed: int = 0  # talks ended: completed, or blind-transferred by the agent
    talk_s: float = 0.0  # without hold (the ACD's talk_s excludes it)
    hold_s: float = 0.0  # summed from call.unheld
    wrap_s: float = 0.0
    busy_s: float = 0.0  # agents on a call or in wrap-up
    staffed_s: float = 0.0  # agents logged in and not paused

    def sl_counts(self) -> SlCounts:
        return SlCounts(
            queued=max(self.queued - self.short_abandoned, 0),
            answered=self.answered,
            answered_within_t=self.answered_within_t,
            abandoned=self.abandoned,
            abandoned_within_t=self.abandoned_within_t,
            overflowed_within_t=self.overflowed_within_t,
        )

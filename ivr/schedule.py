"""Business hours: weekly opening times, holiday calendars and make-up working days.

All tests run in the schedule's own timezone; ``now`` must be timezone-aware, so that a server
in UTC and a caller in Shanghai agree on whether the line is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ivr.model import WEEKDAYS, Holiday, HotlinesFile, Schedule, parse_time_range

DEFAULT_TIMEZONE = "Asia/Shanghai"


def require_aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    return now


def local_time(now: datetime, timezone: str) -> datetime:
    return require_aware(now).astimezone(ZoneInfo(timezone))


def within(minute: int, ranges: Iterable[str]) -> bool:
    for text in ranges:
        start, end = parse_time_range(text)
        if start <= minute < end:
            return True
    return False


def holiday_on(hotlines: HotlinesFile, schedule: Schedule, day: date) -> Holiday | None:
    for calendar in schedule.holidays:
        for holiday in hotlines.calendars.get(calendar, ()):
            if holiday.date == day:
                return holiday
    return None


def is_open(hotlines: HotlinesFile, schedule_id: str | None, now: datetime) -> bool:
    """No schedule means open around the clock."""
    if schedule_id is None:
        return True
    schedule = hotlines.schedules[schedule_id]
    if schedule.always_open:
        return True
    local = local_time(now, schedule.timezone)
    minute = local.hour * 60 + local.minute
    holiday = holiday_on(hotlines, schedule, local.date())
    if holiday is not None:
        return within(minute, holiday.hours)
    return within(minute, schedule.weekly.get(WEEKDAYS[local.weekday()], ()))


def schedule_timezone(hotlines: HotlinesFile, schedule_id: str | None) -> str:
    if schedule_id is None or schedule_id not in hotlines.schedules:
        return DEFAULT_TIMEZONE
    return hotlines.schedules[schedule_id].timezone

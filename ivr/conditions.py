"""``condition`` nodes: tests on time, calendar, VIP status, language and variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ivr.model import WEEKDAYS, Condition, HotlinesFile, parse_time_range
from ivr.schedule import holiday_on, is_open, local_time, schedule_timezone


@dataclass(frozen=True)
class ConditionContext:
    hotlines: HotlinesFile
    schedule: str | None
    now: datetime
    vip: bool
    language: str
    variables: Mapping[str, str]


def condition_holds(condition: Condition, context: ConditionContext) -> bool:
    """True when every test given in the condition holds (an empty test list cannot exist)."""
    local = local_time(context.now, schedule_timezone(context.hotlines, context.schedule))
    checks: list[bool] = []
    if condition.open is not None:
        checks.append(is_open(context.hotlines, context.schedule, context.now) == condition.open)
    if condition.holiday is not None:
        schedule = context.hotlines.schedules.get(context.schedule or "")
        on_holiday = schedule is not None and holiday_on(context.hotlines, schedule, local.date())
        checks.append(bool(on_holiday) == condition.holiday)
    if condition.vip is not None:
        checks.append(context.vip == condition.vip)
    if condition.between is not None:
        start, end = parse_time_range(condition.between)
        checks.append(start <= local.hour * 60 + local.minute < end)
    if condition.weekdays is not None:
        checks.append(WEEKDAYS[local.weekday()] in condition.weekdays)
    if condition.language is not None:
        checks.append(context.language == condition.language)
    if condition.variable is not None:
        value = context.variables.get(condition.variable)
        if condition.equals is not None:
            checks.append(value == condition.equals)
        elif condition.one_of is not None:
            checks.append(value in condition.one_of)
        else:  # the variable alone: set and not empty
            checks.append(bool(value))
    return all(checks)

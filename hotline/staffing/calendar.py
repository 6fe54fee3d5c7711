"""Holidays for the forecast from the hotline calendar (``config/hotlines.yaml``, validated by
the IVR's own model): ``staffing.ports.HolidayCalendar``.

A queue's special days are the calendar entries of the schedules of the hotlines whose
``default_queue`` it is. When those schedules name no calendar (a 24×7 line) or no hotline
names the queue (reached by transfer or overflow), every calendar of the file applies: a public
holiday changes demand even on a line that stays open.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ivr.loader import YamlProblems, load_yaml_file, validate_document
from ivr.model import HotlinesFile
from staffing.forecast import DayKind


class HotlineCalendar:
    """Read at each call, so an edited ``hotlines.yaml`` counts at once; no file: no special
    days."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def special_days(self, queue: str) -> dict[date, DayKind]:
        if not self.path.exists():
            return {}
        return special_days(load_calendar(self.path), queue)


def load_calendar(path: Path) -> HotlinesFile:
    """``hotlines.yaml`` validated by the IVR's own model; ``ValueError`` lists the problems."""
    try:
        return validate_document(load_yaml_file(path), HotlinesFile)
    except YamlProblems as exc:
        raise ValueError(str(exc)) from exc


def special_days(hotlines: HotlinesFile, queue: str) -> dict[date, DayKind]:
    schedules = [h.schedule for h in hotlines.hotlines if h.default_queue == queue and h.schedule]
    calendars = {cal for s in schedules if s in hotlines.schedules
                 for cal in hotlines.schedules[s].holidays}  # fmt: skip
    if not calendars:  # open on holidays, or no hotline of its own: demand still shifts
        calendars = set(hotlines.calendars)
    days: dict[date, DayKind] = {}
    for calendar in sorted(calendars):
        for holiday in hotlines.calendars.get(calendar, []):
            days[holiday.date] = DayKind.MAKEUP if holiday.hours else DayKind.HOLIDAY
    return days

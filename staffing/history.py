"""Thin loaders for the forecast: arrivals and handle times from the call legs (one per visit
of a call to a queue: a call that overflows or is transferred into a queue is demand there
too, as live statistics and reports count it), holidays from the hotline calendar
(``config/hotlines.yaml``). The pure model is ``staffing.forecast``.

A queue's special days are the calendar entries of the schedules of the hotlines whose
``default_queue`` it is. When those schedules name no calendar (a 24×7 line) or no hotline
names the queue (reached by transfer or overflow), every calendar of the file applies: a public
holiday changes demand even on a line that stays open.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select

from hotline.storage.call_records import Outcome
from hotline.storage.db import Database
from hotline.storage.models import CallLeg
from ivr.loader import YamlProblems, load_yaml_file, validate_document
from ivr.model import HotlinesFile
from staffing.forecast import DayKind


async def load_arrivals(
    db: Database, queue: str, since: datetime, until: datetime
) -> list[datetime]:
    """``enqueued_at`` of every call offered to ``queue`` in ``[since, until)`` (UTC-aware)."""
    query = select(CallLeg.enqueued_at).where(
        CallLeg.queue == queue,
        CallLeg.enqueued_at >= since,
        CallLeg.enqueued_at < until,
        CallLeg.outcome != Outcome.TAKEN_OVER.value,  # a consulted agent's part: no arrival
    )
    async with db.session() as session:
        rows = (await session.execute(query)).scalars().all()
    return [moment for moment in rows if moment is not None]


async def load_handle_time(
    db: Database, queue: str, since: datetime, until: datetime
) -> float | None:
    """Mean handle time (talk + hold + wrap-up: talk leaves hold out) of the queue's answered
    calls, or None."""
    handle = (
        func.coalesce(CallLeg.talk_s, 0.0)
        + func.coalesce(CallLeg.hold_s, 0.0)
        + func.coalesce(CallLeg.wrap_up_s, 0.0)
    )
    query = select(func.avg(handle)).where(
        CallLeg.queue == queue,
        CallLeg.answered_at.is_not(None),
        CallLeg.enqueued_at >= since,
        CallLeg.enqueued_at < until,
        CallLeg.outcome != Outcome.TAKEN_OVER.value,
    )
    async with db.session() as session:
        value = (await session.execute(query)).scalar_one_or_none()
    return float(value) if value is not None else None


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

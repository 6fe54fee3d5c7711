"""The staffing planner of this installation: the call history in its database, the holidays
of ``config_dir / "hotlines.yaml"``, days in ``live.timezone``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from cti.settings import Settings
from hotline.staffing.calendar import HotlineCalendar
from hotline.storage.db import Database
from hotline.storage.staffing_history import SqlCallHistory
from staffing.service import StaffingPlanner


def staffing_planner(db: Database, settings: Settings) -> StaffingPlanner:
    return StaffingPlanner(
        history=SqlCallHistory(db),
        calendar=HotlineCalendar(settings.config_dir / "hotlines.yaml"),
        zone=ZoneInfo(settings.live.timezone),
    )

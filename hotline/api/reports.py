"""``GET /api/v1/reports/queues`` and ``/agents``: JSON (default) or CSV (``format=csv``).

Supervisors and admins only. Query: ``from``, ``to`` (ISO 8601; without an offset they are
local time in ``live.timezone``), ``interval`` (15m|30m|60m|day|week|month), ``formula``,
``threshold_s``, ``only`` (repeatable queue or agent id). Defaults (formula, threshold, short
abandons, time zone) are the live settings'; the figures come from the ``Reports`` port (503
while it is not wired).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Response

from cti.settings import LiveSettings
from hotline.api.deps import LiveConfig, Services, require_roles, wired
from hotline.reports.build import ReportRequest, request_from_settings
from hotline.reports.csv_out import to_csv

router = APIRouter(
    prefix="/api/v1/reports",
    tags=["reports"],
    dependencies=[require_roles("supervisor", "admin")],
)

Format = Literal["json", "csv"]


def _when(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _request(
    live: LiveSettings,
    start: datetime,
    end: datetime,
    interval: str,
    formula: str | None,
    threshold_s: float | None,
    only: list[str] | None,
) -> ReportRequest:
    zone = ZoneInfo(live.timezone)
    try:
        return request_from_settings(
            live, _when(start, zone), _when(end, zone), interval, formula, threshold_s, only or ()
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def _respond(report: dict[str, Any], fmt: Format, name: str) -> Any:
    if fmt == "csv":
        return Response(
            to_csv(report["rows"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return report


From = Annotated[datetime, Query(alias="from")]
To = Annotated[datetime, Query(alias="to")]
Interval = Annotated[str, Query(pattern=r"^(15m|30m|60m|1h|day|week|month)$")]
Only = Annotated[list[str] | None, Query()]


@router.get("/queues")
async def queues_report(
    services: Services,
    live: LiveConfig,
    start: From,
    end: To,
    interval: Interval = "15m",
    formula: str | None = None,
    threshold_s: Annotated[float | None, Query(gt=0)] = None,
    only: Only = None,
    format: Format = "json",
) -> Any:
    req = _request(live, start, end, interval, formula, threshold_s, only)
    reports = wired(services.reports, "reporting")  # after the request: bad input is a 422
    return _respond(await reports.queue_report(req), format, "queues")


@router.get("/agents")
async def agents_report(
    services: Services,
    live: LiveConfig,
    start: From,
    end: To,
    interval: Interval = "15m",
    formula: str | None = None,
    threshold_s: Annotated[float | None, Query(gt=0)] = None,
    only: Only = None,
    format: Format = "json",
) -> Any:
    req = _request(live, start, end, interval, formula, threshold_s, only)
    reports = wired(services.reports, "reporting")
    return _respond(await reports.agent_report(req), format, "agents")

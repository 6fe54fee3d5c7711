"""Staffing API: ``GET /api/v1/staffing/forecast``, ``/plan`` (JSON or CSV) and ``/needed-now``.

Supervisors and admins only. Forecast and plan use ``ApiServices.staffing`` (503 while it is not
wired); dates are local days in the planner's zone (``live.timezone``), service-level defaults
are the live settings'. ``needed-now`` needs nothing but the settings.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response

from hotline.api.deps import LiveConfig, Services, require_roles, wired
from staffing.plan import Target, agents_needed_now, plan_csv
from staffing.service import ForecastRequest

QueueId = Annotated[str, Query(min_length=1, max_length=64)]
HistoryWeeks = Annotated[int, Query(ge=1, le=104)]
IntervalMin = Annotated[int, Query(ge=15, le=60, description="15, 30 or 60")]


def _request(queue: str, start: date, days: int, weeks: int, interval: int) -> ForecastRequest:
    try:
        return ForecastRequest(queue, start, days, weeks, interval, min(2, weeks - 1))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


router = APIRouter(
    prefix="/api/v1/staffing",
    tags=["staffing"],
    dependencies=[require_roles("supervisor", "admin")],
)
PLANNER = "the staffing planner"


@router.get("/forecast")
async def forecast(
    services: Services,
    queue: QueueId,
    start: date,
    days: Annotated[int, Query(ge=1, le=62)] = 7,
    history_weeks: HistoryWeeks = 8,
    interval_min: IntervalMin = 30,
) -> dict[str, Any]:
    req = _request(queue, start, days, history_weeks, interval_min)
    planner = wired(services.staffing, PLANNER)
    try:
        return (await planner.forecast(req)).as_dict()
    except ValueError as exc:  # e.g. no ordinary day in the history
        raise HTTPException(422, str(exc)) from exc


@router.get("/plan", response_model=None)
async def plan(
    services: Services,
    live: LiveConfig,
    queue: QueueId,
    day: Annotated[date, Query(alias="date")],
    week: bool = False,
    aht_s: Annotated[float | None, Query(gt=0, le=7200)] = None,
    target_sl: Annotated[float | None, Query(gt=0, lt=1)] = None,
    answer_within_s: Annotated[float | None, Query(gt=0, le=3600)] = None,
    shrinkage: Annotated[float, Query(ge=0, lt=1)] = 0.0,
    patience_s: Annotated[float | None, Query(gt=0)] = None,
    history_weeks: HistoryWeeks = 8,
    interval_min: IntervalMin = 30,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    req = _request(queue, day, 7 if week else 1, history_weeks, interval_min)
    target = Target(
        answer_within_s=answer_within_s or live.sl_threshold_s,
        service_level=target_sl or live.sl_target,
        shrinkage=shrinkage,
        patience_s=patience_s,
    )
    planner = wired(services.staffing, PLANNER)
    try:
        forecast, used_aht, rows = await planner.plan(req, target, aht_s)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if format == "csv":
        return Response(plan_csv(rows), media_type="text/csv; charset=utf-8")
    return {
        "queue": queue,
        "model": target.model,
        "aht_s": used_aht,
        "target": asdict(target),
        "backtest": forecast.as_dict()["backtest"],
        "rows": [asdict(row) for row in rows],
    }


@router.get("/needed-now")
async def needed_now(
    live: LiveConfig,
    calls_per_hour: Annotated[float, Query(ge=0)],
    aht_s: Annotated[float, Query(gt=0, le=7200)],
    logged_in: Annotated[int, Query(ge=0)],
    patience_s: Annotated[float | None, Query(gt=0)] = None,
) -> dict[str, Any]:
    """Agents the next 30 minutes need at this pace vs those logged in (the wallboard)."""
    target = Target(live.sl_threshold_s, live.sl_target, patience_s=patience_s)
    need = agents_needed_now(calls_per_hour / 3600.0, aht_s, logged_in, target)
    return asdict(need)

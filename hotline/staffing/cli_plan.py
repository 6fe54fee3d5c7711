"""``hotline forecast`` and ``hotline staffing plan``: from the stored history, JSON/CSV/text.

Dates are local days in ``live.timezone``; the history is the ``--history-weeks`` weeks before
the first forecast day. Exit codes: 0 done, 1 the database failed, 2 bad arguments.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import orjson
import typer

from staffing.plan import PlanRow, Target, plan_csv
from staffing.service import ForecastRequest

Queue = Annotated[str, typer.Option("--queue", help="Queue id.")]
HistoryWeeks = Annotated[int, typer.Option(help="Weeks of history to fit.")]
IntervalMin = Annotated[int, typer.Option(help="Interval length: 15, 30 or 60 minutes.")]
BacktestWeeks = Annotated[int, typer.Option(help="Last weeks held out to score the model.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _local_today(zone: ZoneInfo) -> date:
    return datetime.now(zone).date()


def _request(
    queue: str, start: date, days: int, history_weeks: int, interval_min: int, backtest: int
) -> ForecastRequest:
    try:
        return ForecastRequest(queue, start, days, history_weeks, interval_min, backtest)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _parse_date(text: str | None, zone: ZoneInfo) -> date:
    if text is None:
        return _local_today(zone) + timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO date") from exc


def forecast_command(
    queue: Queue,
    days: Annotated[int, typer.Option(help="Days to forecast.")] = 7,
    start: Annotated[str | None, typer.Option(help="First day (default: tomorrow).")] = None,
    history_weeks: HistoryWeeks = 8,
    interval_min: IntervalMin = 30,
    backtest_weeks: BacktestWeeks = 2,
    json: Json = False,
) -> None:
    """Offered calls per interval (weekday × interval profile, trend, holidays) + backtest."""
    from hotline.staffing.service import staffing_planner
    from hotline.storage import Database, StorageError
    from hotline.storage.cli import settings_or_exit

    settings = settings_or_exit()
    zone = ZoneInfo(settings.live.timezone)
    req = _request(queue, _parse_date(start, zone), days, history_weeks, interval_min,
                   backtest_weeks)  # fmt: skip

    async def run() -> dict[str, object]:
        async with Database(settings.database) as db:
            return (await staffing_planner(db, settings).forecast(req)).as_dict()

    try:
        report = asyncio.run(run())
    except (StorageError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1 if isinstance(exc, StorageError) else 2) from exc
    if json:
        typer.echo(orjson.dumps(report).decode())
        return
    backtest = report["backtest"]
    typer.echo(f"queue {queue}: {report['history_days']} days of history; backtest {backtest}")
    for row in report["intervals"]:  # type: ignore[attr-defined]
        typer.echo(f"{row['start']}  {row['calls']:9.2f}  {row['day']}")


def plan_command(
    queue: Queue,
    day: Annotated[str | None, typer.Option("--date", help="Day (default: tomorrow).")] = None,
    week: Annotated[bool, typer.Option("--week", help="Seven days from --date.")] = False,
    aht: Annotated[float | None, typer.Option(help="Handle time, s (default: history).")] = None,
    target_sl: Annotated[float | None, typer.Option(help="SL target (default: live)")] = None,
    answer_within: Annotated[float | None, typer.Option(help="T, s (default: live)")] = None,
    shrinkage: Annotated[float, typer.Option(min=0, max=0.99)] = 0.0,
    patience: Annotated[float | None, typer.Option(help="Mean patience, s: Erlang A")] = None,
    max_occupancy: Annotated[float | None, typer.Option(min=0.01, max=1)] = None,
    history_weeks: HistoryWeeks = 8,
    interval_min: IntervalMin = 30,
    csv: Annotated[bool, typer.Option("--csv", help="CSV rows instead of JSON.")] = False,
) -> None:
    """Agents and positions per interval for a day or a week (Erlang C, or A with patience)."""
    from hotline.staffing.service import staffing_planner
    from hotline.storage import Database, StorageError
    from hotline.storage.cli import settings_or_exit

    settings = settings_or_exit()
    zone = ZoneInfo(settings.live.timezone)
    req = _request(queue, _parse_date(day, zone), 7 if week else 1, history_weeks, interval_min,
                   min(2, history_weeks - 1))  # fmt: skip
    try:
        target = Target(
            answer_within_s=answer_within or settings.live.sl_threshold_s,
            service_level=target_sl or settings.live.sl_target,
            shrinkage=shrinkage,
            patience_s=patience,
            max_occupancy=max_occupancy,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    async def run() -> tuple[float, list[PlanRow]]:
        async with Database(settings.database) as db:
            _, used_aht, rows = await staffing_planner(db, settings).plan(req, target, aht)
            return used_aht, rows

    try:
        used_aht, rows = asyncio.run(run())
    except (StorageError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1 if isinstance(exc, StorageError) else 2) from exc
    if csv:
        typer.echo(plan_csv(rows), nl=False)
        return
    report = {
        "queue": queue,
        "model": target.model,
        "aht_s": used_aht,
        "target": asdict(target),
        "rows": [asdict(row) for row in rows],
    }
    typer.echo(orjson.dumps(report).decode())

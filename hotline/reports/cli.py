"""``hotline report queues|agents``: the same reports as the API, as JSON or CSV on stdout."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from hotline.storage.cli import parse_when, settings_or_exit

report_app = typer.Typer(help="Queue and agent reports (JSON or CSV).", no_args_is_help=True)

From = Annotated[str, typer.Option("--from", help="Start (inclusive): ISO date or date-time.")]
To = Annotated[str, typer.Option("--to", help="End (exclusive): ISO date or date-time.")]
Interval = Annotated[str, typer.Option(help="15m, 30m, 60m, day, week or month.")]
Formula = Annotated[
    str | None, typer.Option(help="Service-level formula (default: live settings).")
]
Threshold = Annotated[float | None, typer.Option(help="Service-level threshold T, seconds.")]
Only = Annotated[list[str] | None, typer.Option("--only", help="Keep these ids (repeatable).")]
Csv = Annotated[bool, typer.Option("--csv", help="CSV instead of JSON.")]


def _run(
    kind: str,
    start: str,
    end: str,
    interval: str,
    formula: str | None,
    threshold: float | None,
    only: list[str] | None,
    csv: bool,
) -> None:
    from hotline.reports.build import agent_report, queue_report, request_from_settings
    from hotline.reports.csv_out import to_csv
    from hotline.storage import Database, StorageError

    settings = settings_or_exit()
    zone = ZoneInfo(settings.live.timezone)
    begin, finish = parse_when(start, zone), parse_when(end, zone)
    assert begin is not None and finish is not None
    try:
        req = request_from_settings(
            settings.live, begin, finish, interval, formula, threshold, only or ()
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def build() -> dict[str, Any]:
        async with Database(settings.database) as db:
            if kind == "queues":
                return await queue_report(db, req)
            return await agent_report(db, req)

    try:
        report = asyncio.run(build())
    except StorageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if csv:
        typer.echo(to_csv(report["rows"]), nl=False)
    else:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2, default=_default))


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@report_app.command("queues")
def queues(
    start: From,
    end: To,
    interval: Interval = "15m",
    formula: Formula = None,
    threshold: Threshold = None,
    only: Only = None,
    csv: Csv = False,
) -> None:
    """Offered, answered, abandoned (short apart), service level, ASA, AHT, longest wait."""
    _run("queues", start, end, interval, formula, threshold, only, csv)


@report_app.command("agents")
def agents(
    start: From,
    end: To,
    interval: Interval = "15m",
    formula: Formula = None,
    threshold: Threshold = None,
    only: Only = None,
    csv: Csv = False,
) -> None:
    """Answered, talk/hold/wrap-up, AHT, login time, pause time by reason, occupancy."""
    _run("agents", start, end, interval, formula, threshold, only, csv)

"""``hotline export …``: stored history in other formats. Mounted by ``hotline.cli``."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, time
from pathlib import Path
from typing import IO, Annotated
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError

from cti.settings import Settings, load_settings

export_app = typer.Typer(help="Export stored history (queue_log, …).", no_args_is_help=True)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc


def parse_when(text: str | None, zone: ZoneInfo) -> datetime | None:
    """ISO date or date-time; without an offset it is local time in ``zone``."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO date or date-time") from exc
    if len(text) == 10:  # a bare date: its local midnight
        parsed = datetime.combine(parsed.date(), time(0))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


@export_app.command("queue-log")
def queue_log(
    since: Annotated[str | None, typer.Option(help="From (inclusive): ISO date or time.")] = None,
    until: Annotated[str | None, typer.Option(help="To (exclusive): ISO date or time.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write here, not to standard output.")] = None,
) -> None:
    """Write the event log as Asterisk queue_log lines (epoch|callid|queue|agent|EVENT|data…)."""
    from hotline.storage import Database, StorageError
    from hotline.storage.queue_log import export_queue_log

    settings = settings_or_exit()
    zone = ZoneInfo(settings.live.timezone)
    start, end = parse_when(since, zone), parse_when(until, zone)

    async def run(handle: IO[str]) -> int:
        count = 0
        async with Database(settings.database) as db:
            async for line in export_queue_log(db, start, end):
                handle.write(line + "\n")
                count += 1
        return count

    try:
        if out is None:
            asyncio.run(run(sys.stdout))
        else:
            with out.open("w", encoding="utf-8") as handle:
                count = asyncio.run(run(handle))
            typer.echo(f"{count} lines written to {out}", err=True)
    except StorageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc

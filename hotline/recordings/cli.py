"""``hotline recordings purge [--dry-run]``: delete recordings past their product's retention
(legal holds kept). Prints one JSON report."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

recordings_app = typer.Typer(help="Call recordings.", no_args_is_help=True)

DryRun = Annotated[bool, typer.Option("--dry-run", help="List what would go; delete nothing.")]


@recordings_app.command()
def purge(dry_run: DryRun = False) -> None:
    """Delete recordings past their product's retention, unless on legal hold."""
    from hotline.storage import Database
    from hotline.storage.cli import settings_or_exit
    from hotline.storage.recording_store import SqlRecordingStore
    from recordings.config_files import load_recording_config
    from recordings.retention import purge as run_purge
    from recordings.yamlconf import ConfigError

    settings = settings_or_exit()
    try:
        config = load_recording_config(settings.config_dir)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def run() -> dict[str, object]:
        async with Database(settings.database) as db:
            report = await run_purge(config, SqlRecordingStore(db), dry_run=dry_run)
            return report.as_dict()

    report = asyncio.run(run())
    typer.echo(json.dumps(report, ensure_ascii=False))
    if report["failed"]:
        raise typer.Exit(1)

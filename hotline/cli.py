"""The ``hotline`` command line. Each sub-command builds what it needs from validated settings."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError

from cti.settings import Settings, load_settings
from hotline.demo import demo_command
from hotline.ivr.cli import call_command, ivr_app, prompts_app
from hotline.logs import configure_logging
from hotline.recordings.cli import recordings_app
from hotline.reports.cli import report_app
from hotline.staffing.cli import staffing_app
from hotline.staffing.cli_plan import forecast_command
from hotline.staffing.cli_sim import simulate_command
from hotline.storage.cli import export_app

app = typer.Typer(
    help="Hotline: IVR and ACD engine for Asterisk call centres.", no_args_is_help=True
)
pbx_app = typer.Typer(
    help="The local Asterisk 22 PBX (development and tests).", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(pbx_app, name="pbx")
app.add_typer(db_app, name="db")
app.add_typer(ivr_app, name="ivr")
app.add_typer(prompts_app, name="prompts")
app.command("call")(call_command)
app.command("demo")(demo_command)
app.add_typer(staffing_app, name="staffing")
app.add_typer(export_app, name="export")
app.add_typer(report_app, name="report")
app.add_typer(recordings_app, name="recordings")
app.command("simulate")(simulate_command)
app.command("forecast")(forecast_command)


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve() -> None:
    """Run the engine: FastAGI server, AMI client and the HTTP API in one process."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    from hotline.service import run_service

    sys.exit(run_service(settings))


@contextmanager
def _pbx_errors() -> Iterator[None]:
    """A PBX failure is one line on stderr and its own exit status (3 not root, 4 no fetch)."""
    from hotline.pbx import PbxError

    try:
        yield
    except PbxError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc


@pbx_app.command("up")
def pbx_up() -> None:
    """Provision (once, cached) and start the local Asterisk on loopback."""
    from hotline.pbx import local_pbx

    with _pbx_errors():
        typer.echo(local_pbx(_settings()).up())


@pbx_app.command("provision")
def pbx_provision() -> None:
    """Build the Debian sid root with Asterisk 22 once (cached); does not start it."""
    from hotline.pbx import local_pbx

    with _pbx_errors():
        pbx = local_pbx(_settings())
        pbx.provision()
    typer.echo(f"pbx root ready: {pbx.root}")


@pbx_app.command("down")
def pbx_down() -> None:
    """Stop the local Asterisk."""
    from hotline.pbx import local_pbx

    with _pbx_errors():
        typer.echo(local_pbx(_settings()).down())


@pbx_app.command("status")
def pbx_status() -> None:
    """Say whether the local Asterisk runs, and its version and uptime (exit 1 when stopped)."""
    from hotline.pbx import local_pbx

    with _pbx_errors():
        status = local_pbx(_settings()).status()
    typer.echo(status.describe())
    raise typer.Exit(0 if status.running else 1)


@pbx_app.command("cli")
def pbx_cli(command: str) -> None:
    """Run an Asterisk CLI command on the local PBX (like ``asterisk -rx``)."""
    from hotline.pbx import local_pbx

    with _pbx_errors():
        typer.echo(local_pbx(_settings()).cli(command), nl=False)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the schema migrations up to REVISION (default: head)."""
    from hotline.storage import StorageError
    from hotline.storage.migrate import upgrade

    settings = _settings()
    configure_logging(settings.log_level, "text")
    try:
        upgrade(settings.database, revision)
    except StorageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"database at {revision}")


def main() -> None:
    app()

"""The IVR tools an operations engineer runs: ``hotline ivr validate | simulate | graph``,
``hotline prompts build`` and ``hotline call``."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError

from cti.settings import Settings, load_settings
from ivr.actions import ActionRegistry, demo_registry
from ivr.config import IvrConfig
from ivr.graph import to_dot, to_mermaid
from ivr.simulate import SimulationError, simulate
from ivr.validate import validate_directory

ivr_app = typer.Typer(help="IVR menus: validate, simulate, draw.", no_args_is_help=True)
prompts_app = typer.Typer(help="Prompt audio for Asterisk.", no_args_is_help=True)

ConfigDir = Annotated[Path, typer.Option("--config", help="Configuration directory.")]


def _registry() -> ActionRegistry:
    # The composition root registers the production actions; the tools use the demo ones,
    # which answer to the same names.
    return demo_registry()


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc


def _load_valid(directory: Path) -> IvrConfig:
    config, problems = validate_directory(directory, action_names=_registry().names())
    for problem in problems:
        typer.echo(str(problem), err=True)
    if config is None:
        typer.echo(f"error: {directory} has {len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    return config


@ivr_app.command("validate")
def validate_command(
    directory: Annotated[Path, typer.Argument(help="Configuration directory.")] = Path("config"),
    prompts: Annotated[
        Path | None,
        typer.Option(
            "--prompts",
            help="Check audio files under this directory (default: the built prompts "
            "directory of the settings, when it exists).",
        ),
    ] = None,
) -> None:
    """Check hotlines, menus, queues and skills; print each problem as file:line:col: message."""
    if prompts is None:
        built = _settings().ivr.prompts_dir
        prompts = built if built.is_dir() else None
    config, problems = validate_directory(
        directory, prompts_dir=prompts, action_names=_registry().names()
    )
    for problem in problems:
        typer.echo(str(problem))
    if config is None:
        typer.echo(f"{len(problems)} problem(s) in {directory}", err=True)
        raise typer.Exit(1)
    audio = f"audio checked under {prompts}" if prompts else "audio not checked (no --prompts)"
    typer.echo(
        f"ok: {len(config.hotlines)} hotlines, {len(config.flows)} flows, "
        f"{len(config.nodes)} nodes, {len(config.prompts)} prompts, "
        f"{len(config.queues)} queues, {len(config.skills)} skills; {audio}"
    )


class Language(StrEnum):
    zh = "zh"
    en = "en"


@ivr_app.command("simulate")
def simulate_command(
    did: Annotated[str, typer.Option("--did", help="The number dialled.")],
    keys: Annotated[
        str, typer.Option("--keys", help='Key groups, e.g. "1 4111111111111111# 2".')
    ] = "",
    lang: Annotated[Language | None, typer.Option("--lang", help="Preset the language.")] = None,
    caller: Annotated[str, typer.Option("--caller", help="Caller number.")] = "13912345678",
    at: Annotated[
        str | None, typer.Option("--at", help="ISO time of the call (default: now); naive = UTC.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
    config_dir: ConfigDir = Path("config"),
) -> None:
    """Walk a menu with scripted keys and print the path taken and how the call left the IVR."""
    try:
        now = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError as exc:
        typer.echo(f"error: --at {at!r} is not an ISO time", err=True)
        raise typer.Exit(2) from exc
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    config = _load_valid(config_dir)
    try:
        result = simulate(config, did, keys, registry=_registry(), now=now, caller=caller,
                          language=lang.value if lang else None)  # fmt: skip
    except SimulationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"call {caller} → {did} ({result.hotline}) at {now.isoformat()}")
    for line in result.transcript:
        typer.echo(f"  {line}")
    typer.echo(f"path: {' → '.join(result.result.path)}")
    typer.echo(f"outcome: {result.result.outcome}")
    if as_json:
        typer.echo(orjson.dumps(result.as_json()).decode())


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


@ivr_app.command("graph")
def graph_command(
    output_format: Annotated[GraphFormat, typer.Option("--format")] = GraphFormat.mermaid,
    hotline: Annotated[
        str | None, typer.Option("--hotline", help="Only what this hotline can reach.")
    ] = None,
    config_dir: ConfigDir = Path("config"),
) -> None:
    """Draw the menus (Mermaid or Graphviz DOT) for review."""
    config = _load_valid(config_dir)
    draw = to_mermaid if output_format is GraphFormat.mermaid else to_dot
    try:
        typer.echo(draw(config, hotline), nl=False)
    except KeyError as exc:
        typer.echo(f"error: no hotline {hotline!r}", err=True)
        raise typer.Exit(1) from exc


@prompts_app.command("build")
def prompts_build_command(
    config_dir: ConfigDir = Path("config"),
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: the settings' prompts_dir)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild every synthesised file.")] = False,
) -> None:
    """Synthesise missing prompt audio (espeak-ng + sox, 8 kHz mono WAV); keeps recordings."""
    from ivr.prompts import (
        EspeakSynthesizer,
        PromptToolsMissing,
        SynthesisError,
        build_prompts,
        wanted_audio,
    )

    settings = _settings()
    target = out or settings.ivr.prompts_dir
    config = _load_valid(config_dir)
    try:
        synthesizer = EspeakSynthesizer(settings.ivr.voices)
        report = build_prompts(
            wanted_audio(config), target, synthesizer, synthesizer.fingerprint, force=force
        )
    except PromptToolsMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    except SynthesisError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(report.describe(target))
    if target.resolve() == settings.ivr.prompts_dir.resolve():
        typer.echo("the local PBX picks them up on `hotline pbx up`")


def call_command(
    did: Annotated[str, typer.Option("--did", help="The number to call.")],
    keys: Annotated[
        str, typer.Option("--keys", help='Key groups, sent with a pause between them: "1 2".')
    ] = "",
    caller: Annotated[str, typer.Option("--caller", help="Caller number.")] = "13912345678",
    lang: Annotated[
        Language | None,
        typer.Option("--lang", help="Preset language (language menus still ask)."),
    ] = None,
    delay: Annotated[float, typer.Option("--delay", help="Seconds before the first key.")] = 4.0,
    gap: Annotated[float, typer.Option("--gap", help="Seconds between key groups.")] = 3.0,
    timeout: Annotated[float, typer.Option("--timeout", help="Give up after (s).")] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """Place a real test call through the running PBX and report how it left the IVR."""
    import asyncio

    from hotline.ivr.call import CallError, CallScript, place_test_call

    settings = _settings()
    call = CallScript(did, keys, caller, lang.value if lang else None, delay, gap, timeout)
    try:
        report = asyncio.run(place_test_call(settings.ami, call))
    except CallError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for line in report.lines():
        typer.echo(line)
    if as_json:
        typer.echo(orjson.dumps(report.as_json()).decode())
    if not report.outcome:
        raise typer.Exit(1)

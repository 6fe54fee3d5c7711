"""``hotline simulate SCENARIO.yaml [--json]``: run a what-if scenario on the live routing code.

Exit codes: 0 done, 2 the scenario is invalid (every problem printed as ``file:line:col``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import orjson
import typer

from cti.yaml_config import ConfigError
from staffing.scenario import load_scenario
from staffing.sim_stats import SimulationResult
from staffing.simulate import Simulation


def simulate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
) -> None:
    """Simulate a scenario (arrivals, skills, shifts) routed by the real ACD engine."""
    try:
        loaded = load_scenario(scenario)
        if seed is not None:
            loaded = loaded.model_copy(update={"seed": seed})
        simulation = Simulation(loaded, base_dir=scenario.parent)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from exc
    started = time.perf_counter()
    result = simulation.run()
    seconds = time.perf_counter() - started
    if json:
        report = result.as_dict() | {"seed": loaded.seed, "seconds": round(seconds, 3)}
        typer.echo(orjson.dumps(report).decode())
        return
    typer.echo(_table(result))
    typer.echo(f"seed {loaded.seed}; {simulation.events} events in {seconds:.2f} s")


def _table(result: SimulationResult) -> str:
    head = (f"{'queue':16} {'offered':>8} {'answered':>8} {'abandon':>8} {'overflow':>8} "
            f"{'SL':>7} {'ASA s':>7} {'occ':>6} {'EWT MAE':>8}")  # fmt: skip
    lines = [head]
    for q in [*result.queues, result.total]:
        lines.append(
            f"{q.queue_id:16} {q.offered:8d} {q.answered:8d} {q.abandoned:8d} "
            f"{q.overflowed:8d} {_num(q.service_level, 4):>7} {_num(q.asa_s, 1):>7} "
            f"{_num(q.occupancy, 3):>6} {_num(q.ewt_mae_s, 1):>8}"
        )
    formula = result.total.sl_formula
    low, high = result.window_s
    lines.append(f"service level: {formula}; measured over arrivals in [{low:g}, {high:g}) s")
    return "\n".join(lines)


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"

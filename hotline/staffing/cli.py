"""``hotline staffing``: Erlang C and Erlang A from the command line.

Typer's ranges reject negative counts, a zero interval and shrinkage ≥ 1 with exit code 2;
anything the pure functions still refuse (NaN, an impossible Erlang A series) is reported the
same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated

import orjson
import typer

from hotline.staffing.cli_plan import plan_command
from staffing.erlang import (
    agents_needed,
    erlang_c_metrics,
    positions_after_shrinkage,
    traffic_intensity,
)
from staffing.erlang_a import agents_needed_erlang_a, erlang_a_metrics

staffing_app = typer.Typer(
    help="Staffing: agents needed for a service level (Erlang C, Erlang A).",
    no_args_is_help=True,
)


def _in_range(
    low: float, high: float = math.inf, *, low_open: bool = False, high_open: bool = False
) -> Callable[[float | None], float | None]:
    """A Typer callback refusing values outside the interval (and NaN) with exit code 2."""
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"

    def check(value: float | None) -> float | None:
        if value is None:
            return None
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):  # NaN fails both
            raise typer.BadParameter(f"{value} is not in {lo}{low:g}, {high:g}{hi}")
        return value

    return check


Calls = Annotated[
    float,
    typer.Option(callback=_in_range(0, high_open=True), help="Calls offered in the interval."),
]
IntervalMin = Annotated[
    float,
    typer.Option(
        callback=_in_range(0, low_open=True, high_open=True), help="Interval length in minutes."
    ),
]
Aht = Annotated[
    float,
    typer.Option(
        callback=_in_range(0, low_open=True, high_open=True),
        help="Average handle time in seconds.",
    ),
]
AnswerWithin = Annotated[
    float,
    typer.Option(
        callback=_in_range(0, high_open=True),
        help="Service-level threshold: answered within this many seconds.",
    ),
]
TargetSl = Annotated[
    float,
    typer.Option(
        callback=_in_range(0, 1, low_open=True, high_open=True),
        help="Service-level target, a fraction in (0, 1).",
    ),
]
Agents = Annotated[
    int | None, typer.Option(min=0, help="Agents on the phones (default: the number needed).")
]
Shrinkage = Annotated[
    float,
    typer.Option(
        callback=_in_range(0, 1, high_open=True),
        help="Share of paid time off the phones, a fraction in [0, 1).",
    ),
]
MaxOccupancy = Annotated[
    float | None,
    typer.Option(
        callback=_in_range(0, 1, low_open=True), help="Highest acceptable occupancy, in (0, 1]."
    ),
]
TargetAsa = Annotated[
    float | None,
    typer.Option(
        callback=_in_range(0, low_open=True, high_open=True),
        help="Highest acceptable ASA in seconds.",
    ),
]
Patience = Annotated[
    float,
    typer.Option(
        callback=_in_range(0, low_open=True),
        help="Mean caller patience in seconds (exponential; inf gives Erlang C).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")]


@staffing_app.command("erlang-c")
def erlang_c_command(
    calls: Calls,
    aht: Aht,
    interval_min: IntervalMin = 30.0,
    answer_within: AnswerWithin = 20.0,
    target_sl: TargetSl = 0.8,
    agents: Agents = None,
    shrinkage: Shrinkage = 0.0,
    max_occupancy: MaxOccupancy = None,
    target_asa: TargetAsa = None,
    json: Json = False,
) -> None:
    """Erlang C (no abandonment): service level, P(wait), ASA, occupancy, agents needed."""
    try:
        traffic = traffic_intensity(calls, interval_min * 60, aht)
        needed = agents_needed(
            traffic,
            aht,
            answer_within,
            target_sl,
            target_asa_s=target_asa,
            max_occupancy=max_occupancy,
        )
        shown = needed if agents is None else agents
        m = erlang_c_metrics(shown, traffic, answer_within, aht)
        positions = positions_after_shrinkage(needed, shrinkage)
    except ValueError as exc:
        _fail(exc)
    report: dict[str, float | int | None] = {
        "traffic_erlangs": traffic,
        "agents": shown,
        "p_wait": m.p_wait,
        "service_level": m.service_level,
        "answer_within_s": answer_within,
        "asa_s": m.asa_s,
        "occupancy": m.occupancy,
        "target_sl": target_sl,
        "agents_needed": needed,
        "shrinkage": shrinkage,
        "positions": positions,
    }
    _print(report, json)


@staffing_app.command("erlang-a")
def erlang_a_command(
    calls: Calls,
    aht: Aht,
    patience: Patience,
    interval_min: IntervalMin = 30.0,
    answer_within: AnswerWithin = 20.0,
    target_sl: TargetSl = 0.8,
    agents: Agents = None,
    shrinkage: Shrinkage = 0.0,
    max_occupancy: MaxOccupancy = None,
    target_asa: TargetAsa = None,
    json: Json = False,
) -> None:
    """Erlang A (callers hang up after an exponential patience): adds P(abandon)."""
    try:
        traffic = traffic_intensity(calls, interval_min * 60, aht)
        needed = agents_needed_erlang_a(
            traffic,
            aht,
            answer_within,
            target_sl,
            patience,
            target_asa_s=target_asa,
            max_occupancy=max_occupancy,
        )
        shown = needed if agents is None else agents
        m = erlang_a_metrics(shown, traffic, answer_within, aht, patience)
        positions = positions_after_shrinkage(needed, shrinkage)
    except ValueError as exc:
        _fail(exc)
    report: dict[str, float | int | None] = {
        "traffic_erlangs": traffic,
        "agents": shown,
        "patience_s": patience,
        "p_wait": m.p_wait,
        "p_abandon": m.p_abandon,
        "service_level": m.service_level,
        "answer_within_s": answer_within,
        "asa_s": m.asa_s,
        "mean_wait_s": m.mean_wait_s,
        "occupancy": m.occupancy,
        "target_sl": target_sl,
        "agents_needed": needed,
        "shrinkage": shrinkage,
        "positions": positions,
    }
    _print(report, json)


_LABELS = {
    "traffic_erlangs": ("traffic", "{:.3f} Erlang"),
    "agents": ("agents", "{}"),
    "patience_s": ("mean patience", "{:.1f} s"),
    "p_wait": ("P(wait)", "{:.7f}"),
    "p_abandon": ("P(abandon)", "{:.7f}"),
    "service_level": ("service level", "{:.5f}"),
    "asa_s": ("ASA", "{:.3f} s"),
    "mean_wait_s": ("mean wait, all calls", "{:.3f} s"),
    "occupancy": ("occupancy", "{:.7f}"),
    "agents_needed": ("agents needed", "{}"),
    "positions": ("positions", "{}"),
}


def _print(report: dict[str, float | int | None], as_json: bool) -> None:
    if as_json:
        # JSON has no infinity: an unreachable ASA is null.
        clean = {
            k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in report.items()
        }
        typer.echo(orjson.dumps(clean).decode())
        return
    for key, (label, fmt) in _LABELS.items():
        if key not in report:
            continue
        value = report[key]
        text = fmt.format(value)
        if key == "service_level":
            text += f" within {report['answer_within_s']:g} s"
        elif key == "agents_needed":
            text += f" for {report['target_sl']:.0%} within {report['answer_within_s']:g} s"
        elif key == "positions":
            text += f" after {report['shrinkage']:.0%} shrinkage"
        typer.echo(f"{label:<22}{text}")


def _fail(exc: ValueError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2) from exc


# Defined apart to keep this module about Erlang figures; registered here, in one place.
staffing_app.command("plan")(plan_command)

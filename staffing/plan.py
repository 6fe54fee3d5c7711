"""Staffing plan per interval, and the wallboard's "agents needed in the next 30 minutes" (pure).

Per interval of length I with forecast calls n and average handle time AHT (talk + wrap-up):
traffic A = n·AHT / I Erlang (``staffing.erlang.traffic_intensity``); agents N = the smallest
meeting the service-level target by Erlang C (``agents_needed``), or by Erlang A when a mean
patience is given (``agents_needed_erlang_a``: abandons count against the service level);
positions = ⌈N / (1 − shrinkage)⌉ (``positions_after_shrinkage``). The service level, ASA and
occupancy reported are those of N agents.

Wallboard: the live arrival rate λ (calls/s) and handle time give A = λ·AHT over the coming
horizon; the same rule gives N, compared with the agents logged in (not paused).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from staffing.erlang import (
    agents_needed,
    erlang_c_metrics,
    positions_after_shrinkage,
    traffic_intensity,
)
from staffing.erlang_a import agents_needed_erlang_a, erlang_a_metrics
from staffing.forecast import ForecastInterval


@dataclass(frozen=True, slots=True)
class Target:
    answer_within_s: float = 20.0
    service_level: float = 0.8
    shrinkage: float = 0.0
    patience_s: float | None = None  # None: Erlang C (callers never hang up)
    max_occupancy: float | None = None

    @property
    def model(self) -> str:
        return "erlang_c" if self.patience_s is None else "erlang_a"


@dataclass(frozen=True, slots=True)
class PlanRow:
    queue: str
    start: str  # local ISO time
    day: str  # ordinary | holiday | makeup
    calls: float
    aht_s: float
    traffic: float
    agents: int
    positions: int
    service_level: float
    asa_s: float | None
    occupancy: float
    p_abandon: float | None


@dataclass(frozen=True, slots=True)
class Staffing:
    traffic: float
    agents: int
    service_level: float
    asa_s: float | None
    occupancy: float
    p_abandon: float | None


def staff_for(traffic: float, aht_s: float, target: Target) -> Staffing:
    """Agents needed for ``traffic`` Erlangs, and the figures they achieve."""
    if target.patience_s is None:
        n = agents_needed(
            traffic, aht_s, target.answer_within_s, target.service_level,
            max_occupancy=target.max_occupancy,
        )  # fmt: skip
        c = erlang_c_metrics(n, traffic, target.answer_within_s, aht_s)
        asa = None if c.asa_s == float("inf") else c.asa_s
        return Staffing(traffic, n, c.service_level, asa, c.occupancy, None)
    n = agents_needed_erlang_a(
        traffic, aht_s, target.answer_within_s, target.service_level, target.patience_s,
        max_occupancy=target.max_occupancy,
    )  # fmt: skip
    a = erlang_a_metrics(n, traffic, target.answer_within_s, aht_s, target.patience_s)
    asa = None if a.asa_s == float("inf") else a.asa_s
    return Staffing(traffic, n, a.service_level, asa, a.occupancy, a.p_abandon)


def staffing_plan(
    queue: str,
    intervals: Sequence[ForecastInterval],
    interval_min: int,
    aht_s: float,
    target: Target,
) -> list[PlanRow]:
    rows = []
    for interval in intervals:
        traffic = traffic_intensity(interval.calls, interval_min * 60.0, aht_s)
        s = staff_for(traffic, aht_s, target)
        rows.append(
            PlanRow(
                queue=queue,
                start=interval.start.isoformat(),
                day=interval.day_kind,
                calls=round(interval.calls, 3),
                aht_s=round(aht_s, 3),
                traffic=round(traffic, 4),
                agents=s.agents,
                positions=positions_after_shrinkage(s.agents, target.shrinkage),
                service_level=round(s.service_level, 6),
                asa_s=None if s.asa_s is None else round(s.asa_s, 3),
                occupancy=round(s.occupancy, 6),
                p_abandon=None if s.p_abandon is None else round(s.p_abandon, 6),
            )
        )
    return rows


def plan_csv(rows: Sequence[PlanRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(PlanRow.__slots__), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in asdict(row).items()})
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class AgentsNeededNow:
    horizon_s: float
    expected_calls: float
    traffic: float
    needed: int
    logged_in: int
    shortfall: int  # needed − logged in; negative: spare agents
    model: str


def agents_needed_now(
    arrival_rate_per_s: float,
    handle_s: float,
    logged_in: int,
    target: Target,
    horizon_s: float = 1800.0,
) -> AgentsNeededNow:
    """Wallboard figure: agents the next ``horizon_s`` needs at the live pace vs logged in."""
    if arrival_rate_per_s < 0 or handle_s <= 0 or logged_in < 0 or horizon_s <= 0:
        raise ValueError("rate ≥ 0, handle time > 0, logged in ≥ 0 and horizon > 0 expected")
    traffic = arrival_rate_per_s * handle_s  # A = λ·AHT
    needed = staff_for(traffic, handle_s, target).agents
    return AgentsNeededNow(
        horizon_s=horizon_s,
        expected_calls=arrival_rate_per_s * horizon_s,
        traffic=traffic,
        needed=needed,
        logged_in=logged_in,
        shortfall=needed - logged_in,
        model=target.model,
    )

"""A simulated day: 3,000 agents, 50 skills, about 300,000 calls, routed by the live AcdEngine.

Run from the repository root:  .venv/bin/python bench/simulate.py [--calls N] [--agents N]
                                                                  [--seed S] [--profile]

The centre: 48 product skills plus ``language_zh`` and ``language_en`` (50 skills); 48 queues,
one per product skill, sized by a Zipf split of the day's calls; each needs its skill at level
3 and, after 30 s, accepts level 1 (every agent holds two secondary skills at level 2), after
120 s also drops the English requirement. Calls: 90 % Mandarin, 10 % English, 5 % VIP; talk
time lognormal (mean 200 s, cv 0.8), patience exponential (mean 240 s), 2 s ring, 10 s
wrap-up. Arrivals follow the agents' shift coverage (four 8-hour shifts) so each half-hour
runs at a similar occupancy. Prints the per-queue totals of the busiest queues, then as the
last line ``{"agents": …, "calls": …, "seconds": …}`` (the simulation run alone, not building
the scenario).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffing.scenario import Scenario
from staffing.simulate import Simulation

PRODUCTS = 48
SHIFTS = (("00:00-08:00", 0.08), ("07:00-15:00", 0.38), ("11:00-19:00", 0.36),
          ("16:00-24:00", 0.18))  # fmt: skip
INTERVAL_MIN = 30


def zipf(n: int, s: float) -> list[float]:
    weights = [1 / (rank + 1) ** s for rank in range(n)]
    total = sum(weights)
    return [w / total for w in weights]


def coverage() -> list[float]:
    """Share of the day's agents on shift in each half-hour."""
    slots = [0.0] * (24 * 60 // INTERVAL_MIN)
    for span, share in SHIFTS:
        start, end = (int(t[:2]) * 60 + int(t[3:]) for t in span.split("-"))
        for slot in range(start // INTERVAL_MIN, end // INTERVAL_MIN):
            slots[slot] += share
    return slots


def build(calls: int, agents: int, seed: int) -> Scenario:
    split = zipf(PRODUCTS, 0.8)
    cover = coverage()
    profile = [c / sum(cover) for c in cover]
    queues = []
    for k in range(PRODUCTS):
        queues.append({
            "id": f"q{k:02d}",
            "skills": {f"p{k:02d}": 3},
            "relaxation": [
                {"after_s": 30, "min_level": 1},
                {"after_s": 120, "min_level": 1, "drop_skills": ["language_en"]},
            ],
            "traffic": {
                "calls_per_interval": [calls * split[k] * share for share in profile],
                "handle": {"kind": "lognormal", "mean_s": 200, "cv": 0.8},
                "patience": {"mean_s": 240},
                "vip_share": 0.05,
                "languages": {"zh": 0.9, "en": 0.1},
            },
        })  # fmt: skip
    groups = []
    for s, (span, shift_share) in enumerate(SHIFTS):
        for k in range(PRODUCTS):
            count = round(agents * shift_share * split[k])
            if count == 0:
                continue
            skills = {f"p{k:02d}": 5, f"p{(k + 1) % PRODUCTS:02d}": 2,
                      f"p{(k + 7) % PRODUCTS:02d}": 2, "language_zh": 5}  # fmt: skip
            en = {"language_en": 4}
            english = max(1, round(count * 0.2))
            groups.append({"prefix": f"s{s}p{k:02d}e", "count": english, "shifts": [span],
                           "skills": skills | en, "wrap_up_s": 10})  # fmt: skip
            if count > english:
                groups.append({"prefix": f"s{s}p{k:02d}z", "count": count - english,
                               "shifts": [span], "skills": skills, "wrap_up_s": 10})  # fmt: skip
    skill_ids = [f"p{k:02d}" for k in range(PRODUCTS)] + ["language_zh", "language_en"]
    return Scenario.model_validate({
        "seed": seed,
        "interval_min": INTERVAL_MIN,
        "duration_h": 24,
        "ring": {"kind": "constant", "mean_s": 2},
        "skills": [{"id": s} for s in skill_ids],
        "queues": queues,
        "agents": groups,
    })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--agents", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the run (slower)")
    args = parser.parse_args()
    scenario = build(args.calls, args.agents, args.seed)
    simulation = Simulation(scenario)
    agents = len(simulation.config.agents)
    started = time.perf_counter()
    if args.profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(simulation.run)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    else:
        result = simulation.run()
    seconds = time.perf_counter() - started
    total = result.total
    print(f"{'queue':8} {'offered':>8} {'answered':>8} {'abandon':>8} {'SL':>6} {'ASA':>7} "
          f"{'occ':>5} {'EWT MAE':>8}")  # fmt: skip
    for q in [*sorted(result.queues, key=lambda q: -q.offered)[:8], total]:
        print(
            f"{q.queue_id:8} {q.offered:8d} {q.answered:8d} {q.abandoned:8d} "
            f"{q.service_level or 0:6.3f} {q.asa_s or 0:7.1f} {q.occupancy or 0:5.2f} "
            f"{q.ewt_mae_s or 0:8.1f}"
        )
    print(f"events {simulation.events}, formula {total.sl_formula} (T = 20 s)")
    print(json.dumps({"agents": agents, "calls": total.offered, "seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()

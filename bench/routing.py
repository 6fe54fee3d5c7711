"""Routing decision latency with 3,000 agents, 10,000 waiting calls and 50 skills.

Run from the repository root:  .venv/bin/python bench/routing.py [--iterations N] [--seed S]

Builds a skills-based centre (48 product skills + Mandarin and English; agents with 2–6
product skills at levels 1–10; 150 queues requiring 1–3 skills with minimum levels, half with
relaxation steps; demand skewed so that some skill groups have a backlog and others idle
agents), fills it to 10,000 waiting calls on a virtual clock, then times single engine inputs
that each make one routing decision:
- ``agent_free``: an agent ends wrap-up and picks the best call among its queues' heads;
- ``arrival_pick_agent``: a call arrives while eligible agents are free and picks one;
- ``arrival_waits``: a call arrives, finds nobody, is filed and gets its wait estimate.
Each timed input includes its bookkeeping (state table, traces, due relaxation steps).
Random abandons keep the backlog near 10,000. The maximum is dominated by the collector's
generation-2 passes (tens of ms with this many live objects), not by a routing path.
Prints a table, then as the last line ``{"decision_p50_us": …, "decision_p99_us": …}`` over
all timed inputs.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acd.effects import CallArrived, Effect, OfferCall
from acd.engine import AcdEngine
from acd.indexes import requirement, satisfies
from acd.model import AcdConfig, Agent, Queue, RelaxationStep, Strategy
from acd.routing import own_requirement

AGENTS = 3_000
WAITING = 10_000
PRODUCT_SKILLS = [f"skill_{i:02d}" for i in range(48)]
LANGUAGES = ("zh", "en")


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (rank + 1) ** s for rank in range(n)]


def build_config(rng: random.Random) -> AcdConfig:
    skill_weights = zipf_weights(len(PRODUCT_SKILLS), 0.8)
    queues: list[Queue] = []
    for index in range(150):
        count = rng.choice([1, 1, 2, 2, 3])
        skills: dict[str, int] = {}
        while len(skills) < count:
            skill = rng.choices(PRODUCT_SKILLS, skill_weights)[0]
            skills[skill] = rng.randint(1, 6)
        steps: tuple[RelaxationStep, ...] = ()
        if index % 2 == 0:
            steps = (
                RelaxationStep(after_s=30, min_level=2),
                RelaxationStep(after_s=90, also_queues=(f"q{rng.randrange(150):03d}",)),
            )
        queues.append(
            Queue(
                id=f"q{index:03d}",
                skills=skills,
                strategy=rng.choice(list(Strategy)),
                relaxation=steps,
                weight=1.0,
            )
        )
    agents: list[Agent] = []
    for index in range(AGENTS):
        skills = {}
        for _ in range(rng.randint(2, 6)):
            skills[rng.choices(PRODUCT_SKILLS, skill_weights)[0]] = rng.randint(1, 10)
        if rng.random() < 0.9:
            skills["language_zh"] = rng.randint(5, 10)
        if rng.random() < 0.4:
            skills["language_en"] = rng.randint(3, 10)
        agents.append(
            Agent(
                id=f"agent{index:04d}", device=f"PJSIP/{index + 1000}", skills=skills, wrap_up_s=5
            )
        )
    return AcdConfig(queues=tuple(queues), agents=tuple(agents))


class Bench:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.config = build_config(self.rng)
        self.engine = AcdEngine(self.config)
        self.queue_ids = [q.id for q in self.config.queues]
        self.queue_weights = zipf_weights(len(self.queue_ids), 1.1)
        self.now = 0.0
        self.serial = 0
        self.connected: list[str] = []  # call ids on a call (for random hang-ups)
        self.samples: dict[str, list[int]] = {
            "agent_free": [],
            "arrival_pick_agent": [],
            "arrival_waits": [],
        }
        # Which (queue, language) each agent could serve at once: to aim arrivals at idle agents.
        self.servable: dict[str, list[tuple[str, str]]] = {}
        for agent in self.config.agents:
            self.servable[agent.id] = [
                (queue.id, language)
                for queue in self.config.queues
                for language in LANGUAGES
                if satisfies(agent.skills, requirement(own_requirement(queue, {}, language)))
            ]

    def new_call(self, queue_id: str | None = None, language: str | None = None) -> CallArrived:
        self.serial += 1
        return CallArrived(
            call_id=f"call{self.serial}",
            queue_id=queue_id or self.rng.choices(self.queue_ids, self.queue_weights)[0],
            enqueued_at=self.now,
            priority=50 if self.rng.random() < 0.05 else 0,
            language=language or ("zh" if self.rng.random() < 0.8 else "en"),
        )

    def answer(self, effects: list[Effect]) -> None:
        """Agents answer every offer at once (ringing is not what is measured)."""
        for effect in effects:
            if isinstance(effect, OfferCall):
                self.engine.offer_answered(effect.call_id, effect.agent_id, self.now)
                self.connected.append(effect.call_id)

    def fill(self) -> None:
        for agent in self.config.agents:
            self.answer(self.engine.login(agent.id, self.now))
        while self.engine.router.calls.count < WAITING:
            self.now += 0.02
            self.answer(self.engine.call_arrived(self.new_call(), self.now))
        # Let every waiting call reach its last relaxation step before measuring.
        self.now += 120.0
        self.answer(self.engine.tick(self.now))

    def timed(self, kind: str | None, action: Callable[[], list[Effect]]) -> list[Effect]:
        start = time.perf_counter_ns()
        effects = action()
        elapsed = time.perf_counter_ns() - start
        if kind is None:
            kind = (
                "arrival_pick_agent"
                if any(isinstance(e, OfferCall) for e in effects)
                else ("arrival_waits")
            )
        self.samples[kind].append(elapsed)
        return effects

    def step(self) -> None:
        engine = self.engine
        self.now += 0.01
        # An agent hangs up, wraps up, then becomes free and picks the best call.
        call_id = self.connected.pop(self.rng.randrange(len(self.connected)))
        agent_id = engine.calls[call_id].agent_id
        assert agent_id is not None
        engine.call_ended(call_id, self.now)
        self.now += 0.01
        until = engine.agents[agent_id].wrap_up_until or self.now
        effects = self.timed(
            "agent_free", lambda: engine.wrap_up_done(agent_id, max(until, self.now))
        )
        self.answer(effects)
        # A call arrives from the demand mix (usually waits in a busy queue) ...
        self.answer(self.timed(None, lambda: engine.call_arrived(self.new_call(), self.now)))
        # ... and one aimed at an idle agent, so the "pick an agent" path is measured too.
        idle = [
            a
            for a in self.rng.sample(self.config.agents, 40)
            if engine.agents[a.id].state.value == "available" and self.servable[a.id]
        ]
        if idle:
            queue_id, language = self.rng.choice(self.servable[idle[0].id])
            call = self.new_call(queue_id, language)
            self.answer(self.timed(None, lambda: engine.call_arrived(call, self.now)))
        # Callers give up, which keeps the backlog near its size (abandons are not timed).
        while engine.router.calls.count > WAITING:
            victim = f"call{self.rng.randint(1, self.serial)}"
            record = engine.calls.get(victim)
            if record is not None and record.state == "waiting":
                engine.call_abandoned(victim, self.now)


def percentile(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    bench = Bench(args.seed)
    started = time.perf_counter()
    bench.fill()
    setup_s = time.perf_counter() - started
    engine = bench.engine
    pool = engine.router.pool
    print(
        f"setup {setup_s:.1f} s: {len(pool.agents)} agents logged in, "
        f"{engine.router.calls.count} calls waiting, {len(pool.requirements)} signatures, "
        f"{len(engine.router.calls.buckets)} buckets"
    )
    gc.collect()
    gc.freeze()  # long-lived state out of the collector's way, as the service does at start
    for _ in range(args.iterations):
        bench.step()
    print(f"after: {engine.router.calls.count} calls waiting, {len(bench.connected)} connected")

    print(f"\n{'decision':<22}{'count':>8}{'p50 µs':>10}{'p90 µs':>10}{'p99 µs':>10}{'max µs':>10}")
    everything: list[int] = []
    for kind, values in bench.samples.items():
        everything += values
        if values:
            print(
                f"{kind:<22}{len(values):>8}{percentile(values, 0.5):>10.1f}"
                f"{percentile(values, 0.9):>10.1f}{percentile(values, 0.99):>10.1f}"
                f"{max(values) / 1000:>10.1f}"
            )
    print(
        f"{'all':<22}{len(everything):>8}{percentile(everything, 0.5):>10.1f}"
        f"{percentile(everything, 0.9):>10.1f}{percentile(everything, 0.99):>10.1f}"
        f"{max(everything) / 1000:>10.1f}"
    )
    print(
        json.dumps(
            {
                "decision_p50_us": round(percentile(everything, 0.5), 1),
                "decision_p99_us": round(percentile(everything, 0.99), 1),
            }
        )
    )


if __name__ == "__main__":
    main()

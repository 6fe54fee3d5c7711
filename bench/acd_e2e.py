"""Hotline's ACD against Asterisk's own Queue() on the real Asterisk 22, same traffic, one run.

Runs its own PBX instance ``bench`` (AMI 16038, FastAGI target 15573) so nothing else shares it;
it is stopped again at the end unless it was already running. Both systems get the same callers
(``Local/<name>@hotline-acd-test/n``, entering ``hotline-route,hold``) and the same two
Local-channel agents (answer at once, talk ``TALK_S``, no wrap-up):

- Hotline: the ACD service routes from the holding context (AMI Redirect into the connect
  context);
- native: the hold timeout is 0, so the dialplan's safety net puts the callers straight into
  ``Queue(hotline-fallback)`` (strategy rrmemory, wrapuptime 0) with the agents as QueueAdd
  members.

Scenario per system: ``ROUNDS`` rounds of two callers arriving while both agents are free
(entry → offer), then a backlog of ``BACKLOG`` callers for the two agents (agent free → next
offer). An offer is the ``DialBegin`` to an agent; an agent is free at its ``TestAgentHangup``.
A call is *overtaken* when a caller that entered later was offered before it. EWT accuracy:
Hotline's estimate and Asterisk's formula (``acd.ewt``) scored on the Hotline run's calls.

Last line: ``{"offer_p99_ms", "native_offer_p99_ms", "overtaken", "native_overtaken",
"ewt_mae_s", "native_ewt_mae_s"}`` (offer p99 over both kinds of samples).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acd.model import AcdConfig, Agent, Queue
from acd.service import AcdRequestRejected, AcdService
from cti.ami.client import AmiClient
from cti.ami.messages import Event
from cti.settings import Settings, load_settings
from hotline.acd.build import ami_acd_pbx
from hotline.pbx import local_pbx

TALK_S = 1.0
ROUNDS = 5
BACKLOG = 16
AGENTS = ("agent1", "agent2")
QUEUE = "bench"
NATIVE_QUEUE = "hotline-fallback"
_CALLER = re.compile(r"^Local/([a-z0-9-]+)@hotline-acd-test-[0-9a-f]+;2$")
_AGENT = re.compile(r"^Local/(agent\d+)@test-agents-")


def bench_settings() -> Settings:
    return load_settings(
        ami={"port": 16038, "secret": "hotline-bench-secret", "reconnect_min_s": 0.2},
        agi={"port": 15573},
        pbx={"instance": "bench"},
        database={"url": "sqlite+aiosqlite:///:memory:"},
    )


@dataclass
class Run:
    """Events of one system's run, timed on arrival (monotonic seconds)."""

    entered: dict[str, float] = field(default_factory=dict)  # caller → entered the queue
    offers: list[tuple[float, str, str]] = field(default_factory=list)  # at, caller, agent
    freed: list[tuple[float, str]] = field(default_factory=list)  # at, agent
    answered: set[str] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, event: Event, native: bool) -> None:
        now = time.monotonic()
        caller = _CALLER.match(event.get("Channel") or "")
        kind = event.get("UserEvent")
        if caller and (
            (native and event.name == "QueueCallerJoin")
            or (not native and event.name == "UserEvent" and kind == "HotlineAcdHold")
        ):
            self.entered.setdefault(caller.group(1), now)
        elif caller and event.name == "DialBegin":
            agent = _AGENT.match(event.get("DestChannel") or "")
            if agent:
                self.offers.append((now, caller.group(1), agent.group(1)))
        elif event.name == "UserEvent" and kind == "TestAgentHangup":
            self.freed.append((now, event.get("Agent") or ""))
        elif event.name == "UserEvent" and kind == "TestAgentAnswered":
            self.answered.add(event.get("Agent") or "")
        self.changed.set()

    async def until(self, predicate: object, within_s: float) -> None:
        assert callable(predicate)
        async with asyncio.timeout(within_s):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    # --- metrics --------------------------------------------------------------------------

    def entry_to_offer_ms(self, free_callers: set[str]) -> list[float]:
        first_offer: dict[str, float] = {}
        for at, caller, _ in self.offers:
            first_offer.setdefault(caller, at)
        return [
            (first_offer[c] - self.entered[c]) * 1000
            for c in free_callers
            if c in first_offer and c in self.entered
        ]

    def free_to_offer_ms(self) -> list[float]:
        """For each agent freed while callers were still waiting: until its next offer."""
        samples = []
        for freed_at, agent in self.freed:
            waiting = [
                c
                for c, at in self.entered.items()
                if at < freed_at and not any(o[1] == c and o[0] <= freed_at for o in self.offers)
            ]
            if not waiting:
                continue
            later = [at for at, _, a in self.offers if a == agent and at >= freed_at]
            if later:
                samples.append((min(later) - freed_at) * 1000)
        return samples

    def overtaken(self) -> int:
        first_offer: dict[str, float] = {}
        for at, caller, _ in self.offers:
            first_offer.setdefault(caller, at)
        count = 0
        for caller, offered_at in first_offer.items():
            entered = self.entered.get(caller)
            if entered is None:
                continue
            if any(
                other_entered > entered and first_offer.get(other, float("inf")) < offered_at
                for other, other_entered in self.entered.items()
            ):
                count += 1
        return count


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def place_call(ami: AmiClient, name: str, queue: str, hold_timeout_s: float) -> None:
    await ami.action(
        "Originate",
        Channel=f"Local/{name}@hotline-acd-test/n",
        Application="Wait",
        Data="120",
        Async="true",
        Variable=[
            f"__HOTLINE_QUEUE={queue}",
            "__HOTLINE_PRIORITY=0",
            f"__HOTLINE_HOLD_TIMEOUT={hold_timeout_s:g}",
            "__HOTLINE_ANNOUNCE_FIRST=0",
        ],
    )


async def scenario(ami: AmiClient, run: Run, tag: str, hold_timeout_s: float) -> set[str]:
    """Rounds with free agents, then a backlog; returns the callers that met a free agent."""
    free_callers: set[str] = set()
    done = 0
    for round_no in range(ROUNDS):
        names = [f"r{round_no}{i}-{tag}" for i in range(len(AGENTS))]
        for name in names:
            await place_call(ami, name, QUEUE, hold_timeout_s)
            free_callers.add(name)
            await asyncio.sleep(0.05)
        done += len(names)
        try:
            await run.until(lambda n=done: len(run.freed) >= n, within_s=TALK_S + 15)
        except TimeoutError:
            print("stuck:", run.entered, run.offers, run.freed, file=sys.stderr)
            raise
        await asyncio.sleep(0.3)  # both agents idle again before the next round
    backlog = [f"b{i:02d}-{tag}" for i in range(BACKLOG)]
    for name in backlog:
        await place_call(ami, name, QUEUE, hold_timeout_s)
        await asyncio.sleep(0.05)
    total = done + BACKLOG
    await run.until(lambda: len(run.freed) >= total, within_s=BACKLOG * TALK_S + 30)
    return free_callers


async def watch(ami: AmiClient, run: Run, native: bool) -> asyncio.Task[None]:
    names = {"UserEvent", "DialBegin", "QueueCallerJoin"}
    subscription = ami.subscribe(names, maxsize=100_000)

    async def consume() -> None:
        async for event in subscription:
            run.record(event, native)

    task = asyncio.create_task(consume())
    task.add_done_callback(lambda _: subscription.unsubscribe())
    return task


async def setup_agents(ami: AmiClient) -> None:
    await ami.command("dialplan reload")
    await ami.command("channel request hangup all")
    for number in range(1, len(AGENTS) + 1):
        await ami.action("Setvar", Variable=f"AGENT{number}_RING", Value="0")
        await ami.action("Setvar", Variable=f"AGENT{number}_TALK", Value=f"{TALK_S:g}")


def acd_config() -> AcdConfig:
    return AcdConfig(
        queues=(Queue(id=QUEUE, prior_handle_s=TALK_S),),
        agents=tuple(Agent(id=a, device=f"Local/{a}@test-agents/n", wrap_up_s=0) for a in AGENTS),
    )


async def run_hotline(ami: AmiClient) -> tuple[Run, set[str], AcdService]:
    run = Run()
    acd = AcdService(acd_config(), ami_acd_pbx(ami, agent_family=f"bench-{secrets.token_hex(3)}"))
    await acd.start()
    for agent in AGENTS:
        await acd.login(agent)
    task = await watch(ami, run, native=False)
    try:
        free = await scenario(ami, run, "h" + secrets.token_hex(2), hold_timeout_s=120)
    finally:
        for agent in AGENTS:
            with contextlib.suppress(AcdRequestRejected):
                await acd.logout(agent)
        await acd.flush()
        await acd.stop()
        task.cancel()
    return run, free, acd


async def run_native(ami: AmiClient) -> tuple[Run, set[str]]:
    run = Run()
    for agent in AGENTS:
        await ami.action(
            "QueueAdd", check=False, Queue=NATIVE_QUEUE, Interface=f"Local/{agent}@test-agents/n"
        )
    task = await watch(ami, run, native=True)
    try:
        free = await scenario(ami, run, "n" + secrets.token_hex(2), hold_timeout_s=0)
    finally:
        for agent in AGENTS:
            await ami.action(
                "QueueRemove",
                check=False,
                Queue=NATIVE_QUEUE,
                Interface=f"Local/{agent}@test-agents/n",
            )
        task.cancel()
    return run, free


def summary(name: str, run: Run, free: set[str]) -> tuple[list[float], int]:
    entry = run.entry_to_offer_ms(free)
    freed = run.free_to_offer_ms()
    both = entry + freed
    print(
        f"{name:8s} entry→offer n={len(entry):2d} p50 {percentile(entry, 50):7.1f} ms "
        f"p99 {percentile(entry, 99):7.1f} ms | free→offer n={len(freed):2d} "
        f"p50 {percentile(freed, 50):7.1f} ms p99 {percentile(freed, 99):7.1f} ms | "
        f"offers {len(run.offers)} overtaken {run.overtaken()}"
    )
    return both, run.overtaken()


async def main() -> None:
    settings = bench_settings()
    pbx = local_pbx(settings)
    was_running = pbx.status().running
    started = time.monotonic()
    await asyncio.to_thread(pbx.up)
    try:
        async with AmiClient(settings.ami) as ami:
            await setup_agents(ami)
            hotline, hotline_free, acd = await run_hotline(ami)
            await asyncio.sleep(0.5)
            native, native_free = await run_native(ami)
            await ami.command("channel request hangup all")
    finally:
        if not was_running:
            await asyncio.to_thread(pbx.down)
    hotline_all, hotline_overtaken = summary("hotline", hotline, hotline_free)
    native_all, native_overtaken = summary("native", native, native_free)
    ewt = acd.engine.accuracy.mae()
    asterisk_ewt = acd.engine.asterisk_accuracy.mae()
    print(
        f"EWT mean absolute error over {acd.engine.accuracy.count()} answered calls: "
        f"Hotline {ewt:.2f} s, Asterisk's formula {asterisk_ewt:.2f} s"
        if ewt is not None and asterisk_ewt is not None
        else "EWT: no answered calls"
    )
    p99, native_p99 = percentile(hotline_all, 99), percentile(native_all, 99)
    print(
        f"offer p99 {p99:.1f} ms vs native {native_p99:.1f} ms "
        f"({native_p99 / p99:.0f}x); median {statistics.median(hotline_all):.1f} ms vs "
        f"{statistics.median(native_all):.1f} ms; {time.monotonic() - started:.0f} s in all"
    )
    print(
        json.dumps(
            {
                "offer_p99_ms": round(p99, 1),
                "native_offer_p99_ms": round(native_p99, 1),
                "overtaken": hotline_overtaken,
                "native_overtaken": native_overtaken,
                "ewt_mae_s": None if ewt is None else round(ewt, 2),
                "native_ewt_mae_s": None if asterisk_ewt is None else round(asterisk_ewt, 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())

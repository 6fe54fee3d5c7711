"""``hotline demo``: live traffic through the real local PBX, to watch Hotline work.

Run it next to a running ``hotline serve`` (``./scripts/run`` in another terminal), then open
http://127.0.0.1:8000/wallboard and http://127.0.0.1:8000/agent::

    hotline demo                    # 5 minutes, about 8 callers a minute
    hotline demo --rate 4 --duration 120

What it does, printing each step:

- logs in the demo agents through the HTTP API (the test agents of ``config/agents.yaml`` whose
  device is a ``Local/agentN@test-agents`` channel of the local PBX: they answer after a ring
  and talk for a while, times drawn at random and set as the PBX globals
  ``AGENT<n>_RING``/``AGENT<n>_TALK`` before each call);
- places callers through the call-control port (``Local/<did>@hotline-entry``) dialling the
  sample hotlines 95555 and 95556 (open around the clock), who press keys through the IVR
  (language, then a menu choice) and wait for an agent; a caller who waits too long hangs up
  (an abandon);
- every 15 s prints the wallboard's totals; at the end (``--duration`` or Ctrl-C) stops placing
  calls, hangs up its callers, logs the agents out and prints what each queue answered.

It needs the admin token of the API (``HOTLINE_API__TOKENS`` in ``.env``, written by
``scripts/run``) and the AMI secret the server uses; prompts built by ``hotline prompts build``
make the IVR audible and time the keys (without them the callers still reach the queues).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import signal
import time
import uuid
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError

from acd.loader import ConfigError, load_config
from acd.model import Agent
from cti.ami.call_control import AmiCallControl
from cti.ami.client import AmiClient
from cti.ami.errors import AmiError
from cti.call_control import CallControl, CallControlError
from cti.settings import Settings, load_settings
from hotline.ivr.call import caller_pressing_keys, dtmf_script

_DEMO_DEVICE = re.compile(r"^Local/(agent\d+)@test-agents(/n)?$")
CALLER_PREFIX = "hotline-demo-"
KEY_GAP_S = 1.5
STATUS_EVERY_S = 15.0
LOGOUT_WITHIN_S = 10.0


class DemoError(Exception):
    """The demo cannot start: no server, no token, no demo agent."""


@dataclass(frozen=True)
class Scenario:
    did: str
    keys: str  # key groups, sent KEY_GAP_S apart
    label: str
    welcome: str  # audio of the hotline's first prompt, which keys cannot interrupt


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("95555", "1 0", "个人银行 personal banking · 中文 · agent", "basic-banking-welcome"),
    Scenario("95555", "2 0", "personal banking · English · agent", "basic-banking-welcome"),
    Scenario("95556", "1 2", "信用卡 credit card · 中文 · statement", "credit-card-welcome"),
    Scenario("95556", "1 3", "信用卡 credit card · 中文 · activation", "credit-card-welcome"),
    Scenario("95556", "2 0", "credit card · English · agent", "credit-card-welcome"),
)


@dataclass(frozen=True)
class DemoOptions:
    rate_per_min: float = 8.0  # callers placed per minute, on average
    duration_s: float = 300.0
    max_callers: int = 8  # callers on the line at once (in the IVR, waiting or talking)
    ring_s: tuple[float, float] = (1.0, 3.0)
    talk_s: tuple[float, float] = (8.0, 25.0)
    patience_s: tuple[float, float] = (45.0, 120.0)  # then the caller hangs up
    seed: int | None = None


@dataclass
class DemoSummary:
    placed: int = 0
    answered_by_queue: dict[str, int] = field(default_factory=dict)
    answered_by_agent: dict[str, int] = field(default_factory=dict)


def demo_agents(settings: Settings) -> list[Agent]:
    """The configured agents whose device is a test agent of the local PBX."""
    agents = load_config(settings.config_dir).agents
    return [a for a in agents if a.device is not None and _DEMO_DEVICE.match(a.device)]


def _global_name(agent: Agent) -> str:
    match = _DEMO_DEVICE.match(agent.device or "")
    assert match is not None
    return match.group(1).upper()  # AGENT1: the dialplan reads AGENT1_RING / AGENT1_TALK


def admin_token(settings: Settings) -> str:
    for role in ("admin", "supervisor"):
        for token in settings.api.tokens:
            if token.role == role:
                return token.token.get_secret_value()
    raise DemoError("no admin API token: set HOTLINE_API__TOKENS (scripts/run writes one to .env)")


def prompt_seconds(settings: Settings, audio: str, language: str = "zh") -> float | None:
    """How long a built prompt plays, or None when it was not built."""
    path = Path(settings.ivr.prompts_dir) / language / f"{audio}.wav"
    try:
        with wave.open(str(path)) as sound:
            frames: int = sound.getnframes()
            rate: int = sound.getframerate()
    except (OSError, wave.Error, EOFError):
        return None
    return frames / rate


class Demo:
    def __init__(
        self,
        settings: Settings,
        options: DemoOptions,
        *,
        say: Callable[[str], None] = print,
        scenarios: Sequence[Scenario] = SCENARIOS,
    ) -> None:
        self.settings = settings
        self.options = options
        self.scenarios = scenarios
        self.summary = DemoSummary()
        self._say = say
        self._random = random.Random(options.seed)
        self._active: set[str] = set()  # caller legs still up
        self._started = time.monotonic()

    def say(self, text: str) -> None:
        self._say(f"[{time.monotonic() - self._started:5.0f}s] {text}")

    async def run(self, stop: asyncio.Event) -> DemoSummary:
        try:
            agents = demo_agents(self.settings)
        except ConfigError as exc:
            raise DemoError(f"cannot read the agents: {exc} (run it from the project)") from exc
        if not agents:
            raise DemoError(f"no Local/agentN@test-agents agent in {self.settings.config_dir}")
        http_settings = self.settings.http
        base = f"http://{http_settings.host}:{http_settings.port}"
        headers = {"Authorization": f"Bearer {admin_token(self.settings)}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as http:
            await self._check_server(http, base)
            self._where_to_look(base, agents)
            ami = AmiClient(self.settings.ami)
            try:
                await ami.start()
            except (AmiError, OSError) as exc:
                where = f"{self.settings.ami.host}:{self.settings.ami.port}"
                raise DemoError(f"no AMI at {where}: is the PBX up? ({exc})") from exc
            control = AmiCallControl(ami)
            hangups = ami.subscribe({"Hangup"}, maxsize=10_000)
            watcher = asyncio.create_task(self._watch_hangups(hangups), name="demo-hangups")
            try:
                await self._log_in(http, control, agents)
                await self._place_calls(http, control, agents, stop)
            finally:
                await self._clean_up(http, control, agents)
                hangups.unsubscribe()
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                await ami.close()
            await self._report(http, agents)
        return self.summary

    async def _check_server(self, http: httpx.AsyncClient, base: str) -> None:
        try:
            ready = await http.get("/readyz")
        except httpx.HTTPError as exc:
            raise DemoError(f"no hotline serve at {base}: start it first ({exc})") from exc
        if ready.status_code != 200:
            raise DemoError(f"hotline serve at {base} is not ready: {ready.text}")
        if (await http.get("/api/v1/queues")).status_code == 401:
            raise DemoError("the API refused the token (HOTLINE_API__TOKENS)")

    async def _watch_hangups(self, hangups: Any) -> None:
        async for event in hangups:
            self._active.discard(event.get("Uniqueid") or "")

    def _where_to_look(self, base: str, agents: list[Agent]) -> None:
        self.say(f"wallboard: {base}/wallboard · supervisor: {base}/supervisor (admin token)")
        demo_ids = {agent.id for agent in agents}
        desks = [
            t for t in self.settings.api.tokens if t.role == "agent" and t.agent_id in demo_ids
        ]
        for token in desks:
            self.say(f"agent desktop: {base}/agent (token {token.name!r}, agent {token.agent_id})")
        if not desks:
            self.say(
                "agent desktop: add an agent token for agent1 to HOTLINE_API__TOKENS to watch pops"
            )

    async def _log_in(
        self, http: httpx.AsyncClient, control: CallControl, agents: list[Agent]
    ) -> None:
        await self._draw_times(control, agents)
        for agent in agents:
            reply = await http.post(
                f"/api/v1/agents/{agent.id}/login", json={"device": agent.device}
            )
            state = "logged in" if reply.status_code == 202 else f"not logged in ({reply.text})"
            self.say(f"agent {agent.id} ({agent.name or agent.device}) {state}")

    async def _draw_times(self, control: CallControl, agents: list[Agent]) -> None:
        """Fresh ring and talk times for every demo agent (the next call each answers)."""
        for agent in agents:
            name = _global_name(agent)
            ring = self._random.uniform(*self.options.ring_s)
            talk = self._random.uniform(*self.options.talk_s)
            await control.set_globals(
                {f"{name}_RING": f"{ring:.1f}", f"{name}_TALK": f"{talk:.0f}"}
            )

    async def _place_calls(
        self,
        http: httpx.AsyncClient,
        control: CallControl,
        agents: list[Agent],
        stop: asyncio.Event,
    ) -> None:
        deadline = time.monotonic() + self.options.duration_s
        next_status = time.monotonic() + STATUS_EVERY_S
        mean_gap = 60.0 / self.options.rate_per_min
        while not stop.is_set() and deadline - time.monotonic() > 1:
            if len(self._active) < self.options.max_callers:
                await self._draw_times(control, agents)
                await self._place_call(control)
            else:
                self.say(f"{len(self._active)} callers on the line already: waiting")
            gap = self._random.uniform(0.5 * mean_gap, 1.5 * mean_gap)
            wait = min(gap, max(deadline - time.monotonic(), 0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            if time.monotonic() >= next_status:
                next_status += STATUS_EVERY_S
                await self._status(http)

    async def _place_call(self, control: CallControl) -> None:
        scenario = self._random.choice(self.scenarios)
        caller = f"139{self._random.randrange(10**8):08d}"
        welcome = prompt_seconds(self.settings, scenario.welcome)
        delay = (welcome + 0.5) if welcome is not None else 2.0
        patience = self._random.uniform(*self.options.patience_s)
        leg = f"{CALLER_PREFIX}{uuid.uuid4().hex[:10]}"
        try:
            await control.originate(
                caller_pressing_keys(
                    scenario.did, f'"Demo caller" <{caller}>',
                    dtmf_script(scenario.keys, KEY_GAP_S), leg=leg,
                    delay_s=round(delay, 1), hold_s=round(patience),
                )
            )  # fmt: skip
        except CallControlError as exc:
            self.say(f"could not place a call: {exc}")
            return
        self._active.add(leg)
        self.summary.placed += 1
        self.say(
            f"call {self.summary.placed}: {caller} dials {scenario.did} ({scenario.label}; "
            f"keys {scenario.keys!r}, hangs up after {patience:.0f} s unless answered)"
        )

    async def _status(self, http: httpx.AsyncClient) -> None:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            totals = (await http.get("/api/v1/wallboard")).json()["totals"]
            self.say(
                f"wallboard: {totals['waiting']} waiting (longest {totals['longest_wait_s']} s), "
                f"{totals['on_call']} on call, answered {totals['answered_today']}, "
                f"abandoned {totals['abandoned_today']} today"
            )

    async def _clean_up(
        self, http: httpx.AsyncClient, control: CallControl, agents: list[Agent]
    ) -> None:
        self.say("stopping: hanging up demo callers, logging agents out")
        # By the uniqueids the demo gave its callers (a Hangup by regex would match channel
        # names, which are Local/<did>@hotline-entry-<n>;1 and never hold the demo's prefix).
        for leg in list(self._active):
            with contextlib.suppress(CallControlError):
                await control.hangup(leg)
        # An agent still on a call cannot log out: it can once the hang-up put it in wrap-up.
        pending = list(agents)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LOGOUT_WITHIN_S):
                while pending:
                    pending = [agent for agent in pending if not await self._log_out(http, agent)]
                    if pending:
                        await asyncio.sleep(0.5)
        for agent in pending:
            self.say(f"agent {agent.id} could not be logged out: log it out from /supervisor")
        for agent in agents:
            name = _global_name(agent)
            with contextlib.suppress(CallControlError):
                await control.set_globals({f"{name}_RING": "", f"{name}_TALK": ""})

    async def _log_out(self, http: httpx.AsyncClient, agent: Agent) -> bool:
        try:
            reply = await http.post(f"/api/v1/agents/{agent.id}/logout")
        except httpx.HTTPError:
            return False
        return reply.status_code == 202

    async def _report(self, http: httpx.AsyncClient, agents: list[Agent]) -> None:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            for queue in (await http.get("/api/v1/wallboard")).json()["queues"]:
                if queue["today"]["offered"]:
                    self.summary.answered_by_queue[queue["queue"]] = queue["today"]["answered"]
            for agent in agents:
                view = (await http.get(f"/api/v1/agents/{agent.id}")).json()
                self.summary.answered_by_agent[agent.id] = view["answered_today"]
        queues = ", ".join(f"{q} {n}" for q, n in self.summary.answered_by_queue.items())
        people = ", ".join(f"{a} {n}" for a, n in self.summary.answered_by_agent.items())
        self.say(f"{self.summary.placed} calls placed; answered today by queue: {queues or '–'}")
        self.say(f"answered today by agent: {people or '–'}")


def demo_command(
    rate: Annotated[
        float, typer.Option("--rate", min=0.5, max=30, help="Callers per minute, on average.")
    ] = 8.0,
    duration: Annotated[
        float, typer.Option("--duration", min=10, max=3600, help="Seconds to run (Ctrl-C stops).")
    ] = 300.0,
    max_callers: Annotated[
        int, typer.Option("--max-callers", min=1, max=50, help="Callers on the line at once.")
    ] = 8,
) -> None:
    """Live demo traffic through the local PBX: demo agents log in, callers dial the sample
    hotlines through the IVR; watch /wallboard and /agent of the running `hotline serve`."""
    try:
        settings = load_settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    options = DemoOptions(rate_per_min=rate, duration_s=duration, max_callers=max_callers)

    async def main() -> DemoSummary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await Demo(settings, options).run(stop)

    try:
        asyncio.run(main())
    except DemoError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

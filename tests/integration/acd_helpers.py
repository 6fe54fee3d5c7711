"""Helpers for the ACD's end-to-end tests and bench on the real Asterisk: test callers that skip
the IVR (``hotline-acd-test``), Local-channel agents with per-agent ring/talk times (globals
``AGENT<n>_RING``/``AGENT<n>_TALK``), and a recorder of who was offered which caller.

Names are unique per run (the test PBX is shared with other suites), and every global a test
sets is cleared again.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from acd.model import AcdConfig, Agent, Queue
from cti.ami.client import AmiClient
from cti.ami.messages import Event
from tests.integration.pbx import PbxUnderTest

_AGENT_CHANNEL = re.compile(r"^Local/(agent\d+)@test-agents-")
_CALLER_CHANNEL = re.compile(r"^Local/([a-z0-9-]+)@hotline-acd-test-[0-9a-f]+;2$")


def run_tag() -> str:
    return secrets.token_hex(3)


def agent_def(number: int, skills: dict[str, int], wrap_up_s: float = 0.3, limit: int = 2) -> Agent:
    return Agent(
        id=f"agent{number}",
        device=f"Local/agent{number}@test-agents/n",
        skills=skills,
        wrap_up_s=wrap_up_s,
        no_answer_limit=limit,
    )


def config(queues: Iterable[Queue], agents: Iterable[Agent]) -> AcdConfig:
    return AcdConfig(queues=tuple(queues), agents=tuple(agents))


async def set_agent(ami: AmiClient, number: int, *, ring: float = 0, talk: float = 1) -> None:
    await ami.action("Setvar", Variable=f"AGENT{number}_RING", Value=f"{ring:g}")
    await ami.action("Setvar", Variable=f"AGENT{number}_TALK", Value=f"{talk:g}")


async def clear_agents(ami: AmiClient, numbers: Iterable[int]) -> None:
    for number in numbers:
        await ami.action("Setvar", Variable=f"AGENT{number}_RING", Value="")
        await ami.action("Setvar", Variable=f"AGENT{number}_TALK", Value="")


async def place_call(
    ami: AmiClient,
    name: str,
    queue: str,
    *,
    skills: str = "",
    priority: int = 0,
    language: str = "",
    hold_timeout_s: float = 60,
    stay_s: float = 60,
    announce_agi: str | None = None,
) -> None:
    """A caller that waits up to ``stay_s`` (then hangs up) on ``Local/<name>@hotline-acd-test``.
    Skills are ``a:3+b:1``: AMI's Variable header splits values on commas."""
    variables = [
        f"__HOTLINE_QUEUE={queue}",
        f"__HOTLINE_SKILLS={skills}",
        f"__HOTLINE_PRIORITY={priority}",
        f"__HOTLINE_LANGUAGE={language}",
        f"__HOTLINE_HOLD_TIMEOUT={hold_timeout_s:g}",
    ]
    if announce_agi is None:
        variables.append("__HOTLINE_ANNOUNCE_FIRST=0")  # no visits: 14573 is other suites'
    else:
        variables += ["__HOTLINE_ANNOUNCE_FIRST=1", f"__HOTLINE_ACD_AGI={announce_agi}"]
    await ami.action(
        "Originate",
        Channel=f"Local/{name}@hotline-acd-test/n",
        Application="Wait",
        Data=f"{stay_s:g}",
        Async="true",
        Variable=variables,
    )


@dataclass
class Offer:
    caller: str
    agent: str
    at: float


@dataclass
class CallWatch:
    """Who was offered which caller (DialBegin out of hotline-acd-connect), in order, plus the
    holding events, keyed by the caller's name."""

    ami: AmiClient
    offers: list[Offer] = field(default_factory=list)
    held: dict[str, float] = field(default_factory=dict)  # caller → first HotlineAcdHold
    call_ids: dict[str, str] = field(default_factory=dict)  # caller → uniqueid
    events: list[tuple[float, Event]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> CallWatch:
        names = {"UserEvent", "DialBegin", "QueueCallerJoin", "Hangup"}
        subscription = self.ami.subscribe(names, maxsize=100_000)

        async def run() -> None:
            async for event in subscription:
                self._record(time.monotonic(), event)

        self._subscription = subscription
        self._task = asyncio.create_task(run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._subscription.unsubscribe()
        if self._task is not None:
            await self._task

    def _record(self, at: float, event: Event) -> None:
        self.events.append((at, event))
        caller = _CALLER_CHANNEL.match(event.get("Channel") or "")
        if event.name == "DialBegin" and caller and event.get("Context") == "hotline-acd-connect":
            agent = _AGENT_CHANNEL.match(event.get("DestChannel") or "")
            if agent:
                self.offers.append(Offer(caller.group(1), agent.group(1), at))
        elif event.name == "UserEvent" and caller and event.get("UserEvent") == "HotlineAcdHold":
            self.held.setdefault(caller.group(1), at)
            self.call_ids[caller.group(1)] = event.get("Uniqueid") or ""
        self._changed.set()

    def user_events(self, kind: str, caller: str | None = None) -> list[tuple[float, Event]]:
        found = []
        for at, event in self.events:
            if event.name != "UserEvent" or event.get("UserEvent") != kind:
                continue
            match = _CALLER_CHANNEL.match(event.get("Channel") or "")
            if caller is None or (match and match.group(1) == caller):
                found.append((at, event))
        return found

    def offered(self) -> list[tuple[str, str]]:
        return [(o.caller, o.agent) for o in self.offers]

    async def until(self, predicate: object, within_s: float = 10.0) -> None:
        assert callable(predicate)
        async with asyncio.timeout(within_s):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def wait_held(self, *callers: str, within_s: float = 10.0) -> None:
        await self.until(lambda: all(c in self.held for c in callers), within_s)

    async def wait_offers(self, count: int, within_s: float = 15.0) -> None:
        try:
            await self.until(lambda: len(self.offers) >= count, within_s)
        except TimeoutError:
            raise AssertionError(
                f"{len(self.offers)} offers, not {count}: {self.offered()}"
            ) from None


async def hang_up(ami: AmiClient, channel_regex: str) -> None:
    await ami.action("Hangup", check=False, Channel=f"/{channel_regex}/")


async def ensure_acd_dialplan(ami: AmiClient) -> None:
    """Reload the dialplan through AMI when the PBX behind it runs an older one (the rendered
    files are current; the shared test PBX may have been started before they changed)."""
    shown = await ami.command("dialplan show s@hotline-acd-hold")
    resume = await ami.command("dialplan show s@hotline-acd-resume")
    transfer = await ami.command("dialplan show agent1@hotline-transfer")
    handed = await ami.command("dialplan show s@hotline-acd-transferred")
    if (
        "CallPriority" not in shown
        or "Bridge" not in resume
        or "test-agents" not in transfer
        or "agent-gone" not in handed
    ):
        await ami.command("dialplan reload")


@dataclass
class AcdRig:
    """One test's view of the shared PBX: its AMI client, a tag that makes its callers' and
    queues' names its own, and its own AstDB family for saved agents."""

    pbx: PbxUnderTest
    ami: AmiClient
    tag: str
    family: str
    prefix: str

    def name(self, caller: str) -> str:
        return f"{caller}-{self.tag}"

    def queue(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}-{self.tag}"


R = TypeVar("R", bound=AcdRig)


@contextlib.asynccontextmanager
async def acd_rig(
    pbx: PbxUnderTest, rig_type: type[R], prefix: str, agents: Iterable[int]
) -> AsyncIterator[R]:
    """An ``AcdRig`` on a current dialplan; afterwards its callers and the test agents are
    hung up, the agents' ring/talk globals cleared and its AstDB family deleted."""
    tag = run_tag()
    async with AmiClient(pbx.ami_settings) as ami:
        await ensure_acd_dialplan(ami)
        rig = rig_type(pbx, ami, tag, f"hotline-acd-{prefix}-{tag}", prefix)
        try:
            yield rig
        finally:
            await hang_up(ami, f"-{tag}@hotline-acd-test")
            await hang_up(ami, "^Local/agent[0-9]@test-agents")
            await clear_agents(ami, agents)
            await ami.action("DBDelTree", check=False, Family=rig.family)

"""Fakes for the ACD service: a PBX that records what it is asked (``acd.ports.AcdPbx``),
a clock and a scheduler the test moves by hand (``acd.ports.Scheduler``)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from acd.clock import Clock
from acd.model import AcdConfig, Agent, Queue
from acd.pbx_events import HoldEntered, PbxEvent, PbxSnapshot, SavedAgent
from acd.ports import AcdPbx, Scheduler
from cti.call_control import CallControlError


@dataclass
class FakePbx:
    """Records every verb; events are fed through ``queue`` (None ends the feed)."""

    queue: asyncio.Queue[PbxEvent | None] = field(default_factory=asyncio.Queue)
    connects: list[tuple[str, str]] = field(default_factory=list)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    saved: dict[str, SavedAgent] = field(default_factory=dict)
    snapshot_value: PbxSnapshot = field(default_factory=PbxSnapshot)
    snapshot_taken: asyncio.Event = field(default_factory=asyncio.Event)  # set by snapshot()
    fail_connect: bool = False
    fail: set[str] = field(default_factory=set)  # verbs that fail as if the channel were gone
    alive: set[str] = field(default_factory=set)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    answered_at: dict[str, float] = field(default_factory=dict)
    peer: str | None = "Local/agent1@test-agents-1;1"
    gate: asyncio.Event | None = None  # holds wait on it: Asterisk taking its time

    async def events(self) -> AsyncIterator[PbxEvent]:
        while (event := await self.queue.get()) is not None:
            yield event

    def close(self) -> None:
        self.queue.put_nowait(None)

    def _do(self, *action: Any) -> None:
        self.actions.append(action)
        if action[0] in self.fail:
            raise CallControlError(f"{action[0]}: No such channel", gone=True)

    async def connect(
        self, call_id: str, device: str, ring_timeout_s: float, agent_id: str, decision_id: int
    ) -> None:
        self.connects.append((call_id, agent_id))
        self.connected.set()
        if self.fail_connect:
            raise CallControlError("Channel does not exist", gone=True)

    async def overflow(self, call_id: str, kind: str, target: str) -> None:
        self.actions.append(("overflow", call_id, kind, target))

    async def mark_answered(self, call_id: str, epoch: float) -> None:
        self.answered_at[call_id] = epoch

    async def channel_exists(self, call_id: str) -> bool:
        return call_id in self.alive

    async def bridge_peer(self, call_id: str) -> str | None:
        return self.peer

    async def hold(self, call_id: str, agent_channel: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self._do("hold", call_id, agent_channel)

    async def resume(self, call_id: str, agent_channel: str) -> None:
        self._do("resume", call_id, agent_channel)

    async def requeue(self, call_id: str, variables: Mapping[str, str]) -> None:
        self._do("requeue", call_id, dict(variables))

    async def send_to_number(self, call_id: str, context: str, number: str) -> None:
        self._do("number", call_id, context, number)

    async def consult(self, call_id: str, agent_channel: str, dial: str) -> None:
        self._do("consult", call_id, agent_channel, dial)

    async def hand_over(self, call_id: str, agent_channel: str) -> None:
        self._do("hand_over", call_id, agent_channel)

    async def hangup(self, channel: str) -> None:
        self._do("hangup", channel)

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None:
        if saved is None:
            self.saved.pop(agent_id, None)
        else:
            self.saved[agent_id] = saved

    async def snapshot(self) -> PbxSnapshot:
        self.snapshot_taken.set()
        return self.snapshot_value


_: type[AcdPbx] = FakePbx  # checked by mypy: the fake has every verb of the port


@dataclass
class _Handle:
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualTime:
    """A monotonic clock and a scheduler that move only when the test says so."""

    EPOCH = 1_760_000_000.0  # the wall clock reads this at monotonic 0

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._due: list[tuple[float, int, _Handle, Callable[[], None]]] = []
        self._seq = itertools.count()

    @property
    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.now, wall=lambda: self.EPOCH + self.now)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> _Handle:
        handle = _Handle()
        heapq.heappush(self._due, (self.now + delay_s, next(self._seq), handle, callback))
        return handle

    def advance(self, seconds: float) -> None:
        """Move time on, running what comes due on the way, in order."""
        until = self.now + seconds
        while self._due and self._due[0][0] <= until:
            at, _, handle, callback = heapq.heappop(self._due)
            self.now = max(self.now, at)
            if not handle.cancelled:
                callback()
        self.now = until


__scheduler: type[Scheduler] = ManualTime


async def settle(pbx: FakePbx) -> None:
    """Let the consumer take every queued event and the tasks it spawned run (no IO)."""
    for _ in range(10 + 5 * pbx.queue.qsize()):
        await asyncio.sleep(0)


# One queue, two agents (a1 wraps up 50 ms; a2 is paused after one missed offer).
CONFIG = AcdConfig(
    queues=(Queue(id="cards", skills={"credit_card": 3}, ring_timeout_s=5),),
    agents=(
        Agent(
            id="a1", device="Local/agent1@test-agents/n", skills={"credit_card": 5}, wrap_up_s=0.05
        ),
        Agent(
            id="a2",
            device="Local/agent2@test-agents/n",
            skills={"credit_card": 5},
            no_answer_limit=1,
        ),
    ),
)


def held(call_id: str, epoch: float | None = None, priority: int = 0) -> HoldEntered:
    return HoldEntered(call_id, f"Local/{call_id};2", "cards", priority, None, {}, epoch)

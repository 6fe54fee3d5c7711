"""Hold, unhold, blind and attended transfer on the real Asterisk 22 (acd/call_actions.py,
``extensions_acd.conf``): Local-channel callers and agents as in test_acd_e2e.py; where each
channel is (context, application, bridge) is read back from Asterisk with CoreShowChannels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from acd.agent_state import AgentState
from acd.model import AcdConfig, Queue
from acd.service import AcdService
from acd.transfer_rules import CONSULT_PAUSE
from cti.ami.messages import Event
from cti.events import (
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallQueued,
    CallTransferred,
    CallUnheld,
    DomainEvent,
)
from hotline.acd.build import ami_acd_pbx
from tests.integration.acd_helpers import (
    AcdRig,
    CallWatch,
    acd_rig,
    agent_def,
    config,
    place_call,
    set_agent,
)
from tests.integration.pbx import PbxUnderTest

pytestmark = pytest.mark.pbx

E = TypeVar("E", bound=DomainEvent)
AGENTS = (1, 2, 3)


@dataclass
class Rig(AcdRig):
    published: list[DomainEvent] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def service(self, acd_config: AcdConfig) -> AcdService:
        acd = AcdService(
            acd_config, ami_acd_pbx(self.ami, agent_family=self.family), publish=self._publish
        )
        await acd.start()
        return acd

    def _publish(self, event: DomainEvent) -> None:
        self.published.append(event)
        self._changed.set()

    def events(self, kind: type[E], call_id: str) -> list[E]:
        return [e for e in self.published if isinstance(e, kind) and e.call_id == call_id]

    async def until(self, predicate: Callable[[], bool], within_s: float = 10.0) -> None:
        async with asyncio.timeout(within_s):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def wait_event(self, kind: type[E], call_id: str, count: int = 1) -> E:
        try:
            await self.until(lambda: len(self.events(kind, call_id)) >= count, 15.0)
        except TimeoutError:
            raise AssertionError(
                f"no {kind.kind.value} for {call_id}: {[e.kind.value for e in self.published]}"
            ) from None
        return self.events(kind, call_id)[count - 1]

    async def channels(self) -> list[Event]:
        listed = await self.ami.list_action("CoreShowChannels")
        return list(listed.events)

    async def channel(self, match: Callable[[Event], bool]) -> Event:
        for _ in range(50):
            for event in await self.channels():
                if match(event):
                    return event
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"no such channel in {[c.get('Channel') for c in await self.channels()]}"
        )

    async def bridged(self, call_id: str, peer: Callable[[Event], bool]) -> list[Event]:
        """Wait until the caller's bridge holds the caller and channels matching ``peer``, and
        nothing else; the bridge. Asterisk may show a channel that is being moved (Bridge()
        swaps the caller in) for a moment in the bridge, so only a settled bridge counts."""
        members: list[Event] = []
        for _ in range(50):
            channels = await self.channels()
            mine = next((c for c in channels if c.get("Uniqueid") == call_id), None)
            bridge = mine.get("BridgeId") if mine is not None else None
            members = [c for c in channels if bridge and c.get("BridgeId") == bridge]
            others = [c for c in members if c.get("Uniqueid") != call_id]
            if others and all(peer(c) for c in others):
                return members
            await asyncio.sleep(0.1)
        raise AssertionError(f"{call_id} not bridged as expected: {members} of {channels}")


@pytest.fixture
async def rig(pbx: PbxUnderTest) -> AsyncIterator[Rig]:
    async with acd_rig(pbx, Rig, "xfer", AGENTS) as rig:
        yield rig


def in_context(call_id: str, context: str) -> Callable[[Event], bool]:
    return lambda c: c.get("Uniqueid") == call_id and c.get("Context") == context


async def answered_call(
    rig: Rig, acd: AcdService, watch: CallWatch, caller: str, queue: str
) -> str:
    await place_call(rig.ami, rig.name(caller), queue, stay_s=60)
    await watch.wait_held(rig.name(caller))
    call_id = watch.call_ids[rig.name(caller)]
    await rig.wait_event(CallAnswered, call_id)
    return call_id


async def test_hold_music_then_back_together_and_hold_left_out_of_talk_time(rig: Rig) -> None:
    queue = Queue(id=rig.queue("hold"), skills={"credit_card": 1})
    acd = await rig.service(config([queue], [agent_def(1, {"credit_card": 5})]))
    await set_agent(rig.ami, 1, talk=7)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent1")
            call_id = await answered_call(rig, acd, watch, "h1", queue.id)
            await acd.calls.hold(call_id)
            await rig.channel(
                lambda c: (
                    in_context(call_id, "hotline-acd-onhold")(c)
                    and c.get("Application") == "MusicOnHold"
                )
            )
            agent = await rig.channel(
                lambda c: (
                    c.get("Context") == "hotline-acd-agent-onhold"
                    and "agent1@test-agents" in (c.get("Channel") or "")
                )
            )
            assert not agent.get("BridgeId")  # apart: the agent hears nothing of the caller
            assert acd.agent("agent1").state is AgentState.ON_CALL
            await asyncio.sleep(2)
            await acd.calls.unhold(call_id)
            # The agent's channel comes back for the caller (it bridges from its side).
            members = await rig.bridged(
                call_id,
                lambda c: (
                    (c.get("Channel"), c.get("Context")) == (agent["Channel"], "hotline-acd-resume")
                ),
            )
            assert len(members) == 2
            # The agent's talk time runs out: it hangs up, the caller is hung up after it.
            completed = await rig.wait_event(CallCompleted, call_id)
            unheld = rig.events(CallUnheld, call_id)[0]
            assert completed.by == "agent"
            hold_s = float(unheld.hold_s or 0)
            talk_s = float(completed.talk_s or 0)
            assert 1.8 <= hold_s <= 4, hold_s
            assert 3 <= talk_s <= 7.5 - hold_s + 0.5, (talk_s, hold_s)
            assert acd.agent("agent1").state in (AgentState.WRAP_UP, AgentState.AVAILABLE)
    finally:
        await acd.stop()


async def test_caller_hanging_up_on_hold_frees_the_agent(rig: Rig) -> None:
    queue = Queue(id=rig.queue("gone"), skills={"credit_card": 1})
    acd = await rig.service(config([queue], [agent_def(1, {"credit_card": 5})]))
    await set_agent(rig.ami, 1, talk=30)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent1")
            call_id = await answered_call(rig, acd, watch, "h2", queue.id)
            await acd.calls.hold(call_id)
            await rig.channel(in_context(call_id, "hotline-acd-onhold"))
            await rig.ami.action("Hangup", Channel=call_id)
            completed = await rig.wait_event(CallCompleted, call_id)
            assert completed.by == "caller"
            await rig.until(lambda: acd.agent("agent1").state is not AgentState.ON_CALL, within_s=5)
            # Nothing of the agent is left waiting in the hold context.
            for _ in range(30):
                channels = await rig.channels()
                if not any(c.get("Context") == "hotline-acd-agent-onhold" for c in channels):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the agent's channel still waits on hold")
    finally:
        await acd.stop()


async def test_blind_transfer_to_a_queue_then_to_an_agent(rig: Rig) -> None:
    first = Queue(id=rig.queue("cards"), skills={"credit_card": 1})
    second = Queue(id=rig.queue("loans"), skills={"loans": 1})
    acd = await rig.service(
        config(
            [first, second],
            [
                agent_def(1, {"credit_card": 5}),
                agent_def(2, {"loans": 5}),
                agent_def(3, {"loans": 3}),
            ],
        )
    )
    for agent in AGENTS:
        await set_agent(rig.ami, agent, talk=30)
    try:
        async with CallWatch(rig.ami) as watch:
            for agent_id in ("agent1", "agent2", "agent3"):
                await acd.login(agent_id)
            call_id = await answered_call(rig, acd, watch, "t1", first.id)
            assert watch.offered()[-1][1] == "agent1"
            await acd.calls.transfer(call_id, "queue", second.id)
            requeued = await rig.wait_event(CallQueued, call_id, count=2)
            assert requeued.queue == second.id
            transferred = rig.events(CallTransferred, call_id)[0]
            assert (transferred.target_kind, transferred.target) == (
                "queue", second.id,
            )  # fmt: skip
            assert rig.events(CallCompleted, call_id)[0].by == "transfer"
            answered = await rig.wait_event(CallAnswered, call_id, count=2)
            second_agent = answered.agent_id
            assert second_agent in ("agent2", "agent3")
            # Now hand it to the other loans agent by name.
            other = "agent3" if second_agent == "agent2" else "agent2"
            await acd.calls.transfer(call_id, "agent", other)
            third = await rig.wait_event(CallAnswered, call_id, count=3)
            assert third.agent_id == other
            assert watch.offered()[-1][1] == other
    finally:
        await acd.stop()


async def test_blind_transfer_to_a_number(rig: Rig) -> None:
    queue = Queue(id=rig.queue("num"), skills={"credit_card": 1})
    acd = await rig.service(config([queue], [agent_def(1, {"credit_card": 5})]))
    await set_agent(rig.ami, 1, talk=30)
    await set_agent(rig.ami, 3, talk=5)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent1")
            call_id = await answered_call(rig, acd, watch, "n1", queue.id)
            await acd.calls.transfer(call_id, "number", "agent3")
            # The caller's own channel now runs agent3's line in hotline-transfer.
            await watch.until(
                lambda: any(
                    e.get("Uniqueid") == call_id and e.get("Agent") == "agent3"
                    for _, e in watch.events
                    if e.get("UserEvent") == "TestAgentAnswered"
                )
            )
            assert rig.events(CallTransferred, call_id)[0].target_kind == "number"
            assert acd.agent("agent1").state is not AgentState.ON_CALL
    finally:
        await acd.stop()


async def test_attended_transfer_to_an_agent_completes(rig: Rig) -> None:
    queue = Queue(id=rig.queue("att"), skills={"credit_card": 1})
    acd = await rig.service(
        config([queue], [agent_def(1, {"credit_card": 5}), agent_def(2, {"credit_card": 5})])
    )
    await set_agent(rig.ami, 1, talk=30)
    await set_agent(rig.ami, 2, ring=0.5, talk=6)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent1")
            call_id = await answered_call(rig, acd, watch, "a1", queue.id)
            await acd.login("agent2")
            await acd.calls.transfer(call_id, "agent", "agent2", attended=True)
            assert acd.agent("agent2").pause_reason == CONSULT_PAUSE
            # agent1 talks with agent2 while the caller hears music.
            consult = await rig.channel(
                lambda c: c.get("Context") == "hotline-acd-consult" and bool(c.get("BridgeId"))
            )
            assert "agent1@test-agents" in consult["Channel"]
            await rig.channel(in_context(call_id, "hotline-acd-onhold"))
            await acd.calls.complete_transfer(call_id)
            members = await rig.bridged(
                call_id, lambda c: "agent2@test-agents" in (c.get("Channel") or "")
            )
            assert [c.get("Context") for c in members if c.get("Uniqueid") == call_id] == [
                "hotline-acd-transferred"
            ]
            transferred = rig.events(CallTransferred, call_id)[0]
            assert (transferred.target, transferred.attended) == ("agent2", True)
            assert acd.agent("agent1").state is not AgentState.ON_CALL
            assert acd.agent("agent2").state is AgentState.ON_CALL  # its call now
            # agent2 keeps the caller until it hangs up (talk 6 s), then takes calls again.
            await rig.wait_event(CallEnded, call_id)
            await rig.until(lambda: acd.agent("agent2").state is AgentState.AVAILABLE, within_s=15)
            # agent1's by transfer, then agent2's own (its taken-over answer in between).
            completions = rig.events(CallCompleted, call_id)
            assert [(e.agent_id, e.by) for e in completions] == [
                ("agent1", "transfer"),
                ("agent2", "agent"),
            ]
            assert rig.events(CallAnswered, call_id)[-1].taken_over is True
    finally:
        await acd.stop()


async def test_attended_transfer_cancelled_goes_back_to_the_caller(rig: Rig) -> None:
    queue = Queue(id=rig.queue("cancel"), skills={"credit_card": 1})
    acd = await rig.service(config([queue], [agent_def(1, {"credit_card": 5})]))
    await set_agent(rig.ami, 1, talk=30)
    await set_agent(rig.ami, 3, talk=30)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent1")
            call_id = await answered_call(rig, acd, watch, "c1", queue.id)
            await acd.calls.transfer(call_id, "number", "agent3", attended=True)
            await rig.channel(
                lambda c: c.get("Context") == "hotline-acd-consult" and bool(c.get("BridgeId"))
            )
            await acd.calls.cancel_transfer(call_id)
            await rig.bridged(call_id, lambda c: "agent1@test-agents" in (c.get("Channel") or ""))
            await rig.wait_event(CallUnheld, call_id)
            assert not rig.events(CallTransferred, call_id)
            # The consulted line was dropped.
            for _ in range(30):
                if not any(
                    "agent3@test-agents" in (c.get("Channel") or "") for c in await rig.channels()
                ):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the consulted party is still up")
    finally:
        await acd.stop()


async def test_a_restart_of_hotline_while_a_caller_is_on_hold(rig: Rig) -> None:
    """The new process finds the call on hold (its agent on call, not paused) and can take it
    off hold; the agent's hang-up then ends it as usual."""
    queue = Queue(id=rig.queue("restart"), skills={"credit_card": 1})
    acd_config = config([queue], [agent_def(1, {"credit_card": 5})])
    first = await rig.service(acd_config)
    await set_agent(rig.ami, 1, talk=10)
    try:
        async with CallWatch(rig.ami) as watch:
            await first.login("agent1")
            call_id = await answered_call(rig, first, watch, "r1", queue.id)
            answered = rig.events(CallAnswered, call_id)[0].ts
            await first.calls.hold(call_id)
            await rig.channel(in_context(call_id, "hotline-acd-onhold"))
            await asyncio.sleep(2)  # on hold before the restart: still part of the call
    finally:
        await first.stop()
    second = await rig.service(acd_config)
    try:
        assert second.agent("agent1").state is AgentState.ON_CALL
        await second.calls.unhold(call_id)
        await rig.bridged(call_id, lambda c: "agent1@test-agents" in (c.get("Channel") or ""))
        completed = await rig.wait_event(CallCompleted, call_id)
        assert completed.by == "agent"
        assert second.agent("agent1").state is not AgentState.ON_CALL
        # The answer time came back from the channel: the call's length is whole.
        unheld = rig.events(CallUnheld, call_id)[-1]
        spoken = float(completed.talk_s or 0) + float(unheld.hold_s or 0)
        assert spoken == pytest.approx((completed.ts - answered).total_seconds(), abs=0.5)
    finally:
        await second.stop()

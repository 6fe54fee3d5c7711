"""The ACD service over a fake PBX: events in, Redirects out, timers, restart, AMI translation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from acd.agent_state import AgentState
from acd.asterisk import (
    AmiAcdPbx,
    ChannelGone,
    ConnectingCall,
    EventsLost,
    HoldEntered,
    OfferAnswered,
    OfferNotAnswered,
    PbxError,
    PbxEvent,
    PbxSnapshot,
    SavedAgent,
    device_key,
    parse_skills,
    translate,
)
from acd.clock import Clock
from acd.model import AcdConfig, Agent, Queue
from acd.service import RESYNC_BUSY, AcdRequestRejected, AcdService
from cti.ami.messages import Event
from cti.ami.subscriptions import EventHub


@dataclass
class FakePbx:
    queue: asyncio.Queue[PbxEvent | None] = field(default_factory=asyncio.Queue)
    connects: list[tuple[str, str]] = field(default_factory=list)
    saved: dict[str, SavedAgent] = field(default_factory=dict)
    snapshot_value: PbxSnapshot = field(default_factory=PbxSnapshot)
    fail_connect: bool = False
    alive: set[str] = field(default_factory=set)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    answered_at: dict[str, float] = field(default_factory=dict)

    async def events(self) -> AsyncIterator[PbxEvent]:
        while (event := await self.queue.get()) is not None:
            yield event

    async def connect(
        self, call_id: str, device: str, ring_timeout_s: float, agent_id: str, decision_id: int
    ) -> None:
        self.connects.append((call_id, agent_id))
        self.connected.set()
        if self.fail_connect:
            raise PbxError("Channel does not exist")

    async def overflow(self, call_id: str, kind: str, target: str) -> None:
        pass

    async def mark_answered(self, call_id: str, epoch: float) -> None:
        self.answered_at[call_id] = epoch

    async def channel_exists(self, call_id: str) -> bool:
        return call_id in self.alive

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None:
        if saved is None:
            self.saved.pop(agent_id, None)
        else:
            self.saved[agent_id] = saved

    async def snapshot(self) -> PbxSnapshot:
        return self.snapshot_value

    def close(self) -> None:
        self.queue.put_nowait(None)


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


async def settle(pbx: FakePbx) -> None:
    # Let the consumer take every queued event and the Redirect tasks run (no IO involved).
    for _ in range(10 + 5 * pbx.queue.qsize()):
        await asyncio.sleep(0)


@pytest.fixture
async def rig() -> AsyncIterator[tuple[AcdService, FakePbx]]:
    pbx = FakePbx()
    service = AcdService(CONFIG, pbx)
    await service.start()
    yield service, pbx
    await service.stop()


async def test_a_held_call_is_redirected_to_a_logged_in_agent(
    rig: tuple[AcdService, FakePbx],
) -> None:
    service, pbx = rig
    await service.login("a1")
    pbx.queue.put_nowait(held("c1"))
    await asyncio.wait_for(pbx.connected.wait(), 1)
    assert pbx.connects == [("c1", "a1")]
    assert service.agent("a1").state is AgentState.RESERVED


async def test_answer_hangup_wrap_up_then_next_call(rig: tuple[AcdService, FakePbx]) -> None:
    service, pbx = rig
    await service.login("a1")
    for event in (held("c1"), held("c2"), OfferAnswered("c1"), ChannelGone("c1")):
        pbx.queue.put_nowait(event)
    await settle(pbx)
    assert service.agent("a1").state is AgentState.WRAP_UP
    await asyncio.sleep(0.1)  # the wrap-up timer (50 ms) frees the agent: next offer
    assert pbx.connects == [("c1", "a1"), ("c2", "a1")]
    assert service.engine.accuracy.count() == 1


async def test_no_answer_pauses_and_the_call_goes_to_another_agent(
    rig: tuple[AcdService, FakePbx],
) -> None:
    service, pbx = rig
    await service.login("a2")  # idle longest
    await service.login("a1")
    pbx.queue.put_nowait(held("c1"))
    await settle(pbx)
    pbx.queue.put_nowait(OfferNotAnswered("c1", "a2", "NOANSWER"))
    await settle(pbx)
    assert pbx.connects == [("c1", "a2"), ("c1", "a1")]
    assert service.agent("a2").state is AgentState.PAUSED
    assert pbx.saved["a2"].pause_reason == "no-answer"


async def test_abandon_while_waiting_frees_nothing_and_forgets_the_call(
    rig: tuple[AcdService, FakePbx],
) -> None:
    service, pbx = rig
    pbx.queue.put_nowait(held("c1"))
    pbx.queue.put_nowait(ChannelGone("c1"))
    await settle(pbx)
    assert "c1" not in service.engine.calls


async def test_a_failed_redirect_of_a_gone_channel_is_an_abandon(
    rig: tuple[AcdService, FakePbx],
) -> None:
    service, pbx = rig
    pbx.fail_connect = True
    await service.login("a1")
    pbx.queue.put_nowait(held("c1"))
    await settle(pbx)
    assert "c1" not in service.engine.calls
    assert service.agent("a1").state is AgentState.AVAILABLE


async def test_rejected_requests_raise(rig: tuple[AcdService, FakePbx]) -> None:
    service, _ = rig
    with pytest.raises(AcdRequestRejected):
        await service.pause("a1")


async def test_resync_restores_agents_waiting_calls_and_busy_agents() -> None:
    pbx = FakePbx()
    clock = Clock()
    now_epoch = clock.wall()
    pbx.snapshot_value = PbxSnapshot(
        held=[held("late", now_epoch - 5), held("early", now_epoch - 30)],
        connecting=[ConnectingCall("talking", "a1", bridged=True)],
        agents=[
            SavedAgent("a1", "Local/agent1@test-agents/n"),
            SavedAgent("a2", "Local/agent2@test-agents/n", "lunch"),
        ],
    )
    service = AcdService(CONFIG, pbx, clock=clock)
    await service.start()
    try:
        assert service.agent("a1").pause_reason == RESYNC_BUSY
        assert service.agent("a2").pause_reason == "lunch"
        early = service.engine.calls["early"].entry.enqueued_at
        assert clock.now() - early == pytest.approx(30, abs=0.5)
        pbx.queue.put_nowait(ChannelGone("talking"))  # a1's call from before the restart ends
        await settle(pbx)
        assert pbx.connects == [("early", "a1")]  # the oldest caller first
    finally:
        await service.stop()


def _event(name: str, **headers: str) -> Event:
    return Event.from_pairs([("Event", name), *headers.items()])


def test_translate_reads_the_dialplan_s_events() -> None:
    hold = _event(
        "UserEvent",
        Channel="Local/x@hotline-acd-test-0001;2",
        Priority="3",
        Language="en",
        Uniqueid="1.2",
        UserEvent="HotlineAcdHold",
        Queue="cards",
        CallPriority="50",
        CallLanguage="zh",
        Skills="credit_card:5+language_zh:1",
        Enqueued="1700000000.250",
    )
    assert translate(hold) == HoldEntered(
        "1.2",
        "Local/x@hotline-acd-test-0001;2",
        "cards",
        50,
        "zh",
        {"credit_card": 5, "language_zh": 1},
        1700000000.25,
    )
    answered = _event("DialEnd", Uniqueid="1.2", Context="hotline-acd-connect", DialStatus="ANSWER")
    assert translate(answered) == OfferAnswered("1.2")
    elsewhere = _event("DialEnd", Uniqueid="1.2", Context="other", DialStatus="ANSWER")
    assert translate(elsewhere) is None
    assert translate(_event("Hangup", Uniqueid="9.9")) == ChannelGone("9.9")
    assert translate(_event("UserEvent", UserEvent="Other")) is None


def test_skills_and_device_keys() -> None:
    assert parse_skills("a:3,b, c:x,d:99") == {"a": 3, "b": 1, "d": 10}
    assert device_key("Local/agent1@test-agents/n") == "Local/agent1@test-agents"
    assert device_key("PJSIP/1001") == "PJSIP/1001"


async def test_lost_ami_events_trigger_a_rebuild_from_asterisk(
    rig: tuple[AcdService, FakePbx],
) -> None:
    _service, pbx = rig
    rebuilt = asyncio.Event()
    original = pbx.snapshot

    async def snapshot() -> PbxSnapshot:
        rebuilt.set()
        return await original()

    pbx.snapshot = snapshot  # type: ignore[method-assign]
    pbx.queue.put_nowait(EventsLost(3))
    await asyncio.wait_for(rebuilt.wait(), 1)


async def test_the_ami_adapter_reports_dropped_events() -> None:
    hub = EventHub()

    class Ami:
        subscribe = hub.subscribe

    adapter = AmiAcdPbx(Ami(), queue_size=2)  # type: ignore[arg-type]
    for n in range(4):  # two more than the subscription holds: the two oldest are lost
        hub.publish(Event.from_pairs([("Event", "Hangup"), ("Uniqueid", f"c{n}")]))
    hub.close()
    seen = [event async for event in adapter.events()]
    assert seen == [EventsLost(2), ChannelGone("c2"), ChannelGone("c3")]

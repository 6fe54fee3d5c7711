"""The ACD service over a fake PBX: events in, Redirects out, timers, restart, AMI translation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from acd.agent_state import AgentState
from acd.clock import Clock
from acd.pbx_events import (
    ChannelGone,
    ConnectingCall,
    EventsLost,
    HoldEntered,
    OfferAnswered,
    OfferNotAnswered,
    PbxSnapshot,
    SavedAgent,
    device_key,
    parse_skills,
    translate,
)
from acd.service import RESYNC_BUSY, AcdRequestRejected, AcdService
from cti.ami.messages import Event
from hotline.acd.ami_feed import AmiPbxFeed
from tests.fakes.acd import CONFIG, FakePbx, ManualTime, held, settle
from tests.fakes.ami import ScriptedAmi


@pytest.fixture
async def rig(time: ManualTime) -> AsyncIterator[tuple[AcdService, FakePbx]]:
    pbx = FakePbx()
    service = AcdService(CONFIG, pbx, clock=time.clock, scheduler=time)
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


async def test_answer_hangup_wrap_up_then_next_call(
    rig: tuple[AcdService, FakePbx], time: ManualTime
) -> None:
    service, pbx = rig
    await service.login("a1")
    for event in (held("c1"), held("c2"), OfferAnswered("c1"), ChannelGone("c1")):
        pbx.queue.put_nowait(event)
    await settle(pbx)
    assert service.agent("a1").state is AgentState.WRAP_UP
    time.advance(0.04)
    await settle(pbx)
    assert service.agent("a1").state is AgentState.WRAP_UP  # not before its 50 ms
    time.advance(0.02)  # the wrap-up timer frees the agent: next offer
    await settle(pbx)
    assert pbx.connects == [("c1", "a1"), ("c2", "a1")]
    assert service.engine.accuracy.count() == 1


async def test_no_answer_pauses_and_the_call_goes_to_another_agent(
    rig: tuple[AcdService, FakePbx], time: ManualTime
) -> None:
    service, pbx = rig
    await service.login("a2")  # idle longest
    time.advance(1)
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
    with_agent = _event("DialEnd", Uniqueid="1.2", Context="hotline-acd-connect",
                        DialStatus="ANSWER", DestUniqueid="1.3")  # fmt: skip
    assert translate(with_agent) == OfferAnswered("1.2", "1.3")
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
    pbx.snapshot_taken.clear()  # the start's own
    pbx.queue.put_nowait(EventsLost(3))
    await asyncio.wait_for(pbx.snapshot_taken.wait(), 1)


async def test_the_ami_feed_reports_dropped_events() -> None:
    ami = ScriptedAmi()
    adapter = AmiPbxFeed(ami, queue_size=2)
    for n in range(4):  # two more than the subscription holds: the two oldest are lost
        ami.hub.publish(Event.from_pairs([("Event", "Hangup"), ("Uniqueid", f"c{n}")]))
    ami.hub.close()
    seen = [event async for event in adapter.events()]
    assert seen == [EventsLost(2), ChannelGone("c2"), ChannelGone("c3")]

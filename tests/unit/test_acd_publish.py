"""The ACD's domain events: the pure mapping, and the service publishing over the fake PBX."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from acd.agent_state import AgentState, AgentStatus
from acd.asterisk import (
    AgentHungUp,
    ChannelGone,
    HoldEntered,
    HoldTimedOut,
    OfferAnswered,
    OfferNotAnswered,
    PbxSnapshot,
    SavedAgent,
    translate,
)
from acd.effects import OfferCall, OverflowCall
from acd.model import AcdConfig, Agent, OverflowRule, OverflowTarget, Queue
from acd.publish import AgentLog, Stamp, agent_events, changes, eligible_queues, ivr_data
from acd.service import AcdService
from cti.ami.messages import Event
from cti.events import DomainEvent, EventKind
from tests.unit.test_acd_service import CONFIG, FakePbx, held, settle

K = EventKind
AT = Stamp.of(1_700_000_000.0, 100.0)


class Recorder:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def __call__(self, event: DomainEvent) -> None:
        self.events.append(event)

    def take(self) -> list[DomainEvent]:
        taken, self.events = self.events, []
        return taken


def kinds(events: list[DomainEvent]) -> list[str]:
    return [
        f"{e.kind.value}:{e.data['state']}" if e.kind is K.AGENT_STATE else e.kind.value
        for e in events
    ]


@pytest.fixture
async def rig() -> AsyncIterator[tuple[AcdService, FakePbx, Recorder]]:
    pbx, recorder = FakePbx(), Recorder()
    service = AcdService(CONFIG, pbx, publish=recorder)
    await service.start()
    # The start-up resync found nothing: it says so, and no more.
    (resynced,) = recorder.take()
    assert (resynced.kind, dict(resynced.data)) == ("acd.resynced", {"calls": "", "agents": ""})
    yield service, pbx, recorder
    await service.stop()


# --- the pure mapping ------------------------------------------------------------------------


def test_agent_events_name_each_change_and_skip_non_changes() -> None:
    out = AgentStatus("a1")
    available = AgentStatus("a1", AgentState.AVAILABLE, device="PJSIP/1")
    lunch = AgentStatus("a1", AgentState.PAUSED, device="PJSIP/1", pause_reason="lunch")
    login = agent_events("a1", None, available, AT, queues="cards,loans")
    assert kinds(login) == ["agent.logged_in", "agent.state:available"]
    assert login[0].data == {"device": "PJSIP/1", "queues": "cards,loans"}
    paused = agent_events("a1", available, lunch, AT)
    assert kinds(paused) == ["agent.paused", "agent.state:paused"]
    assert paused[0].data == {"reason": "lunch"} and paused[1].data["reason"] == "lunch"
    assert kinds(agent_events("a1", lunch, available, AT)) == [
        "agent.unpaused",
        "agent.state:available",
    ]
    assert kinds(agent_events("a1", lunch, out, AT)) == [
        "agent.state:logged_out",
        "agent.logged_out",
    ]
    assert agent_events("a1", available, available, AT) == []
    assert kinds(agent_events("a1", available, available, AT, always=True)) == [
        "agent.state:available"
    ]


def test_every_write_is_seen_and_offers_come_before_reserved() -> None:
    log = AgentLog()
    on_call = AgentStatus("a1", AgentState.ON_CALL, device="PJSIP/1")
    log["a1"] = on_call
    log.take()
    # A call ends with no wrap-up time and the next call is offered, all in one input.
    for state in (AgentState.WRAP_UP, AgentState.AVAILABLE, AgentState.RESERVED):
        log["a1"] = AgentStatus("a1", state, device="PJSIP/1")
    offer = OfferCall("c2", "a1", "PJSIP/1", "cards", 15.0, 7)
    overflow = OverflowCall("c9", "cards", OverflowTarget(kind="voicemail", name="100"), "ewt", 3.5)
    events = changes([offer, overflow], log.take(), AT, {"a1": "cards"})
    assert kinds(events) == [
        "call.overflowed",
        "agent.state:wrap_up",
        "agent.state:available",
        "call.offered",
        "agent.state:reserved",
    ]
    assert events[0].data == {"target": "100", "target_kind": "voicemail", "reason": "ewt",
                              "wait_s": 3.5}  # fmt: skip
    assert events[3].data == {"agent": "a1", "decision": 7, "device": "PJSIP/1",
                              "ring_timeout_s": 15.0}  # fmt: skip
    assert (events[3].call_id, events[3].agent_id, events[3].queue) == ("c2", "a1", "cards")
    assert all(e.ts == AT.ts and e.mono == AT.mono for e in events)


def test_ivr_fields_and_path_from_the_hold_event() -> None:
    hold = translate(
        Event.from_pairs(
            [("Event", "UserEvent"), ("UserEvent", "HotlineAcdHold"), ("Uniqueid", "1.2"),
             ("Queue", "cards"), ("CallPriority", "50"), ("Skills", "credit_card:3"),
             ("IvrData", "account=12**&card_number=4111********1111&empty="),
             ("IvrPath", "welcome lang main cards")]
        )
    )  # fmt: skip
    assert isinstance(hold, HoldEntered)
    assert ivr_data(hold) == {
        "field.account": "12**",
        "field.card_number": "4111********1111",
        "field.empty": "",
        "path": "welcome>lang>main>cards",
    }
    assert ivr_data(held("c1")) == {}


def test_eligible_queues_are_those_whose_skills_the_agent_meets() -> None:
    config = AcdConfig(
        queues=(
            Queue(id="cards", skills={"credit_card": 3}),
            Queue(id="loans", skills={"loan": 1}),
        ),
        agents=(Agent(id="a1", skills={"credit_card": 5}), Agent(id="a2", skills={"loan": 2})),
    )
    assert eligible_queues(config) == {"a1": "cards", "a2": "loans"}


# --- the service -----------------------------------------------------------------------------


async def test_a_call_s_whole_life(rig: tuple[AcdService, FakePbx, Recorder]) -> None:
    service, pbx, recorder = rig
    await service.login("a1")
    login = recorder.take()
    assert kinds(login) == ["agent.logged_in", "agent.state:available"]
    assert login[0].agent_id == "a1"
    assert login[0].data == {"device": "Local/agent1@test-agents/n", "queues": "cards"}

    pbx.queue.put_nowait(HoldEntered("c1", "SIP/x-1", "cards", 50, None, {"credit_card": 4}, None))
    await settle(pbx)
    queued, offered, reserved = recorder.take()
    assert kinds([queued, offered, reserved]) == [
        "call.queued",
        "call.offered",
        "agent.state:reserved",
    ]
    assert (queued.call_id, queued.queue) == ("c1", "cards")
    assert queued.data == {"queue": "cards", "skills": "credit_card:4", "priority": 50,
                           "language": None, "vip": True, "ewt_s": 0.0, "position": 1}  # fmt: skip
    assert offered.data["agent"] == "a1" and isinstance(offered.data["decision"], int)
    assert offered.data["device"] == "Local/agent1@test-agents/n"

    pbx.queue.put_nowait(OfferAnswered("c1"))
    await settle(pbx)
    answered, on_call = recorder.take()
    assert kinds([answered, on_call]) == ["call.answered", "agent.state:on_call"]
    assert answered.agent_id == "a1"
    assert set(answered.data) == {
        "agent",
        "wait_s",
        "predicted_wait_s",
        "asterisk_predicted_wait_s",
    }
    assert isinstance(answered.data["wait_s"], float) and answered.data["wait_s"] >= 0

    pbx.queue.put_nowait(ChannelGone("c1"))
    await settle(pbx)
    completed, ended, wrap_up = recorder.take()
    assert kinds([completed, ended, wrap_up]) == [
        "call.completed",
        "call.ended",
        "agent.state:wrap_up",
    ]
    assert completed.data["agent"] == "a1" and completed.data["by"] == "caller"
    assert isinstance(completed.data["talk_s"], float)

    await asyncio.sleep(0.1)  # a1's wrap-up (50 ms) ends
    assert kinds(recorder.take()) == ["agent.state:available"]
    assert service.agent("a1").state is AgentState.AVAILABLE


async def test_no_answer_pauses_the_agent_and_offers_to_the_next(
    rig: tuple[AcdService, FakePbx, Recorder],
) -> None:
    service, pbx, recorder = rig
    await service.login("a2")  # idle longest; paused after one miss
    await service.login("a1")
    pbx.queue.put_nowait(held("c1"))
    await settle(pbx)
    recorder.take()
    pbx.queue.put_nowait(OfferNotAnswered("c1", "a2", "NOANSWER"))
    await settle(pbx)
    events = recorder.take()
    assert kinds(events) == [
        "call.ring_no_answer",
        "agent.paused",
        "agent.state:paused",
        "call.offered",
        "agent.state:reserved",
    ]
    missed = events[0]
    assert (missed.call_id, missed.agent_id, missed.data["agent"]) == ("c1", "a2", "a2")
    assert missed.data["reason"] == "noanswer" and isinstance(missed.data["ring_s"], float)
    assert events[1].data == {"reason": "no-answer"}
    assert events[3].agent_id == events[4].agent_id == "a1"


async def test_abandon_while_waiting_and_while_ringing(
    rig: tuple[AcdService, FakePbx, Recorder],
) -> None:
    service, pbx, recorder = rig
    pbx.queue.put_nowait(held("c1"))
    pbx.queue.put_nowait(ChannelGone("c1"))
    await settle(pbx)
    queued, abandoned, ended = recorder.take()
    assert kinds([queued, abandoned, ended]) == ["call.queued", "call.abandoned", "call.ended"]
    assert queued.data["position"] == 1 and queued.data["vip"] is False
    assert abandoned.agent_id is None and set(abandoned.data) == {"wait_s"}

    await service.login("a1")
    pbx.queue.put_nowait(held("c2"))
    await settle(pbx)
    recorder.take()
    pbx.queue.put_nowait(ChannelGone("c2"))
    await settle(pbx)
    events = recorder.take()
    assert kinds(events) == ["call.abandoned", "call.ended", "agent.state:available"]
    assert events[0].agent_id == "a1" and events[0].data["agent"] == "a1"


async def test_hold_timeout_is_a_fallback(rig: tuple[AcdService, FakePbx, Recorder]) -> None:
    _, pbx, recorder = rig
    pbx.queue.put_nowait(held("c1"))
    pbx.queue.put_nowait(HoldTimedOut("c1"))
    await settle(pbx)
    events = recorder.take()
    assert kinds(events) == ["call.queued", "call.fallback"]
    assert events[1].data["reason"] == "hold-timeout" and "wait_s" in events[1].data


async def test_agent_requests_publish_each_state(
    rig: tuple[AcdService, FakePbx, Recorder],
) -> None:
    service, _, recorder = rig
    await service.login("a1")
    await service.pause("a1", "lunch")
    await service.pause("a1", "meeting")
    await service.unpause("a1")
    await service.logout("a1")
    assert kinds(recorder.take()) == [
        "agent.logged_in",
        "agent.state:available",
        "agent.paused",
        "agent.state:paused",
        "agent.paused",  # a new reason
        "agent.state:paused",
        "agent.unpaused",
        "agent.state:available",
        "agent.state:logged_out",
        "agent.logged_out",
    ]


async def test_a_failing_publisher_never_stops_routing() -> None:
    pbx = FakePbx()
    calls = 0

    def broken(event: DomainEvent) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("consumer down")

    service = AcdService(CONFIG, pbx, publish=broken)
    await service.start()
    try:
        await service.login("a1")
        for event in (held("c1"), OfferAnswered("c1"), ChannelGone("c1"), held("c2")):
            pbx.queue.put_nowait(event)
        await settle(pbx)
        await asyncio.sleep(0.1)  # wrap-up ends: c2 is offered to a1
        assert pbx.connects == [("c1", "a1"), ("c2", "a1")]
        assert calls > 5
    finally:
        await service.stop()


async def test_resync_publishes_every_agent_and_the_calls_rebuilt() -> None:
    pbx, recorder = FakePbx(), Recorder()
    pbx.snapshot_value = PbxSnapshot(
        held=[held("c1")],
        agents=[SavedAgent("a2", "Local/agent2@test-agents/n", "lunch")],
    )
    service = AcdService(CONFIG, pbx, publish=recorder)
    await service.start()
    try:
        events = recorder.take()
        assert kinds(events) == [
            "call.queued",
            "agent.logged_in",
            "agent.paused",
            "agent.state:paused",
            "acd.resynced",
        ]
        assert events[0].data["resync"] is True and events[0].call_id == "c1"
        # Last, what the ACD holds now: consumers drop whatever else they had.
        assert dict(events[-1].data) == {"calls": "c1", "agents": "a2"}
        await service.login("a1")
        recorder.take()
        await service.resync()  # a reconnect: nothing changed, every agent's state again
        events = recorder.take()
        assert kinds(events) == ["call.queued", "agent.state:reserved", "agent.state:paused",
                                 "call.offered", "acd.resynced"]  # fmt: skip
        assert events[0].data["resync"] is True
        assert dict(events[-1].data) == {"calls": "c1", "agents": "a1,a2"}
    finally:
        await service.stop()


async def test_without_a_publisher_nothing_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import acd.publish

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("built an event")

    monkeypatch.setattr(acd.publish, "changes", fail)
    monkeypatch.setattr(acd.publish, "call_queued", fail)
    pbx = FakePbx()
    service = AcdService(CONFIG, pbx)
    await service.start()
    try:
        await service.login("a1")
        pbx.queue.put_nowait(held("c1"))
        await settle(pbx)
        assert pbx.connects == [("c1", "a1")]
        assert type(service.engine.agents) is dict
    finally:
        await service.stop()


async def test_an_overflow_into_another_queue_is_queued_there() -> None:
    rule = OverflowRule(
        when="ewt", threshold_s=60, target=OverflowTarget(kind="queue", name="loans")
    )
    config = AcdConfig(
        queues=(Queue(id="cards", overflow=(rule,)), Queue(id="loans")),
        agents=(Agent(id="a1", device="PJSIP/1"),),
    )
    pbx, recorder = FakePbx(), Recorder()
    service = AcdService(config, pbx, publish=recorder)
    await service.start()
    recorder.take()  # the start-up resync's acd.resynced
    try:
        pbx.queue.put_nowait(held("c1"))  # nobody logged in: the estimate is unbounded
        await settle(pbx)
        events = recorder.take()
        assert kinds(events) == ["call.queued", "call.overflowed", "call.queued"]
        assert [e.queue for e in events] == ["cards", "cards", "loans"]
        assert events[0].data["ewt_s"] is None
        assert events[1].data["target"] == "loans" and events[1].data["target_kind"] == "queue"
        assert events[1].data["reason"] == "ewt"
        await service.login("a1")
        assert kinds(recorder.take()) == [
            "agent.logged_in",
            "agent.state:available",
            "call.offered",
            "agent.state:reserved",
        ]
    finally:
        await service.stop()


async def test_an_agent_hang_up_is_reported_as_ended_by_the_agent(
    rig: tuple[AcdService, FakePbx, Recorder],
) -> None:
    service, pbx, recorder = rig
    await service.login("a1")
    pbx.queue.put_nowait(HoldEntered("c1", "SIP/x-1", "cards", 0, None, {"credit_card": 4}, None))
    pbx.queue.put_nowait(OfferAnswered("c1"))
    pbx.queue.put_nowait(AgentHungUp("c1"))  # the dialplan's UserEvent comes before Hangup
    pbx.queue.put_nowait(ChannelGone("c1"))
    await settle(pbx)
    completed = [e for e in recorder.take() if e.kind == "call.completed"]
    assert [e.data["by"] for e in completed] == ["agent"]

"""The ACD's domain events: the pure builders, and the service publishing over the fake PBX."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from acd.agent_state import AgentState, AgentStatus
from acd.effects import AgentChanged, OfferCall, OverflowCall
from acd.model import AcdConfig, Agent, OverflowRule, OverflowTarget, Queue
from acd.pbx_events import (
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
from acd.publish import Stamp, agent_events, changes, eligible_queues, ivr_fields, ivr_path
from acd.service import AcdService
from cti.ami.messages import Event
from cti.events import (
    AcdResynced,
    AgentLoggedIn,
    AgentPaused,
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallFallback,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    DomainEvent,
)
from tests.fakes.acd import CONFIG, FakePbx, ManualTime, held, settle

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
        f"{e.kind.value}:{e.state}" if isinstance(e, AgentStateChanged) else e.kind.value
        for e in events
    ]


@pytest.fixture
async def rig(time: ManualTime) -> AsyncIterator[tuple[AcdService, FakePbx, Recorder]]:
    pbx, recorder = FakePbx(), Recorder()
    service = AcdService(CONFIG, pbx, clock=time.clock, scheduler=time, publish=recorder)
    await service.start()
    # The start-up resync found nothing: it says so, and no more.
    (resynced,) = recorder.take()
    assert isinstance(resynced, AcdResynced) and (resynced.calls, resynced.agents) == ((), ())
    yield service, pbx, recorder
    await service.stop()


# --- the pure mapping ------------------------------------------------------------------------


def test_agent_events_name_each_change_and_skip_non_changes() -> None:
    out = AgentStatus("a1")
    available = AgentStatus("a1", AgentState.AVAILABLE, device="PJSIP/1")
    lunch = AgentStatus("a1", AgentState.PAUSED, device="PJSIP/1", pause_reason="lunch")
    login = agent_events("a1", None, available, AT, queues=("cards", "loans"))
    assert kinds(login) == ["agent.logged_in", "agent.state:available"]
    assert login[0] == AgentLoggedIn(
        agent_id="a1", device="PJSIP/1", queues=("cards", "loans"), ts=AT.ts, mono=AT.mono
    )
    paused = agent_events("a1", available, lunch, AT)
    assert kinds(paused) == ["agent.paused", "agent.state:paused"]
    assert paused == [
        AgentPaused(agent_id="a1", reason="lunch", ts=AT.ts, mono=AT.mono),
        AgentStateChanged(agent_id="a1", state="paused", reason="lunch", ts=AT.ts, mono=AT.mono),
    ]
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


def test_every_step_is_seen_and_offers_come_before_reserved() -> None:
    on_call = AgentStatus("a1", AgentState.ON_CALL, device="PJSIP/1")
    # A call ends with no wrap-up time and the next call is offered, all in one input.
    steps: list[AgentChanged] = []
    before = on_call
    for state in (AgentState.WRAP_UP, AgentState.AVAILABLE, AgentState.RESERVED):
        after = AgentStatus("a1", state, device="PJSIP/1")
        steps.append(AgentChanged("a1", before, after))
        before = after
    offer = OfferCall("c2", "a1", "PJSIP/1", "cards", 15.0, 7)
    overflow = OverflowCall("c9", "cards", OverflowTarget(kind="voicemail", name="100"), "ewt", 3.5)
    events = changes([offer, overflow, *steps], AT, {"a1": ("cards",)})
    assert kinds(events) == [
        "call.overflowed",
        "agent.state:wrap_up",
        "agent.state:available",
        "call.offered",
        "agent.state:reserved",
    ]
    assert events[0] == CallOverflowed(
        call_id="c9", queue="cards", target="100", target_kind="voicemail", reason="ewt",
        wait_s=3.5, ts=AT.ts, mono=AT.mono,
    )  # fmt: skip
    assert events[3] == CallOffered(
        call_id="c2", queue="cards", agent_id="a1", decision=7, device="PJSIP/1",
        ring_timeout_s=15.0, ts=AT.ts, mono=AT.mono,
    )  # fmt: skip
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
    assert ivr_fields(hold) == {
        "account": "12**",
        "card_number": "4111********1111",
        "empty": "",
    }
    assert ivr_path(hold) == ("welcome", "lang", "main", "cards")
    assert (ivr_fields(held("c1")), ivr_path(held("c1"))) == ({}, None)


def test_eligible_queues_are_those_whose_skills_the_agent_meets() -> None:
    config = AcdConfig(
        queues=(
            Queue(id="cards", skills={"credit_card": 3}),
            Queue(id="loans", skills={"loan": 1}),
        ),
        agents=(Agent(id="a1", skills={"credit_card": 5}), Agent(id="a2", skills={"loan": 2})),
    )
    assert eligible_queues(config) == {"a1": ("cards",), "a2": ("loans",)}


# --- the service -----------------------------------------------------------------------------


async def test_a_call_s_whole_life(
    rig: tuple[AcdService, FakePbx, Recorder], time: ManualTime
) -> None:
    service, pbx, recorder = rig
    await service.login("a1")
    login = recorder.take()
    assert kinds(login) == ["agent.logged_in", "agent.state:available"]
    assert login[0] == AgentLoggedIn(
        agent_id="a1", device="Local/agent1@test-agents/n", queues=("cards",),
        ts=login[0].ts, mono=login[0].mono,
    )  # fmt: skip

    pbx.queue.put_nowait(HoldEntered("c1", "SIP/x-1", "cards", 50, None, {"credit_card": 4}, None))
    await settle(pbx)
    queued, offered, reserved = recorder.take()
    assert kinds([queued, offered, reserved]) == [
        "call.queued",
        "call.offered",
        "agent.state:reserved",
    ]
    assert queued == CallQueued(
        call_id="c1", queue="cards", skills={"credit_card": 4}, priority=50, vip=True,
        ewt_s=0.0, position=1, ts=queued.ts, mono=queued.mono,
    )  # fmt: skip
    assert isinstance(offered, CallOffered) and offered.agent_id == "a1"
    assert offered.device == "Local/agent1@test-agents/n"

    time.advance(2.5)  # the agent's phone rings 2.5 s
    pbx.queue.put_nowait(OfferAnswered("c1", "1700000000.77"))
    await settle(pbx)
    answered, on_call = recorder.take()
    assert kinds([answered, on_call]) == ["call.answered", "agent.state:on_call"]
    assert isinstance(answered, CallAnswered)
    assert (answered.agent_id, answered.wait_s, answered.ring_s) == ("a1", 2.5, 2.5)
    assert answered.agent_channel_id == "1700000000.77"  # queue_log's bridged uniqueid
    assert answered.predicted_wait_s == 0.0 and not answered.taken_over

    time.advance(30)
    pbx.queue.put_nowait(ChannelGone("c1"))
    await settle(pbx)
    completed, ended, wrap_up = recorder.take()
    assert kinds([completed, ended, wrap_up]) == [
        "call.completed",
        "call.ended",
        "agent.state:wrap_up",
    ]
    assert isinstance(completed, CallCompleted)
    assert (completed.agent_id, completed.by, completed.talk_s) == ("a1", "caller", 30.0)

    time.advance(0.05)  # a1's wrap-up (50 ms) ends
    await settle(pbx)
    assert kinds(recorder.take()) == ["agent.state:available"]
    assert service.agent("a1").state is AgentState.AVAILABLE


async def test_no_answer_pauses_the_agent_and_offers_to_the_next(
    rig: tuple[AcdService, FakePbx, Recorder], time: ManualTime
) -> None:
    service, pbx, recorder = rig
    await service.login("a2")  # idle longest; paused after one miss
    time.advance(1)
    await service.login("a1")
    pbx.queue.put_nowait(held("c1"))
    await settle(pbx)
    recorder.take()
    time.advance(5)
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
    assert isinstance(missed, CallRingNoAnswer)
    assert (missed.call_id, missed.agent_id, missed.reason, missed.ring_s) == (
        "c1", "a2", "noanswer", 5.0,
    )  # fmt: skip
    assert isinstance(events[1], AgentPaused) and events[1].reason == "no-answer"
    assert events[3].agent_id == events[4].agent_id == "a1"


async def test_abandon_while_waiting_and_while_ringing(
    rig: tuple[AcdService, FakePbx, Recorder], time: ManualTime
) -> None:
    service, pbx, recorder = rig
    pbx.queue.put_nowait(held("c1"))
    await settle(pbx)
    time.advance(7)
    pbx.queue.put_nowait(ChannelGone("c1"))
    await settle(pbx)
    queued, abandoned, ended = recorder.take()
    assert kinds([queued, abandoned, ended]) == ["call.queued", "call.abandoned", "call.ended"]
    assert isinstance(queued, CallQueued) and (queued.position, queued.vip) == (1, False)
    assert isinstance(abandoned, CallAbandoned)
    assert (abandoned.agent_id, abandoned.wait_s) == (None, 7.0)

    await service.login("a1")
    pbx.queue.put_nowait(held("c2"))
    await settle(pbx)
    recorder.take()
    pbx.queue.put_nowait(ChannelGone("c2"))
    await settle(pbx)
    events = recorder.take()
    assert kinds(events) == ["call.abandoned", "call.ended", "agent.state:available"]
    assert events[0].agent_id == "a1"


async def test_hold_timeout_is_a_fallback(
    rig: tuple[AcdService, FakePbx, Recorder], time: ManualTime
) -> None:
    _, pbx, recorder = rig
    pbx.queue.put_nowait(held("c1"))
    await settle(pbx)
    time.advance(600)
    pbx.queue.put_nowait(HoldTimedOut("c1"))
    await settle(pbx)
    events = recorder.take()
    assert kinds(events) == ["call.queued", "call.fallback"]
    fallback = events[1]
    assert isinstance(fallback, CallFallback)
    assert (fallback.reason, fallback.wait_s) == ("hold-timeout", 600.0)


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


async def test_a_failing_publisher_never_stops_routing(time: ManualTime) -> None:
    pbx = FakePbx()
    calls = 0

    def broken(event: DomainEvent) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("consumer down")

    service = AcdService(CONFIG, pbx, clock=time.clock, scheduler=time, publish=broken)
    await service.start()
    try:
        await service.login("a1")
        for event in (held("c1"), OfferAnswered("c1"), ChannelGone("c1"), held("c2")):
            pbx.queue.put_nowait(event)
        await settle(pbx)
        time.advance(0.05)  # wrap-up ends: c2 is offered to a1
        await settle(pbx)
        assert pbx.connects == [("c1", "a1"), ("c2", "a1")]
        assert calls > 5
    finally:
        await service.stop()


async def test_resync_publishes_every_agent_and_the_calls_rebuilt(time: ManualTime) -> None:
    pbx, recorder = FakePbx(), Recorder()
    pbx.snapshot_value = PbxSnapshot(
        held=[held("c1")],
        agents=[SavedAgent("a2", "Local/agent2@test-agents/n", "lunch")],
    )
    service = AcdService(CONFIG, pbx, clock=time.clock, scheduler=time, publish=recorder)
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
        assert isinstance(events[0], CallQueued) and events[0].resync
        assert events[0].call_id == "c1"
        # Last, what the ACD holds now: consumers drop whatever else they had.
        last = events[-1]
        assert isinstance(last, AcdResynced) and (last.calls, last.agents) == (("c1",), ("a2",))
        await service.login("a1")
        recorder.take()
        await service.resync()  # a reconnect: nothing changed, every agent's state again
        events = recorder.take()
        assert kinds(events) == ["call.queued", "agent.state:reserved", "agent.state:paused",
                                 "call.offered", "acd.resynced"]  # fmt: skip
        assert isinstance(events[0], CallQueued) and events[0].resync
        last = events[-1]
        assert isinstance(last, AcdResynced) and (last.calls, last.agents) == (
            ("c1",), ("a1", "a2"),
        )  # fmt: skip
    finally:
        await service.stop()


async def test_without_a_publisher_nothing_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    import acd.publisher

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("built an event")

    monkeypatch.setattr(acd.publisher, "changes", fail)
    monkeypatch.setattr(acd.publisher, "call_queued", fail)
    monkeypatch.setattr(acd.publisher, "record_queued", fail)
    pbx = FakePbx()
    service = AcdService(CONFIG, pbx)
    await service.start()
    try:
        await service.login("a1")
        pbx.queue.put_nowait(held("c1"))
        await settle(pbx)
        assert pbx.connects == [("c1", "a1")]
        assert service.engine.calls["c1"].state == "offered"
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
        assert isinstance(events[0], CallQueued) and events[0].ewt_s is None
        overflowed = events[1]
        assert isinstance(overflowed, CallOverflowed)
        assert (overflowed.target, overflowed.target_kind, overflowed.reason) == (
            "loans", "queue", "ewt",
        )  # fmt: skip
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
    completed = [e for e in recorder.take() if isinstance(e, CallCompleted)]
    assert [e.by for e in completed] == ["agent"]

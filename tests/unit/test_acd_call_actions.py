"""The agent's actions on its connected call (acd/call_actions.py) over a fake PBX: what is
asked of Asterisk, the events published (hold time kept out of talk time), the agents' states,
and the refusals. The same flows run on the real Asterisk in
tests/integration/test_call_actions_e2e.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from time import time
from typing import Any, TypeVar

import pytest

from acd.agent_state import AgentState
from acd.clock import Clock
from acd.in_call import personal_skill
from acd.model import AcdConfig, Agent, Queue, RelaxationStep
from acd.pbx_events import (
    AgentHungUp,
    ChannelGone,
    ConnectingCall,
    ConsultEnded,
    HoldEntered,
    OfferAnswered,
    PbxSnapshot,
    SavedAgent,
    translate,
)
from acd.service import AcdService
from acd.transfer_rules import CONSULT_PAUSE, CallActionError
from cti.ami.call_control import AmiCallControl
from cti.ami.messages import Event
from cti.events import (
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallQueued,
    CallTransferred,
    CallUnheld,
    DomainEvent,
)
from tests.fakes.acd import FakePbx, settle
from tests.fakes.ami import ScriptedAmi, error
from tests.fakes.clock import Ticking

E = TypeVar("E", bound=DomainEvent)


CONFIG = AcdConfig(
    queues=(
        Queue(
            id="cards",
            skills={"credit_card": 3},
            ring_timeout_s=5,
            relaxation=(RelaxationStep(after_s=30, also_queues=("loans",)),),
        ),
        Queue(id="loans", skills={"loans": 1}, ring_timeout_s=5),
    ),
    agents=(
        Agent(id="a1", device="Local/agent1@test-agents/n", skills={"credit_card": 5}),
        Agent(id="a2", device="Local/agent2@test-agents/n", skills={"loans": 2}),
        Agent(id="a3", device="Local/agent3@test-agents/n", skills={"credit_card": 4}),
        Agent(id="a4", device="Local/agent4@test-agents/n", skills={"loans": 1}),
    ),
)
AGENT_CHANNEL = "Local/agent1@test-agents-1;1"


@dataclass
class Rig:
    service: AcdService
    pbx: FakePbx
    clock: Ticking
    published: list[DomainEvent]

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self.published if e.kind.value.startswith("call.")]

    def last(self, kind: type[E]) -> E:
        return [e for e in self.published if isinstance(e, kind)][-1]

    def last_action(self) -> tuple[Any, ...]:
        return self.pbx.actions[-1]

    async def feed(self, *events: Any) -> None:
        for event in events:
            self.pbx.queue.put_nowait(event)
        await settle(self.pbx)


def held(call_id: str, queue: str = "cards", skills: dict[str, int] | None = None) -> HoldEntered:
    return HoldEntered(call_id, f"Local/{call_id};2", queue, 0, None, skills or {}, None)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    pbx = FakePbx()
    clock = Ticking()
    published: list[DomainEvent] = []
    service = AcdService(CONFIG, pbx, clock=Clock(monotonic=clock), publish=published.append)
    await service.start()
    rig = Rig(service, pbx, clock, published)
    yield rig
    await service.stop()


async def connected(rig: Rig, call_id: str = "c1", agent: str = "a1") -> None:
    await rig.service.login(agent)
    await rig.feed(held(call_id), OfferAnswered(call_id))
    assert rig.service.engine.calls[call_id].state == "connected"


async def test_hold_then_unhold_publishes_the_span_and_talk_time_leaves_it_out(rig: Rig) -> None:
    await connected(rig)
    assert set(rig.pbx.answered_at) == {"c1"}  # kept on the channel for a restart
    rig.clock.t += 10
    await rig.service.calls.hold("c1")
    assert rig.pbx.actions == [("hold", "c1", AGENT_CHANNEL)]
    rig.clock.t += 30
    await rig.service.calls.unhold("c1")
    assert rig.last_action() == ("resume", "c1", AGENT_CHANNEL)
    assert rig.last(CallUnheld).hold_s == 30
    rig.clock.t += 5
    await rig.feed(AgentHungUp("c1"), ChannelGone("c1", "Local/c1;2"))
    completed = rig.last(CallCompleted)
    assert (completed.by, completed.talk_s) == ("agent", 15)  # 45 s - 30 held
    assert rig.kinds()[-4:] == ["call.held", "call.unheld", "call.completed", "call.ended"]
    assert rig.service.agent("a1").state is AgentState.WRAP_UP


async def test_hold_is_refused_before_answer_and_twice(rig: Rig) -> None:
    await rig.service.login("a1")
    await rig.feed(held("c1"))
    with pytest.raises(CallActionError, match="not connected"):
        await rig.service.calls.hold("c1")
    with pytest.raises(CallActionError) as unknown:
        await rig.service.calls.hold("nope")
    assert unknown.value.not_found
    await rig.feed(OfferAnswered("c1"))
    await rig.service.calls.hold("c1")
    with pytest.raises(CallActionError, match="already on hold"):
        await rig.service.calls.hold("c1")
    assert rig.pbx.actions == [("hold", "c1", AGENT_CHANNEL)]


async def test_unhold_of_a_call_not_on_hold_is_refused(rig: Rig) -> None:
    await connected(rig)
    with pytest.raises(CallActionError, match="not on hold"):
        await rig.service.calls.unhold("c1")
    assert rig.pbx.actions == []


async def test_a_pbx_failure_leaves_the_call_as_it_was(rig: Rig) -> None:
    await connected(rig)
    rig.pbx.fail.add("hold")
    with pytest.raises(CallActionError, match="PBX refused"):
        await rig.service.calls.hold("c1")
    assert "c1" not in rig.service.calls._in_call.held
    assert not any(isinstance(e, CallHeld) for e in rig.published)
    rig.pbx.peer = None  # not bridged (e.g. the agent's phone still settling)
    rig.pbx.fail.clear()
    with pytest.raises(CallActionError, match="not talking"):
        await rig.service.calls.hold("c1")


async def test_caller_hangs_up_on_hold_the_agent_channel_is_hung_up(rig: Rig) -> None:
    await connected(rig)
    await rig.service.calls.hold("c1")
    rig.clock.t += 20
    await rig.feed(ChannelGone("c1", "Local/c1;2"))
    assert ("hangup", AGENT_CHANNEL) in rig.pbx.actions
    assert rig.last(CallUnheld).hold_s == 20
    assert rig.last(CallCompleted).by == "caller"
    assert rig.last(CallCompleted).talk_s == 0
    # The agent channel's own Hangup that follows is not mistaken for anything.
    await rig.feed(ChannelGone("1.99", AGENT_CHANNEL))
    assert rig.service.agent("a1").state is AgentState.WRAP_UP


async def test_agent_hangs_up_on_hold_the_caller_is_hung_up_and_it_ended_by_agent(
    rig: Rig,
) -> None:
    await connected(rig)
    await rig.service.calls.hold("c1")
    await rig.feed(ChannelGone("1.99", AGENT_CHANNEL))
    assert rig.last_action() == ("hangup", "c1")
    await rig.feed(ChannelGone("c1", "Local/c1;2"))
    assert rig.last(CallCompleted).by == "agent"


async def test_blind_transfer_to_a_queue_requeues_as_a_new_leg(rig: Rig) -> None:
    await connected(rig)
    await rig.service.login("a2")
    rig.clock.t += 60
    await rig.service.calls.transfer("c1", "queue", "loans")
    action, call_id, variables = rig.last_action()
    assert (action, call_id) == ("requeue", "c1")
    assert variables["HOTLINE_QUEUE"] == "loans"
    assert variables["HOTLINE_ACD_ENQUEUED"] == ""  # a new place in line
    assert rig.service.engine.calls["c1"].state == "connected"  # until it reaches the hold
    await rig.feed(held("c1", "loans"))
    transferred = rig.last(CallTransferred)
    assert (transferred.queue, transferred.target_kind, transferred.target) == (
        "cards", "queue", "loans",
    )  # fmt: skip
    assert transferred.context == "hotline-acd-hold"  # where Asterisk sent the caller
    completed = rig.last(CallCompleted)
    assert (completed.by, completed.talk_s) == ("transfer", 60)
    assert rig.last(CallQueued).queue == "loans"
    assert rig.service.agent("a1").state is AgentState.WRAP_UP
    assert rig.service.engine.calls["c1"].agent_id == "a2"  # offered to the loans agent
    assert rig.pbx.connects[-1] == ("c1", "a2")


async def test_transfer_to_a_logged_out_agent_or_unknown_target_is_refused(rig: Rig) -> None:
    await connected(rig)
    with pytest.raises(CallActionError, match="not logged in"):
        await rig.service.calls.transfer("c1", "agent", "a3")
    with pytest.raises(CallActionError) as missing:
        await rig.service.calls.transfer("c1", "queue", "nope")
    assert missing.value.not_found
    with pytest.raises(CallActionError) as missing:
        await rig.service.calls.transfer("c1", "agent", "zz")
    assert missing.value.not_found
    with pytest.raises(CallActionError, match="already with this agent"):
        await rig.service.calls.transfer("c1", "agent", "a1")
    for bad in ("2000@other-context", "1&PJSIP/9", "1,t", "../x", ""):
        with pytest.raises(CallActionError, match="not a number"):
            await rig.service.calls.transfer("c1", "number", bad, attended=bad.startswith("1"))
    with pytest.raises(CallActionError, match="no agent of queue 'loans' is free"):
        await rig.service.calls.transfer("c1", "queue", "loans", attended=True)
    assert rig.pbx.actions == []


async def test_a_call_transferred_to_an_agent_is_not_offered_to_another(rig: Rig) -> None:
    await connected(rig)
    await rig.service.login("a3")
    await rig.service.pause("a3", "break")
    await rig.service.calls.transfer("c1", "agent", "a3")
    variables = rig.last_action()[2]
    assert variables["HOTLINE_SKILLS"] == f"{personal_skill('a3')}:1"
    assert variables["HOTLINE_QUEUE"] == "cards"  # the call's queue: a3 serves it
    await rig.service.login("a4")  # free; the relaxation lets loans agents in: not this call
    await rig.feed(held("c1", variables["HOTLINE_QUEUE"], {personal_skill("a3"): 1}))
    rig.clock.t += 3600  # long past any relaxation step
    await rig.feed(held("c9"))  # any input runs the engine's due timers
    assert rig.service.engine.calls["c1"].state == "waiting"
    assert ("c1", "a4") not in rig.pbx.connects
    await rig.service.unpause("a3")
    await settle(rig.pbx)
    assert rig.pbx.connects[-1] == ("c1", "a3")


async def test_blind_transfer_to_a_number_ends_the_agents_part_at_once(rig: Rig) -> None:
    await connected(rig)
    await rig.service.calls.hold("c1")
    rig.clock.t += 4
    await rig.service.calls.transfer("c1", "number", "95555")
    await settle(rig.pbx)
    assert ("number", "c1", "hotline-transfer", "95555") in rig.pbx.actions
    assert ("hangup", AGENT_CHANNEL) in rig.pbx.actions  # it waited alone on hold
    transferred = rig.last(CallTransferred)
    assert (transferred.target_kind, transferred.target, transferred.context) == (
        "number", "95555", "hotline-transfer",
    )  # fmt: skip
    assert rig.last(CallUnheld).hold_s == 4
    assert "c1" not in rig.service.engine.calls
    # Its later hang-up (wherever the number took it) and the agent channel's change nothing.
    await rig.feed(ChannelGone("1.99", AGENT_CHANNEL), ChannelGone("c1", "Local/c1;2"))
    assert rig.kinds().count("call.completed") == 1


async def test_attended_transfer_to_an_agent_consult_then_complete(rig: Rig) -> None:
    await connected(rig)
    await rig.service.login("a3")
    await rig.service.calls.transfer("c1", "agent", "a3", attended=True)
    assert rig.pbx.actions[:2] == [
        ("hold", "c1", AGENT_CHANNEL),
        ("consult", "c1", AGENT_CHANNEL, "Local/agent3@test-agents/n"),
    ]
    status = rig.service.agent("a3")
    assert (status.state, status.pause_reason) == (AgentState.PAUSED, CONSULT_PAUSE)
    with pytest.raises(CallActionError, match="consultation"):
        await rig.service.calls.unhold("c1")
    await rig.service.calls.complete_transfer("c1")
    assert rig.last_action() == ("hand_over", "c1", AGENT_CHANNEL)
    transferred = rig.last(CallTransferred)
    assert (transferred.target, transferred.attended) == ("a3", True)
    assert rig.service.agent("a1").state is AgentState.WRAP_UP
    # The hand-over hangs the agent's channel up: that is not the agent ending anything.
    await rig.feed(ChannelGone("1.99", AGENT_CHANNEL))
    # a3 has the caller now: on call with it, and may hold it in turn.
    assert rig.service.agent("a3").state is AgentState.ON_CALL
    assert rig.service.engine.calls["c1"].agent_id == "a3"
    await rig.service.calls.hold("c1")
    taken = rig.last(CallAnswered)
    assert (taken.agent_id, taken.taken_over, taken.wait_s) == ("a3", True, 0)
    rig.clock.t += 30
    await rig.feed(ChannelGone("c1", "Local/c1;2"))  # that call ends
    assert rig.service.agent("a3").state in (AgentState.WRAP_UP, AgentState.AVAILABLE)
    completed = rig.last(CallCompleted)
    assert (completed.agent_id, completed.by) == ("a3", "caller")
    assert rig.kinds()[-1] == "call.ended"


async def test_attended_transfer_cancel_goes_back_to_the_caller(rig: Rig) -> None:
    await connected(rig)
    await rig.service.calls.transfer("c1", "number", "2000", attended=True)
    assert rig.last_action() == ("consult", "c1", AGENT_CHANNEL, "Local/2000@hotline-transfer")
    await rig.service.calls.cancel_transfer("c1")
    assert rig.last_action() == ("resume", "c1", AGENT_CHANNEL)
    assert "c1" not in rig.service.calls._in_call.held
    with pytest.raises(CallActionError, match="no attended transfer"):
        await rig.service.calls.complete_transfer("c1")


async def test_consulted_party_hanging_up_leaves_the_caller_on_hold(rig: Rig) -> None:
    await connected(rig)
    await rig.service.login("a3")
    await rig.service.calls.transfer("c1", "agent", "a3", attended=True)
    await rig.feed(ConsultEnded("c1", "ANSWER", AGENT_CHANNEL))
    assert rig.service.calls._in_call.held["c1"].consult is None
    assert rig.service.agent("a3").state is AgentState.AVAILABLE
    await rig.service.calls.unhold("c1")
    assert rig.last_action() == ("resume", "c1", AGENT_CHANNEL)


async def test_consulting_an_unavailable_agent_is_refused_and_nothing_moves(rig: Rig) -> None:
    await connected(rig)
    with pytest.raises(CallActionError, match="not available"):
        await rig.service.calls.transfer("c1", "agent", "a2", attended=True)
    assert rig.pbx.actions == []


def test_ami_events_of_the_in_call_contexts_translate() -> None:
    ended = translate(
        Event.from_pairs(
            [
                ("Event", "UserEvent"),
                ("UserEvent", "HotlineAcdConsultEnded"),
                ("Channel", AGENT_CHANNEL),
                ("Uniqueid", "1.99"),
                ("CallId", "1.5"),
                ("DialStatus", "NOANSWER"),
            ]
        )
    )
    assert ended == ConsultEnded("1.5", "NOANSWER", AGENT_CHANNEL)
    gone = translate(
        Event.from_pairs([("Event", "Hangup"), ("Channel", AGENT_CHANNEL), ("Uniqueid", "1.99")])
    )
    assert gone == ChannelGone("1.99", AGENT_CHANNEL)


async def test_the_api_adapter_maps_refusals_to_404_and_409(rig: Rig) -> None:
    from hotline.api.ports import ControlRejected, UnknownTarget
    from hotline.controls import AcdCallControl

    ami = ScriptedAmi(
        lambda name, f: error("No such channel") if f.get("Channel") == "nope" else None
    )
    control = AcdCallControl(AmiCallControl(ami), rig.service)
    with pytest.raises(UnknownTarget):
        await control.hangup("nope")
    await control.hangup("c7")
    assert ami.actions[-1] == ("Hangup", {"Channel": "c7"})
    with pytest.raises(UnknownTarget):
        await control.hold("nope")
    await connected(rig)
    with pytest.raises(ControlRejected, match="not on hold"):
        await control.unhold("c1")
    with pytest.raises(UnknownTarget, match="no queue"):
        await control.transfer("c1", "queue", "nope", attended=False)
    await control.hold("c1")
    assert rig.pbx.actions == [("hold", "c1", AGENT_CHANNEL)]


async def test_a_restart_finds_a_call_talking_and_one_on_hold_back_on_call() -> None:
    pbx = FakePbx()
    clock = Ticking()
    published: list[DomainEvent] = []
    pbx.snapshot_value = PbxSnapshot(
        connecting=[
            # answered 100 s before the restart, as its channel says
            ConnectingCall("talking", "a1", True, "cards", 0, None, answered_epoch=time() - 100),
            ConnectingCall("held", "a3", True, "cards", 0, None, on_hold_from="Local/a3;1"),
        ],
        agents=[SavedAgent("a1", "Local/agent1@test-agents/n"),
                SavedAgent("a3", "Local/agent3@test-agents/n")],
    )  # fmt: skip
    service = AcdService(CONFIG, pbx, clock=Clock(monotonic=clock), publish=published.append)
    await service.start()
    try:
        assert service.agent("a1").state is AgentState.ON_CALL  # not paused "resync-busy"
        assert service.engine.calls["talking"].state == "connected"
        await service.calls.unhold("held")  # the agent's channel was read from the caller's
        assert pbx.actions == [("resume", "held", "Local/a3;1")]
        await service.calls.hold("talking")
        clock.t += 12
        pbx.queue.put_nowait(ChannelGone("talking", "Local/talking;2"))
        await settle(pbx)
        completed = [e for e in published if isinstance(e, CallCompleted)][-1]
        # 100 s talked before the restart, then 12 s on hold after it
        assert completed.call_id == "talking"
        assert completed.talk_s == pytest.approx(100, abs=0.5)
        assert service.agent("a1").state is AgentState.WRAP_UP
    finally:
        await service.stop()


async def test_an_ami_reconnect_keeps_the_talk_time_of_a_connected_call(rig: Rig) -> None:
    await connected(rig)
    rig.clock.t += 40
    rig.pbx.snapshot_value = PbxSnapshot(
        connecting=[ConnectingCall("c1", "a1", True, "cards", 0, None)],
        agents=[SavedAgent("a1", "Local/agent1@test-agents/n")],
    )
    await rig.service.resync()
    assert rig.service.agent("a1").state is AgentState.ON_CALL
    rig.clock.t += 5
    await rig.feed(AgentHungUp("c1"), ChannelGone("c1", "Local/c1;2"))
    assert rig.last(CallCompleted).talk_s == 45
    assert any(isinstance(e, CallEnded) for e in rig.published)


async def test_attended_transfer_to_a_queue_consults_its_longest_free_agent(rig: Rig) -> None:
    await connected(rig)
    await rig.service.login("a4")  # loans
    rig.clock.t += 5
    await rig.service.login("a2")  # loans, free for less time
    await rig.service.calls.transfer("c1", "queue", "loans", attended=True)
    assert rig.last_action() == ("consult", "c1", AGENT_CHANNEL, "Local/agent4@test-agents/n")
    assert rig.service.agent("a4").pause_reason == CONSULT_PAUSE
    await rig.service.calls.complete_transfer("c1")
    transferred = rig.last(CallTransferred)
    assert (transferred.target_kind, transferred.target) == ("queue", "loans")
    assert rig.service.agent("a4").state is AgentState.ON_CALL
    assert rig.service.engine.calls["c1"].agent_id == "a4"


async def test_a_second_action_while_the_first_waits_for_asterisk_is_refused(rig: Rig) -> None:
    await connected(rig)
    rig.pbx.gate = asyncio.Event()
    first = asyncio.create_task(rig.service.calls.hold("c1"))
    await settle(rig.pbx)
    with pytest.raises(CallActionError, match="in progress"):
        await rig.service.calls.hold("c1")
    with pytest.raises(CallActionError, match="in progress"):
        await rig.service.calls.transfer("c1", "queue", "loans")
    rig.pbx.gate.set()
    await first
    assert rig.pbx.actions == [("hold", "c1", AGENT_CHANNEL)]
    await rig.service.calls.unhold("c1")  # free again once the first is done

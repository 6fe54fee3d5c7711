"""The ACD driving the real Asterisk 22: Local-channel callers on hold (``hotline-acd-test``
skips the IVR and writes what it would have written), Local-channel agents that answer after
``AGENT<n>_RING`` seconds and talk ``AGENT<n>_TALK`` seconds.

Each test builds its own ACD configuration with queue ids of its own (the test PBX is shared:
another suite's calls are refused as unknown queues and left to the dialplan's safety net).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from acd.agent_state import AgentState
from acd.model import AcdConfig, OverflowRule, OverflowTarget, Queue
from acd.service import AcdService
from cti.agi.server import AgiServer
from cti.agi.session import AgiSession
from cti.ami.client import AmiClient
from cti.settings import AgiSettings
from hotline.acd.announce import announce_handler
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

AGENTS = range(1, 7)


@dataclass
class Rig(AcdRig):
    async def service(self, acd_config: AcdConfig) -> AcdService:
        acd = AcdService(acd_config, ami_acd_pbx(self.ami, agent_family=self.family))
        await acd.start()
        return acd


@pytest.fixture
async def rig(pbx: PbxUnderTest) -> AsyncIterator[Rig]:
    async with acd_rig(pbx, Rig, "e2e", AGENTS) as rig:
        yield rig


async def test_skills_and_levels_are_respected(rig: Rig) -> None:
    queue = Queue(id=rig.queue("cards"), skills={"credit_card": 5}, prior_handle_s=2)
    acd = await rig.service(
        config(
            [queue],
            [
                agent_def(1, {"credit_card": 3, "language_en": 10}),  # level too low
                agent_def(2, {"credit_card": 7}),  # no English
                agent_def(3, {"credit_card": 6, "language_en": 5}),
            ],
        )
    )
    await set_agent(rig.ami, 3, talk=1)
    try:
        async with CallWatch(rig.ami) as watch:
            for agent in ("agent1", "agent2", "agent3"):
                await acd.login(agent)
            first, second = rig.name("en1"), rig.name("en2")
            await place_call(rig.ami, first, queue.id, language="en")
            await watch.wait_held(first)
            await place_call(rig.ami, second, queue.id, skills="credit_card:6", language="en")
            await watch.wait_offers(2)
            assert watch.offered() == [(first, "agent3"), (second, "agent3")]
            assert acd.agent("agent1").state is AgentState.AVAILABLE
            assert acd.agent("agent2").state is AgentState.AVAILABLE
    finally:
        await acd.stop()


async def test_vip_first_then_arrival_order(rig: Rig) -> None:
    queue = Queue(id=rig.queue("basic"), skills={"basic_banking": 1}, prior_handle_s=2)
    acd = await rig.service(config([queue], [agent_def(4, {"basic_banking": 5})]))
    await set_agent(rig.ami, 4, talk=0.3)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent4")
            await acd.pause("agent4", "meeting")
            callers = [rig.name(n) for n in ("a", "b", "vip", "c")]
            for caller in callers:
                vip = caller.startswith("vip")
                await place_call(rig.ami, caller, queue.id, priority=50 if vip else 0)
                await watch.wait_held(caller)
            await acd.unpause("agent4")
            await watch.wait_offers(4, within_s=20)
            order = [caller for caller, _ in watch.offered()]
            assert order == [callers[2], callers[0], callers[1], callers[3]]
    finally:
        await acd.stop()


async def test_oldest_first_across_queues(rig: Rig) -> None:
    cards = Queue(id=rig.queue("cards"), skills={"credit_card": 1}, prior_handle_s=2)
    loans = Queue(id=rig.queue("loans"), skills={"mortgage": 1}, prior_handle_s=2)
    acd = await rig.service(
        config([cards, loans], [agent_def(5, {"credit_card": 5, "mortgage": 5})])
    )
    await set_agent(rig.ami, 5, talk=0.3)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent5")
            await acd.pause("agent5")
            plan = [("l-old", loans), ("c-mid", cards), ("l-new", loans), ("c-new", cards)]
            for caller, queue in plan:
                await place_call(rig.ami, rig.name(caller), queue.id)
                await watch.wait_held(rig.name(caller))
            await acd.unpause("agent5")
            await watch.wait_offers(4, within_s=20)
            assert [c for c, _ in watch.offered()] == [rig.name(c) for c, _ in plan]
    finally:
        await acd.stop()


async def test_no_answer_pauses_the_agent_and_reoffers_in_place(rig: Rig) -> None:
    queue = Queue(id=rig.queue("basic"), skills={"basic_banking": 1}, ring_timeout_s=3)
    acd = await rig.service(
        config(
            [queue],
            [agent_def(1, {"basic_banking": 5}, limit=1), agent_def(2, {"basic_banking": 5})],
        )
    )
    await set_agent(rig.ami, 1, ring=20)  # never answers within the ring timeout
    await set_agent(rig.ami, 2, talk=1)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent1")  # idle longest: offered first
            await acd.login("agent2")
            await acd.pause("agent2")
            caller = rig.name("na")
            await place_call(rig.ami, caller, queue.id)
            await watch.wait_offers(1)
            call_id = watch.call_ids[caller]
            enqueued = acd.engine.calls[call_id].entry.enqueued_at
            await acd.unpause("agent2")
            await watch.wait_offers(2, within_s=10)
            assert watch.offered() == [(caller, "agent1"), (caller, "agent2")]
            assert acd.agent("agent1").state is AgentState.PAUSED
            assert acd.agent("agent1").pause_reason == "no-answer"
            assert watch.user_events("HotlineAcdNoAnswer", caller)
            record = acd.engine.calls[call_id]
            assert record.entry.enqueued_at == enqueued  # its place in line, not a new one
    finally:
        await acd.stop()


async def test_abandon_while_waiting(rig: Rig) -> None:
    queue = Queue(id=rig.queue("basic"), skills={"basic_banking": 1})
    acd = await rig.service(config([queue], [agent_def(1, {"basic_banking": 5})]))
    try:
        async with CallWatch(rig.ami) as watch:
            caller = rig.name("ab")
            await place_call(rig.ami, caller, queue.id, stay_s=1.5)  # hangs up after 1.5 s
            await watch.wait_held(caller)
            call_id = watch.call_ids[caller]
            assert call_id in acd.engine.calls
            await watch.until(lambda: call_id not in acd.engine.calls, within_s=8)
            await acd.login("agent1")
            await asyncio.sleep(0.3)
            assert watch.offers == []
    finally:
        await acd.stop()


async def test_wrap_up_is_honoured(rig: Rig) -> None:
    queue = Queue(id=rig.queue("basic"), skills={"basic_banking": 1})
    acd = await rig.service(config([queue], [agent_def(6, {"basic_banking": 5}, wrap_up_s=2)]))
    await set_agent(rig.ami, 6, talk=0.5)
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent6")
            first, second = rig.name("w1"), rig.name("w2")
            await place_call(rig.ami, first, queue.id)
            await watch.wait_held(first)
            await place_call(rig.ami, second, queue.id)
            await watch.wait_offers(2, within_s=12)
            hangups = [
                at for at, e in watch.user_events("TestAgentHangup") if e.get("Agent") == "agent6"
            ]
            gap = watch.offers[1].at - hangups[0]
            assert 1.9 <= gap <= 2.6, gap
    finally:
        await acd.stop()


async def test_restart_rebuilds_waiting_calls_and_agents(rig: Rig) -> None:
    queue = Queue(id=rig.queue("basic"), skills={"basic_banking": 1}, prior_handle_s=2)
    acd_config = config(
        [queue], [agent_def(1, {"basic_banking": 5}), agent_def(2, {"basic_banking": 5})]
    )
    await set_agent(rig.ami, 1, talk=0.3)
    first_run = await rig.service(acd_config)
    async with CallWatch(rig.ami) as watch:
        try:
            await first_run.login("agent2")
            await first_run.pause("agent2", "lunch")
            callers = [rig.name(n) for n in ("r1", "r2", "r3")]
            for caller in callers:
                await place_call(rig.ami, caller, queue.id)
                await watch.wait_held(caller)
            await first_run.flush()
            enqueued = {
                c: first_run.engine.calls[watch.call_ids[c]].entry.enqueued_at for c in callers
            }
        finally:
            await first_run.stop()
        # Hotline is down: callers stay on hold in Asterisk. A new process comes up.
        async with AmiClient(rig.pbx.ami_settings) as ami2:
            second_run = AcdService(acd_config, ami_acd_pbx(ami2, agent_family=rig.family))
            await second_run.start()
            try:
                assert second_run.agent("agent2").state is AgentState.PAUSED
                assert second_run.agent("agent2").pause_reason == "lunch"
                for caller in callers:
                    record = second_run.engine.calls[watch.call_ids[caller]]
                    assert record.entry.enqueued_at == pytest.approx(enqueued[caller], abs=0.05)
                await second_run.login("agent1")
                await watch.wait_offers(3, within_s=15)
                assert [c for c, _ in watch.offered()] == callers
            finally:
                await second_run.stop()


async def test_overflow_to_a_closed_message(rig: Rig) -> None:
    rule = OverflowRule(
        when="max_wait", threshold_s=1, target=OverflowTarget(kind="closed", name="after-hours")
    )
    queue = Queue(id=rig.queue("complaints"), skills={"complaints": 1}, overflow=(rule,))
    acd = await rig.service(config([queue], []))
    try:
        async with CallWatch(rig.ami) as watch:
            caller = rig.name("ov")
            await place_call(rig.ami, caller, queue.id)
            await watch.until(lambda: watch.user_events("HotlineAcdOverflow", caller), within_s=8)
            ((_, event),) = watch.user_events("HotlineAcdOverflow", caller)
            assert event.get("Kind") == "closed" and event.get("Target") == "after-hours"
    finally:
        await acd.stop()


async def test_native_queue_takes_callers_while_hotline_is_down(rig: Rig) -> None:
    async with CallWatch(rig.ami) as watch:
        caller = rig.name("down")
        await place_call(rig.ami, caller, "basic-banking", hold_timeout_s=2)
        await watch.wait_held(caller)
        joined = lambda: any(  # noqa: E731
            e.name == "QueueCallerJoin" and caller in (e.get("Channel") or "")
            for _, e in watch.events
        )
        try:
            await watch.until(joined, within_s=8)
        except TimeoutError:
            print(
                [(round(at, 2), e) for at, e in watch.events if caller in (e.get("Channel") or "")]
            )
            raise
        assert watch.user_events("HotlineAcdTimeout", caller)
        held_at = watch.held[caller]
        join_at = next(at for at, e in watch.events if e.name == "QueueCallerJoin")
        assert 1.5 <= join_at - held_at <= 3.5


async def test_announcements_over_fastagi_set_the_queue_s_pacing(rig: Rig) -> None:
    queue = Queue(id=rig.queue("cards"), skills={"credit_card": 1}, prior_handle_s=120)
    acd = await rig.service(config([queue], [agent_def(1, {"credit_card": 5})]))
    visits: list[str] = []
    visited = asyncio.Event()
    handler = announce_handler(acd)

    async def recording(session: AgiSession) -> None:
        visits.append(session.env.uniqueid)
        visited.set()
        await handler(session)

    # Our own FastAGI port: the dialplan's default (14573) belongs to other suites.
    server = AgiServer(AgiSettings(port=0, idle_timeout_s=10), {"acd-announce": recording})
    await server.start()
    try:
        async with CallWatch(rig.ami) as watch:
            await acd.login("agent1")
            await acd.pause("agent1")
            caller = rig.name("ann")
            agi = f"agi://127.0.0.1:{server.port}"
            await place_call(rig.ami, caller, queue.id, announce_agi=agi)
            await watch.wait_held(caller)
            await asyncio.wait_for(visited.wait(), 6)
            call_id = watch.call_ids[caller]
            assert visits[0] == call_id
            await asyncio.sleep(0.5)
            every = await rig.ami.action(
                "Getvar", Channel=call_id, Variable="HOTLINE_ANNOUNCE_EVERY"
            )
            assert every.get("Value") == "45"
    finally:
        await server.stop()
        await acd.stop()

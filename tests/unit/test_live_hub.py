"""The live hub: snapshots then numbered deltas, gap recovery, the screen pop on an agent's own
stream, and slow clients cut off without holding anyone else back."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from cti.events import (
    AgentLoggedIn,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    CallStarted,
    DomainBus,
    IvrEnded,
)
from cti.settings import LiveSettings
from hotline.live.hub import LiveClient, LiveHub, SlowClient
from hotline.live.model import QueueDefinition
from hotline.live.stats import LiveStats
from tests.fakes import loop


def make_hub(buffer: int = 64) -> LiveHub:
    stats = LiveStats(LiveSettings(), [QueueDefinition("cards"), QueueDefinition("loans")])
    return LiveHub(stats, client_buffer=buffer)


async def drain(client: LiveClient) -> list[dict[str, Any]]:
    if client.pending() == 0:
        return []
    return [json.loads(text) for text in await client.next_batch()]


async def test_snapshot_then_numbered_deltas() -> None:
    hub = make_hub()
    client = hub.connect()
    hub.subscribe(client, ["queue:cards"])
    [snapshot] = await drain(client)
    assert (snapshot["type"], snapshot["stream"], snapshot["seq"]) == ("snapshot", "queue:cards", 0)
    assert snapshot["data"]["waiting"] == 0
    assert snapshot["data"]["sl_formula"] == "answered_within_t_over_answered"

    hub.process(CallQueued(call_id="c1", queue="cards"))
    hub.process(CallQueued(call_id="c2", queue="loans"))  # not subscribed
    hub.flush()
    [delta] = await drain(client)
    assert (delta["type"], delta["seq"]) == ("delta", 1)
    assert delta["data"]["waiting"] == 1
    assert "agents" not in delta["data"]  # only what changed

    hub.process(CallAbandoned(call_id="c1", queue="cards", wait_s=30))
    hub.flush()
    [delta] = await drain(client)
    assert delta["seq"] == 2
    assert delta["data"]["waiting"] == 0
    assert delta["data"]["today"]["abandoned"] == 1


async def test_a_client_that_sees_a_gap_gets_a_fresh_snapshot() -> None:
    hub = make_hub()
    client = hub.connect()
    hub.subscribe(client, ["queue:cards"])
    await drain(client)
    for n in range(3):
        hub.process(CallQueued(call_id=f"c{n}", queue="cards"))
        hub.flush()
    messages = await drain(client)
    assert [m["seq"] for m in messages] == [1, 2, 3]
    # Pretend delta 2 was lost: the client's view is wrong, so it asks for the whole state.
    view = dict(messages[0]["data"])
    view.update(messages[2]["data"])
    hub.resend_snapshot(client, "queue:cards")
    [fresh] = await drain(client)
    assert (fresh["type"], fresh["seq"]) == ("snapshot", 3)
    assert fresh["data"]["waiting"] == 3
    hub.process(CallQueued(call_id="c9", queue="cards"))
    hub.flush()
    [delta] = await drain(client)
    assert delta["seq"] == 4  # continues from the snapshot's seq


async def test_the_agent_stream_pops_the_offered_call_masked() -> None:
    hub = make_hub()
    agent = hub.connect()
    other = hub.connect()
    hub.subscribe(agent, ["agent:1001"])
    hub.subscribe(other, ["agent:1002"])
    [snapshot] = await drain(agent)
    assert snapshot["data"] == {"agent": {"agent_id": "1001", "state": "logged_out"}, "call": None}
    await drain(other)

    hub.process(AgentLoggedIn(agent_id="1001", device="PJSIP/1001"))
    hub.process(
        CallStarted(
            call_id="c1", caller="13800138000", caller_name="Li Lei", hotline="95555",
            product="cards",
        )
    )  # fmt: skip
    hub.process(
        IvrEnded(call_id="c1", outcome="queue", path=("main", "cards", "lost"), language="zh")
    )
    hub.process(
        CallQueued(
            call_id="c1", queue="cards", vip=True,
            fields={"card": "4111111111111111", "reason": "lost"},
        )
    )  # fmt: skip
    hub.process(
        CallOffered(
            call_id="c1", queue="cards", agent_id="1001", decision=1, device="PJSIP/1001",
            ring_timeout_s=15,
        )
    )  # fmt: skip
    messages = await drain(agent)
    pop = messages[-1]["data"]
    assert pop["agent"]["state"] == "reserved"
    call = pop["call"]
    assert (call["caller"], call["caller_name"], call["hotline"], call["product"]) == (
        "13800138000",
        "Li Lei",
        "95555",
        "cards",
    )
    assert (call["language"], call["vip"], call["ivr_path"]) == ("zh", "yes", "main>cards>lost")
    assert call["fields"] == {"card": "************1111", "reason": "lost"}
    assert await drain(other) == []  # another agent's channel hears nothing

    # The caller hangs up during the call; wrap-up keeps the popped call for the disposition.
    hub.process(CallAnswered(call_id="c1", queue="cards", agent_id="1001"))
    hub.process(CallEnded(call_id="c1", queue="cards"))
    last = (await drain(agent))[-1]["data"]
    assert last["agent"]["state"] == "wrap_up"
    assert "call" not in last or last["call"]["call_id"] == "c1"
    assert hub.snapshot("agent:1001")["call"]["call_id"] == "c1"


async def test_wildcard_subscription_follows_new_queues() -> None:
    hub = make_hub()
    wallboard = hub.connect()
    hub.subscribe(wallboard, ["queue:*"])
    names = {m["stream"] for m in await drain(wallboard)}
    assert names == {"queue:cards", "queue:loans"}
    hub.process(CallQueued(call_id="c1", queue="mortgage"))
    hub.flush()
    [message] = await drain(wallboard)
    assert (message["stream"], message["type"]) == ("queue:mortgage", "snapshot")
    assert message["data"]["waiting"] == 1


async def test_a_slow_client_is_cut_off_and_others_get_everything() -> None:
    hub = make_hub(buffer=4)
    cut: list[bool] = []
    slow = hub.connect(on_cut_off=lambda: cut.append(True))
    fast = hub.connect()
    hub.subscribe(slow, ["calls"])
    hub.subscribe(fast, ["calls"])
    received: list[dict[str, Any]] = []
    for n in range(10):
        hub.process(CallStarted(call_id=f"c{n}"))
        received += await drain(fast)  # the fast one keeps up; the slow one never reads
    assert [m["seq"] for m in received] == list(range(0, 11))
    assert slow.cut_off and cut == [True]
    with pytest.raises(SlowClient):
        await slow.next_batch()
    hub.disconnect(slow)
    assert hub.cut_offs == 1
    assert slow not in hub.clients


async def test_run_consumes_the_bus_and_flushes() -> None:
    hub = make_hub()
    hub.publish_interval_s = 0  # the flush loop only yields: no time has to pass
    bus = DomainBus()
    client = hub.connect()
    hub.subscribe(client, ["queue:cards", "agents"])
    await drain(client)
    task = asyncio.create_task(hub.run(bus))
    await loop.until(hub.subscribed.is_set)
    bus.publish(AgentLoggedIn(agent_id="1001", queues=("cards",)))
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(1000):  # turns of the event loop, no time
        for message in await drain(client):
            seen[message["stream"]] = message
        if "queue:cards" in seen and "agents" in seen:
            break
        await asyncio.sleep(0)
    assert seen["agents"]["data"]["1001"]["state"] == "available"
    assert seen["queue:cards"]["data"]["agents"]["available"] == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_build_live_from_settings() -> None:
    from cti.settings import load_settings
    from hotline.live.service import build_live

    plain = build_live(load_settings(), [QueueDefinition("cards")])
    assert plain.mqtt is None and plain.hub.stats.queue_ids() == ["cards"]
    with_broker = build_live(load_settings(live={"mqtt": {"url": "mqtt://u:secret@127.0.0.1:1"}}))
    assert with_broker.mqtt is not None and with_broker.hub.observers == [with_broker.mqtt]
    assert str(with_broker.mqtt.address) == "127.0.0.1:1"  # what logs show: no password

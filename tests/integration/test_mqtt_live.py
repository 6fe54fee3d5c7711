"""The MQTT publisher against the Mosquitto on this machine (127.0.0.1:1883): retained queue
stats and agent states, the call-event stream, and a broker outage (a port nobody listens on,
then a relay to the real broker) with call events buffered, bounded and counted.

No skip: if Mosquitto is down these tests fail, as the CI must notice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt

from cti.events import AgentLoggedIn, CallAnswered, CallQueued, CallStarted
from cti.settings import LiveSettings, MqttSettings
from hotline.live.hub import LiveHub
from hotline.live.model import QueueDefinition
from hotline.live.mqtt import MqttPublisher
from hotline.live.stats import LiveStats

BROKER = ("127.0.0.1", 1883)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def running(publisher: MqttPublisher) -> AsyncIterator[None]:
    task = asyncio.create_task(publisher.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def collect(prefix: str, topic: str, count: int, within_s: float = 10) -> list[Any]:
    """Subscribe now and return the first ``count`` messages (retained ones come first)."""
    messages: list[Any] = []
    async with aiomqtt.Client(*BROKER, identifier=f"test-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(f"{prefix}/{topic}", qos=1)
        async with asyncio.timeout(within_s):
            async for message in client.messages:
                payload = message.payload
                assert isinstance(payload, bytes)
                messages.append((str(message.topic), message.retain, payload))
                if len(messages) >= count:
                    break
    return messages


async def drained(publisher: MqttPublisher) -> None:
    for _ in range(250):  # 5 s
        if not publisher.buffered:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{publisher.buffered} messages still buffered")


async def clear_retained(prefix: str, topics: list[str]) -> None:
    async with aiomqtt.Client(*BROKER) as client:
        for topic in topics:
            await client.publish(f"{prefix}/{topic}", b"", qos=1, retain=True)


def make(url: str, prefix: str, buffer_size: int = 10_000) -> tuple[LiveHub, MqttPublisher]:
    live = LiveSettings()
    stats = LiveStats(
        live, [QueueDefinition("cards", "Cards")], queues_of_agent=lambda _: ["cards"]
    )
    hub = LiveHub(stats)
    mqtt = MqttSettings(
        url=url,
        topic_prefix=prefix,
        client_id=f"hotline-test-{uuid.uuid4().hex[:8]}",
        buffer_size=buffer_size,
        reconnect_min_s=0.1,
        reconnect_max_s=0.3,
    )
    publisher = MqttPublisher(mqtt, live)
    hub.observers.append(publisher)
    return hub, publisher


async def test_retained_stats_and_agent_states_reach_a_late_subscriber() -> None:
    prefix = f"hotline-test/{uuid.uuid4().hex[:8]}"
    hub, publisher = make("mqtt://127.0.0.1:1883", prefix)
    try:
        async with running(publisher):
            hub.process(AgentLoggedIn(agent_id="1001"))
            hub.process(
                CallQueued(call_id="c1", queue="cards", fields={"card": "4111111111111111"})
            )
            hub.flush()
            await drained(publisher)
            assert publisher.connected
            # Subscribed only now: what arrives was retained by the broker.
            [(topic, retained, payload)] = await collect(prefix, "queues/+/stats", 1)
            assert (topic, retained) == (f"{prefix}/queues/cards/stats", True)
            stats = json.loads(payload)
            assert (stats["waiting"], stats["agents"]["available"]) == (1, 1)
            assert stats["sl_formula"] == "answered_within_t_over_answered"
            [(topic, retained, payload)] = await collect(prefix, "agents/+/state", 1)
            assert (topic, retained, json.loads(payload)["state"]) == (
                f"{prefix}/agents/1001/state",
                True,
                "available",
            )
            [(_, retained, payload)] = await collect(prefix, "status", 1)
            assert (retained, payload) == (True, b"online")

            # Call events are a stream: a subscriber sees those published while it listens.
            listener = asyncio.create_task(collect(prefix, "calls/events", 2))
            await asyncio.sleep(0.5)
            hub.process(
                CallQueued(
                    call_id="c2", queue="cards", path=("main", "cards"),
                    fields={"card": "4111111111111111", "intent": "lost"},
                )
            )  # fmt: skip
            hub.process(CallAnswered(call_id="c1", queue="cards", agent_id="1001", wait_s=4))
            [(_, retained, queued), (_, _, payload)] = await listener
            event = json.loads(payload)
            assert retained is False
            assert (event["kind"], event["call_id"], event["agent_id"]) == (
                "call.answered",
                "c1",
                "1001",
            )
            assert event["data"]["wait_s"] == 4
            # The event as the event log stores it: lists and objects, sensitive fields masked.
            data = json.loads(queued)["data"]
            assert data["path"] == ["main", "cards"]
            assert data["fields"] == {"card": "************1111", "intent": "lost"}
    finally:
        await clear_retained(prefix, ["queues/cards/stats", "agents/1001/state", "status"])


async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def test_broker_outage_buffers_call_events_and_counts_drops() -> None:
    prefix = f"hotline-test/{uuid.uuid4().hex[:8]}"
    port = free_port()  # nobody listens here yet: the broker is "down"
    hub, publisher = make(f"mqtt://127.0.0.1:{port}", prefix, buffer_size=5)
    try:
        async with running(publisher):
            hub.process(CallQueued(call_id="c0", queue="cards"))
            hub.flush()
            for n in range(8):
                hub.process(CallStarted(call_id=f"e{n}"))
            await asyncio.sleep(0.5)  # a few failed connection attempts
            assert not publisher.connected
            assert publisher.dropped == 4  # c0's queued event and e0..e2 made way for e3..e7
            assert publisher.buffered == 1 + 5  # one retained topic, five call events

            async def forward(
                client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
            ) -> None:
                broker_r, broker_w = await asyncio.open_connection(*BROKER)
                await asyncio.gather(relay(client_r, broker_w), relay(broker_r, client_w))

            listener = asyncio.create_task(collect(prefix, "calls/events", 5))
            await asyncio.sleep(0.5)
            server = await asyncio.start_server(forward, "127.0.0.1", port)  # the broker is back
            async with server:
                received = await listener
                await drained(publisher)
                assert publisher.connected
                assert [json.loads(p)["call_id"] for _, _, p in received] == [
                    "e3",
                    "e4",
                    "e5",
                    "e6",
                    "e7",
                ]
                [(_, retained, payload)] = await collect(prefix, "queues/cards/stats", 1)
                assert retained and json.loads(payload)["waiting"] == 1
                server.close()
    finally:
        await clear_retained(prefix, ["queues/cards/stats", "status"])

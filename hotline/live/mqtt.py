"""Live state to an MQTT broker (aiomqtt), for LED wallboards and other systems.

Topic scheme (``<p>`` is ``LiveSettings.mqtt.topic_prefix``, default ``hotline``):

- ``<p>/status``: ``online`` (retained); the broker publishes ``offline`` (our last will) when
  the connection drops without a goodbye.
- ``<p>/queues/<queue>/stats``: the queue's ``QueueStats`` as JSON, retained, QoS 1: a board
  that connects later reads the current figures at once.
- ``<p>/agents/<agent>/state``: the agent's ``AgentView`` as JSON, retained, QoS 1.
- ``<p>/calls/events``: every ``call.*`` domain event as JSON, QoS 0, not retained:
  ``{"kind", "call_id", "agent_id", "queue", "ts", "data"}`` where ``data`` is the event as
  the event log stores it (``cti.events.encode``: ``"v": 2``, lists as JSON lists — e.g.
  ``path`` — and the IVR's collected ``fields`` as an object), with the fields named in
  ``LiveSettings.masked_fields`` masked.

Invariants:
- the hub's callbacks never await or block: they only record what to send;
- retained states are coalesced per topic (only the newest matters), so they need no bound;
  call events wait in a bounded buffer while the broker is away, the oldest dropped first and
  counted in ``dropped``;
- after every (re)connect the newest state of every retained topic is sent again, in case the
  broker restarted without persistence;
- the broker's password never reaches a log line (only host and port do).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson

from cti.events import DomainEvent, encode
from cti.settings import LiveSettings, MqttSettings
from ivr.digits import mask

log = logging.getLogger("hotline.live.mqtt")


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 1883,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:  # what logs may show
        return f"{self.host}:{self.port}"


class MqttPublisher:
    """A ``LiveObserver`` of the hub that keeps a broker up to date; ``run()`` until cancelled."""

    def __init__(self, settings: MqttSettings, live: LiveSettings | None = None) -> None:
        if settings.url is None:
            raise ValueError("MQTT is not configured (live.mqtt.url)")
        self.settings = settings
        self.address = BrokerAddress.parse(settings.url)
        self.prefix = settings.topic_prefix.rstrip("/")
        self._masked = set(live.masked_fields) if live is not None else set()
        self._latest: dict[str, bytes] = {}  # retained topic → newest payload
        self._pending: OrderedDict[str, None] = OrderedDict()  # retained topics not yet sent
        self._events: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._connected = False
        self.dropped = 0
        self.published = 0

    # --- what the monitoring reads (``MqttStatus``) -------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def buffered(self) -> int:
        return len(self._pending) + len(self._events)

    # --- LiveObserver: never awaits -----------------------------------------------------------

    def queue_stats(self, queue_id: str, stats: Mapping[str, Any]) -> None:
        self._retain(f"{self.prefix}/queues/{queue_id}/stats", stats)

    def agent_state(self, agent_id: str, state: Mapping[str, Any]) -> None:
        self._retain(f"{self.prefix}/agents/{agent_id}/state", state)

    def call_event(self, event: DomainEvent) -> None:
        encoded = encode(event)
        payload = {
            "kind": encoded.kind,
            "call_id": encoded.call_id,
            "agent_id": encoded.agent_id,
            "queue": encoded.queue,
            "ts": encoded.ts.isoformat(),
            "data": self._masked_data(encoded.data),
        }
        if len(self._events) >= self.settings.buffer_size:
            self._events.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "MQTT buffer full, dropping call events", extra={"dropped": self.dropped}
                )
        self._events.append(orjson.dumps(payload))
        self._wake.set()

    def _masked_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Sensitive values masked (publishers mask already: a second lock), wherever they
        are: an IVR field, or a value of the event under the same name."""
        if not self._masked:
            return data
        out = {k: mask(str(v)) if k in self._masked else v for k, v in data.items()}
        fields = data.get("fields")
        if isinstance(fields, dict):
            out["fields"] = {
                name: mask(str(value)) if name in self._masked else value
                for name, value in fields.items()
            }
        return out

    def _retain(self, topic: str, state: Mapping[str, Any]) -> None:
        self._latest[topic] = orjson.dumps(state)
        self._pending[topic] = None
        self._pending.move_to_end(topic)
        self._wake.set()

    # --- the connection -----------------------------------------------------------------------

    async def run(self) -> None:
        delay = self.settings.reconnect_min_s
        status = f"{self.prefix}/status"
        while True:
            try:
                async with aiomqtt.Client(
                    self.address.host,
                    self.address.port,
                    identifier=self.settings.client_id,
                    username=self.address.username,
                    password=self.address.password,
                    keepalive=self.settings.keepalive_s,
                    will=aiomqtt.Will(status, b"offline", qos=1, retain=True),
                ) as client:
                    self._connected = True
                    delay = self.settings.reconnect_min_s
                    log.info("MQTT connected", extra={"broker": str(self.address)})
                    await client.publish(status, b"online", qos=1, retain=True)
                    for topic in self._latest:  # the broker may have lost our retained states
                        self._pending[topic] = None
                    await self._send_forever(client)
            except aiomqtt.MqttError as exc:
                if self._connected:
                    log.warning("MQTT connection lost", extra={"broker": str(self.address)})
                else:
                    log.debug(
                        "MQTT connect failed",
                        extra={"broker": str(self.address), "error": str(exc)},
                    )
            finally:
                self._connected = False
            # Back off with jitter so a fleet of engines does not reconnect in step.
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.settings.reconnect_max_s)

    async def _send_forever(self, client: aiomqtt.Client) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Peek, publish, then forget: nothing is forgotten before the broker took it, and a
            # state that changed during the publish stays pending.
            while self._pending:
                topic = next(iter(self._pending))
                payload = self._latest[topic]
                await client.publish(topic, payload, qos=1, retain=True)
                if self._latest[topic] is payload:
                    self._pending.pop(topic, None)
                else:
                    self._pending.move_to_end(topic)
                self.published += 1
            events = f"{self.prefix}/calls/events"
            while self._events:
                await client.publish(events, self._events[0], qos=0)
                self._events.popleft()
                self.published += 1

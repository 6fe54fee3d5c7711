"""Live state as one part of ``hotline serve``: statistics, the hub (WebSocket streams) and,
when a broker is configured, the MQTT publisher, built from settings and run together until
cancelled. The composition root passes the ACD's queue definitions and membership."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from cti.events import DomainBus
from cti.settings import Settings
from hotline.live.hub import LiveHub, WarmUp
from hotline.live.model import QueueDefinition
from hotline.live.mqtt import MqttPublisher
from hotline.live.stats import LiveStats


@dataclass
class LiveService:
    hub: LiveHub
    mqtt: MqttPublisher | None

    async def run(self, bus: DomainBus, warm_up: WarmUp | None = None) -> None:
        """Consume the bus (after ``warm_up``, see ``LiveHub.run``) and keep the broker fed;
        returns only when cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.hub.run(bus, warm_up), name="live-hub")
            if self.mqtt is not None:
                group.create_task(self.mqtt.run(), name="live-mqtt")

    def close(self) -> None:
        self.hub.close()


def build_live(
    settings: Settings,
    queues: Iterable[QueueDefinition] = (),
    *,
    queues_of_agent: Callable[[str], Collection[str]] | None = None,
    ewt: Callable[[str], float | None] | None = None,
) -> LiveService:
    live = settings.live
    stats = LiveStats(live, queues, queues_of_agent=queues_of_agent, ewt=ewt)
    hub = LiveHub(stats, client_buffer=live.ws_buffer)
    mqtt = MqttPublisher(live.mqtt, live) if live.mqtt.url is not None else None
    if mqtt is not None:
        hub.observers.append(mqtt)
    return LiveService(hub, mqtt)

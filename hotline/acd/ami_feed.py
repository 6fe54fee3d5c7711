"""The ACD's ``PbxFeed`` over AMI: its events, the agents saved in Asterisk's database, device
states. Actions on calls go through the call-control port instead (``acd.dialplan``).

The subscription is made at construction, so no event between construction and the first
resync is lost; it is large, because the AMI reader never blocks on us and losing a Hangup
would strand an agent: when it overflows anyway, ``EventsLost`` tells the service to
rebuild from Asterisk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from acd.pbx_events import EVENT_NAMES, EventsLost, PbxEvent, SavedAgent, translate
from cti.ami.call_control import AmiActions
from cti.ami.errors import AmiError
from cti.ami.subscriptions import EventFilter, Overflow, Subscription
from cti.call_control import CallControlError

AGENT_FAMILY = "hotline-acd/agents"  # AstDB family of the saved agents


class AmiFeedSource(AmiActions, Protocol):
    """What the feed uses of ``cti.ami.client.AmiClient``: actions and a subscription."""

    def subscribe(
        self,
        selector: EventFilter = None,
        *,
        maxsize: int = 1000,
        overflow: Overflow = "drop_oldest",
    ) -> Subscription: ...


class AmiPbxFeed:
    def __init__(
        self, ami: AmiFeedSource, *, agent_family: str = AGENT_FAMILY, queue_size: int = 100_000
    ) -> None:
        self._ami = ami
        self._family = agent_family  # tests use their own, the PBX may be shared
        self._subscription = ami.subscribe(EVENT_NAMES, maxsize=queue_size)
        self._reported_dropped = 0

    async def events(self) -> AsyncIterator[PbxEvent]:
        async for event in self._subscription:
            if self._subscription.dropped != self._reported_dropped:
                yield EventsLost(self._subscription.dropped - self._reported_dropped)
                self._reported_dropped = self._subscription.dropped
            translated = translate(event)
            if translated is not None:
                yield translated

    def close(self) -> None:
        self._subscription.unsubscribe()

    async def saved_agents(self) -> list[SavedAgent]:
        try:
            tree = await self._ami.list_action("DBGetTree", check=False, Family=self._family)
        except AmiError as exc:
            raise CallControlError(str(exc)) from exc
        prefix = f"/{self._family}/"
        return [
            SavedAgent.decode(key[len(prefix) :], event["Val"])
            for event in tree.events
            if (key := event.get("Key") or "").startswith(prefix) and event.get("Val")
        ]

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None:
        try:
            if saved is None:
                await self._ami.action("DBDel", check=False, Family=self._family, Key=agent_id)
            else:
                await self._ami.action(
                    "DBPut", Family=self._family, Key=agent_id, Val=saved.encode()
                )
        except AmiError as exc:
            raise CallControlError(str(exc)) from exc

    async def device_states(self) -> dict[str, str]:
        try:
            states = await self._ami.list_action("DeviceStateList", check=False)
        except AmiError as exc:
            raise CallControlError(str(exc)) from exc
        return {
            event["Device"]: event["State"]
            for event in states.events
            if event.get("Device") and event.get("State")
        }

"""What the ACD service needs from outside, as Protocols (implemented in ``acd.dialplan`` over
the call-control port, in ``hotline.acd`` over AMI, and by fakes in tests).

- ``AcdPbx``: the ACD's verbs on Asterisk (connect a caller to an agent's device, overflow,
  hold, transfer ...) and what it reads back at a resync; ``acd.dialplan.DialplanPbx``
  turns them into call control in the contexts of ``extensions_acd.conf``.
- ``PbxFeed``: what comes from the PBX that is not call control: its events, the agents
  saved in Asterisk's database, device states.
- ``CallActionHost`` and ``CallActionPbx``: what ``acd.call_actions.CallActions`` needs of
  the engine's host (``acd.core.AcdCore``) and of the PBX;
- ``Scheduler``: timers (the engine's wake-up, wrap-up ends) on the service's clock, so
  tests run them on a fake one.

Every IO method raises ``cti.call_control.CallControlError`` when the PBX cannot do it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from typing import Any, Protocol

from acd.effects import Effect
from acd.engine import AcdEngine
from acd.model import AcdConfig
from acd.pbx_events import PbxEvent, PbxSnapshot, SavedAgent
from acd.publisher import AcdPublisher
from cti.events import DomainEvent


class PbxFeed(Protocol):
    def events(self) -> AsyncIterator[PbxEvent]: ...

    async def saved_agents(self) -> list[SavedAgent]: ...

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None:
        """Keep (or, with None, forget) an agent's login and pause in Asterisk's database."""

    async def device_states(self) -> dict[str, str]: ...

    def close(self) -> None: ...


class CallActionPbx(Protocol):
    """The dialplan verbs of ``acd.ports.AcdPbx`` that act on a connected call."""

    async def bridge_peer(self, call_id: str) -> str | None: ...

    async def hold(self, call_id: str, agent_channel: str) -> None: ...

    async def resume(self, call_id: str, agent_channel: str) -> None: ...

    async def requeue(self, call_id: str, variables: Mapping[str, str]) -> None: ...

    async def send_to_number(self, call_id: str, context: str, number: str) -> None: ...

    async def consult(self, call_id: str, agent_channel: str, dial: str) -> None: ...

    async def hand_over(self, call_id: str, agent_channel: str) -> None: ...

    async def hangup(self, channel: str) -> None: ...


class AcdPbx(CallActionPbx, Protocol):
    """The ACD's verbs: those of call actions (``CallActionPbx``), and routing's."""

    def events(self) -> AsyncIterator[PbxEvent]: ...

    async def connect(
        self, call_id: str, device: str, ring_timeout_s: float, agent_id: str, decision_id: int
    ) -> None: ...

    async def overflow(self, call_id: str, kind: str, target: str) -> None: ...

    async def mark_answered(self, call_id: str, epoch: float) -> None: ...

    async def channel_exists(self, call_id: str) -> bool: ...

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None: ...

    async def snapshot(self) -> PbxSnapshot: ...

    def close(self) -> None: ...


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Cancellable:
        """Run ``callback`` once, ``delay_s`` seconds from now on the service's clock."""


class CallActionHost(Protocol):
    """What call actions need of the engine's host (``acd.core.AcdCore``)."""

    @property
    def lock(self) -> asyncio.Lock: ...

    @property
    def engine(self) -> AcdEngine: ...

    @property
    def config(self) -> AcdConfig: ...

    @property
    def publisher(self) -> AcdPublisher: ...

    def now(self) -> float: ...

    def apply(self, effects: list[Effect], first: Sequence[DomainEvent] = ()) -> None:
        """Publish an input's own events (``first``) and its effects', then carry them out."""

    def spawn(self, work: Coroutine[Any, Any, None]) -> None: ...

"""Agents' logins and pauses kept in Asterisk's database, and the index of their devices.

A restarted Hotline finds its agents there (``PbxSnapshot.agents``), like it finds the callers
still on hold. Writes go in order, one at a time, each with the agent's latest state (a
queue of agent ids, not of states), so a burst of changes costs one write per agent change
and the last one wins. The service's own pauses (``internal_reasons``, e.g. resync-busy)
are never saved: they mean nothing to the next process.

The device index maps Asterisk's device names (``device_key``) to the agents logged in on
them, for ``DeviceStateChange`` (a phone that unregisters pauses its agents).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from acd.agent_state import AgentState, AgentStatus
from acd.pbx_events import SavedAgent, device_key
from cti.call_control import CallControlError

log = logging.getLogger("acd.agents")


class SavedAgents:
    def __init__(self, internal_reasons: Collection[str]) -> None:
        self._internal = frozenset(internal_reasons)
        self.touched: set[str] = set()  # agents this process changed (memory beats astdb)
        self._devices: dict[str, set[str]] = {}  # device_key → logged-in agent ids
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    # --- devices ------------------------------------------------------------------------------

    def index(self, agent_id: str, status: AgentStatus | None) -> None:
        for agents in self._devices.values():
            agents.discard(agent_id)
        if status is not None and status.device and status.state is not AgentState.LOGGED_OUT:
            self._devices.setdefault(device_key(status.device), set()).add(agent_id)

    def on_device(self, device: str) -> list[str]:
        return list(self._devices.get(device, ()))

    def devices(self) -> list[tuple[str, list[str]]]:
        return [(device, list(agents)) for device, agents in self._devices.items()]

    def forget_devices(self) -> None:
        self._devices.clear()

    # --- saving -------------------------------------------------------------------------------

    def save(self, agent_id: str) -> None:
        self._queue.put_nowait(agent_id)

    def internal(self, status: AgentStatus | None) -> bool:
        """Paused by the service itself (nothing to save: it means nothing to the next run)."""
        return (
            status is not None
            and status.state is AgentState.PAUSED
            and status.pause_reason in self._internal
        )

    @staticmethod
    def saved(agent_id: str, status: AgentStatus | None) -> SavedAgent | None:
        """The agent's login and pause as saved, None when logged out."""
        if status is None or status.state is AgentState.LOGGED_OUT or not status.device:
            return None
        reason = status.pause_reason if status.state is AgentState.PAUSED else None
        return SavedAgent(agent_id, status.device, reason)

    async def run(
        self,
        status_of: Callable[[str], AgentStatus | None],
        write: Callable[[str, SavedAgent | None], Awaitable[None]],
    ) -> None:
        """Write each queued agent's latest state, in order, until cancelled."""
        while True:
            agent_id = await self._queue.get()
            try:
                status = status_of(agent_id)
                if not self.internal(status):
                    await write(agent_id, self.saved(agent_id, status))
            except CallControlError as exc:
                log.warning(
                    "acd could not save an agent", extra={"agent": agent_id, "error": str(exc)}
                )
            finally:
                self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every change queued so far has been written (tests, shutdown)."""
        await self._queue.join()

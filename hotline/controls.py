"""The HTTP API's control ports (``hotline.api.ports``) implemented over the ACD service and
the call-control port. Thin adapters: each maps a request to one ACD call or call-control
action and maps failures to the API's errors (``UnknownTarget`` → 404, ``ControlRejected``
→ 409)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from acd.model import AcdConfig, Agent, Queue
from acd.service import AcdRequestRejected, AcdService
from acd.transfer_rules import CallActionError
from cti.call_control import CallControl, CallControlError, Originate
from cti.events import Scalar
from hotline.api.ports import ControlRejected, SpyMode, TransferKind, UnknownTarget
from hotline.live.model import QueueDefinition

# ChanSpy options: q quiet (no beep/name), w whisper, B barge (talk to both), E exit on hangup.
_SPY_OPTIONS: dict[SpyMode, str] = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}


def eligible_queues(agent: Agent, queues: Sequence[Queue]) -> list[str]:
    """Queues whose own skill requirements the agent meets (language comes per call)."""
    return [queue.id for queue in queues if queue.served_by(agent)]


def queue_definitions(config: AcdConfig) -> list[QueueDefinition]:
    return [
        QueueDefinition(
            queue.id,
            queue.name or queue.id,
            queue.product,
            queue.service_level.percent / 100,
            queue.service_level.within_s,
        )
        for queue in config.queues
    ]


class AcdDirectory:
    """Queues and agents as the ACD has them now (agents come from the database at start-up
    and change when an admin edits them, so nothing here is copied at build time)."""

    def __init__(self, acd: AcdService) -> None:
        self._acd = acd
        self._queues = queue_definitions(acd.config)

    def queue_definitions(self) -> Sequence[QueueDefinition]:
        return self._queues

    def agent_ids(self) -> Sequence[str]:
        return [agent.id for agent in self._acd.config.agents]

    def queues_of_agent(self, agent_id: str) -> list[str]:
        config = self._acd.config
        for agent in config.agents:
            if agent.id == agent_id:
                return eligible_queues(agent, config.queues)
        return []


class AcdAgentControl:
    def __init__(self, acd: AcdService) -> None:
        self._acd = acd

    def _check(self, agent_id: str) -> None:
        # The ACD's current agents: the database's list replaces the YAML's at start-up.
        if agent_id not in self._acd.engine.agent_config:
            raise UnknownTarget(f"no agent {agent_id!r}")

    async def _request(self, agent_id: str, request: Callable[[], Awaitable[object]]) -> None:
        self._check(agent_id)  # before the request is even built: unknown agents are a 404
        try:
            await request()
        except AcdRequestRejected as exc:
            raise ControlRejected(str(exc)) from exc

    async def login(self, agent_id: str, device: str | None) -> None:
        await self._request(agent_id, lambda: self._acd.login(agent_id, device))

    async def logout(self, agent_id: str) -> None:
        await self._request(agent_id, lambda: self._acd.logout(agent_id))

    async def pause(self, agent_id: str, reason: str) -> None:
        await self._request(agent_id, lambda: self._acd.pause(agent_id, reason))

    async def unpause(self, agent_id: str) -> None:
        await self._request(agent_id, lambda: self._acd.unpause(agent_id))

    async def set_disposition(
        self, agent_id: str, call_id: str, disposition: str, note: str
    ) -> None:
        # The disposition itself is an event (published by the API); the ACD only checks the
        # agent exists so a typo is a 404, not a silently stored record.
        self._check(agent_id)


class AcdCallControl:
    """Actions on a connected call, by call id (the caller's uniqueid): hang-up straight on the
    PBX, hold and transfers through the ACD, which knows the call's agent and accounts for
    them (``acd.call_actions``)."""

    def __init__(self, control: CallControl, acd: AcdService) -> None:
        self._control = control
        self._acd = acd

    async def hangup(self, call_id: str) -> None:
        try:
            if not await self._control.exists(call_id):
                raise UnknownTarget(f"no call {call_id!r} on the PBX")
            await self._control.hangup(call_id)
        except CallControlError as exc:
            raise ControlRejected(f"PBX unavailable: {exc}") from exc

    async def hold(self, call_id: str) -> None:
        await _acd_action(self._acd.calls.hold(call_id))

    async def unhold(self, call_id: str) -> None:
        await _acd_action(self._acd.calls.unhold(call_id))

    async def transfer(
        self, call_id: str, kind: TransferKind, target: str, *, attended: bool
    ) -> None:
        await _acd_action(self._acd.calls.transfer(call_id, kind, target, attended=attended))

    async def complete_transfer(self, call_id: str) -> None:
        await _acd_action(self._acd.calls.complete_transfer(call_id))

    async def cancel_transfer(self, call_id: str) -> None:
        await _acd_action(self._acd.calls.cancel_transfer(call_id))


async def _acd_action(action: Coroutine[Any, Any, None]) -> None:
    try:
        await action
    except CallActionError as exc:
        raise (UnknownTarget if exc.not_found else ControlRejected)(str(exc)) from exc


class SpyControl:
    """ChanSpy on an agent's device, rung on the supervisor's device (an originated leg)."""

    def __init__(self, control: CallControl, acd: AcdService) -> None:
        self._control = control
        self._acd = acd

    async def spy(self, agent_id: str, supervisor_device: str, mode: SpyMode) -> None:
        status = self._acd.agent(agent_id)
        device = status.device
        if device is None:
            raise UnknownTarget(f"agent {agent_id!r} is not logged in")
        try:
            await self._control.originate(
                Originate(
                    channel=supervisor_device,
                    application="ChanSpy",
                    data=f"{device.split('@')[0]},{_SPY_OPTIONS[mode]}",
                    caller_id=f"spy {agent_id}",
                )
            )
        except CallControlError as exc:
            raise ControlRejected(f"could not call the supervisor: {exc}") from exc


class AcdTraces:
    def __init__(self, acd: AcdService) -> None:
        self._acd = acd

    def routing_trace(self, call_id: str) -> Sequence[Mapping[str, Scalar]] | None:
        traces = self._acd.engine.traces(call_id)
        if not traces:
            return None
        return [
            {
                "decision_id": t.decision_id,
                "kind": t.kind,
                "agent_id": t.agent_id,
                "queue_id": t.queue_id,
                "step": t.step,
                "rule": t.rule,
                "strategy": t.strategy,
                "reason": t.reason,
                "candidates": "; ".join(f"{c.id} {c.note}".strip() for c in t.candidates),
            }
            for t in traces
        ]

"""The HTTP API's control ports (``hotline.api.ports``) implemented over the ACD service and
AMI. Thin adapters: each maps a request to one ACD call or AMI action and maps failures to the
API's errors (``UnknownTarget`` → 404, ``ControlRejected`` → 409)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from acd.model import AcdConfig, Agent, Queue
from acd.service import AcdRequestRejected, AcdService
from cti.ami.client import AmiClient
from cti.ami.errors import AmiActionError, AmiError
from cti.events import Scalar
from hotline.api.ports import ControlRejected, SpyMode, TransferKind, UnknownTarget
from hotline.live.model import QueueDefinition

# ChanSpy options: q quiet (no beep/name), w whisper, B barge (talk to both), E exit on hangup.
_SPY_OPTIONS: dict[SpyMode, str] = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}


def eligible_queues(agent: Agent, queues: Sequence[Queue]) -> list[str]:
    """Queues whose own skill requirements the agent meets (language comes per call)."""
    return [
        queue.id
        for queue in queues
        if all(agent.skills.get(skill, 0) >= level for skill, level in queue.skills.items())
    ]


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


class AmiCallControl:
    """Actions on a caller's channel, addressed by its uniqueid (AMI accepts it as Channel)."""

    def __init__(self, ami: AmiClient, transfer_context: str = "hotline-transfer") -> None:
        self._ami = ami
        self._transfer_context = transfer_context

    async def _run(self, action: str, **fields: str) -> None:
        try:
            await self._ami.action(action, dict(fields))
        except AmiActionError as exc:
            raise UnknownTarget(f"{action}: {exc}") from exc
        except AmiError as exc:
            raise ControlRejected(f"PBX unavailable: {exc}") from exc

    async def hangup(self, call_id: str) -> None:
        await self._run("Hangup", Channel=call_id)

    async def hold(self, call_id: str) -> None:
        # AMI has no channel-neutral hold: holding is the agent phone's job (SIP re-INVITE).
        raise ControlRejected("hold is done on the agent's phone; not available through AMI")

    async def unhold(self, call_id: str) -> None:
        raise ControlRejected("hold is done on the agent's phone; not available through AMI")

    async def transfer(
        self, call_id: str, kind: TransferKind, target: str, *, attended: bool
    ) -> None:
        if attended:
            raise ControlRejected("attended transfer is done on the agent's phone")
        if kind == "number":
            await self._run(
                "Redirect", Channel=call_id, Context=self._transfer_context, Exten=target,
                Priority="1",
            )  # fmt: skip
        else:
            raise ControlRejected(f"blind transfer to {kind} is not supported yet")


class AmiSupervisorControl:
    def __init__(self, ami: AmiClient, acd: AcdService) -> None:
        self._ami = ami
        self._acd = acd

    async def spy(self, agent_id: str, supervisor_device: str, mode: SpyMode) -> None:
        status = self._acd.agent(agent_id)
        device = status.device
        if device is None:
            raise UnknownTarget(f"agent {agent_id!r} is not logged in")
        try:
            await self._ami.action(
                "Originate",
                Channel=supervisor_device,
                Application="ChanSpy",
                Data=f"{device.split('@')[0]},{_SPY_OPTIONS[mode]}",
                CallerID=f"spy {agent_id}",
                Async="true",
            )
        except AmiError as exc:
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

"""The rules of call actions, pure: what a transfer may target, where a requeued caller goes,
whom consulting a queue reaches. Each refusal is a ``CallActionError`` saying why
(``not_found``: no such call, agent or queue — a 404 for the API)."""

from __future__ import annotations

import re

from acd.agent_state import AgentState, AgentStatus
from acd.call_record import CallRecord
from acd.engine import AcdEngine
from acd.in_call import personal_skill
from acd.model import AcdConfig
from cti.variables import (
    HOTLINE_ACD_ENQUEUED,
    HOTLINE_LANGUAGE,
    HOTLINE_PRIORITY,
    HOTLINE_QUEUE,
    HOTLINE_SKILLS,
)

_NUMBER = re.compile(r"[0-9A-Za-z*#+][0-9A-Za-z*#+_.-]{0,39}")
CONSULT_PAUSE = "consult"  # a consulted agent's pause reason while it holds the transfer


class CallActionError(Exception):
    """The action cannot be done now (``not_found``: no such call, agent or queue)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def check_number(target: str) -> None:
    """A number becomes a dialplan extension (and part of a Dial string): nothing that could
    name another context or a second destination."""
    if not _NUMBER.fullmatch(target):
        raise CallActionError(f"not a number to dial: {target!r}")


def requeue_variables(
    engine: AcdEngine, config: AcdConfig, record: CallRecord, kind: str, target: str
) -> dict[str, str]:
    """The channel variables that send a connected caller back into the ACD: to a queue, or
    to one agent (its personal skill required, in a queue it serves)."""
    if kind == "queue":
        if target not in engine.router.queues:
            raise CallActionError(f"no queue {target!r}", not_found=True)
        queue_id, skills = target, ""
    else:
        agent = engine.agent_config.get(target)
        if agent is None:
            raise CallActionError(f"no agent {target!r}", not_found=True)
        if target == record.agent_id:
            raise CallActionError("the call is already with this agent")
        if engine.agents.get(target, AgentStatus(target)).state is AgentState.LOGGED_OUT:
            raise CallActionError(f"agent {target!r} is not logged in")
        eligible = [q.id for q in config.queues if q.served_by(agent)]
        if not eligible:
            raise CallActionError(f"agent {target!r} serves no queue")
        queue_id = record.entry.queue_id if record.entry.queue_id in eligible else eligible[0]
        skills = f"{personal_skill(target)}:1"
    return {
        HOTLINE_QUEUE: queue_id,
        HOTLINE_SKILLS: skills,
        HOTLINE_PRIORITY: str(record.entry.priority),
        # A chosen agent is not chosen for its language; a queue keeps the caller's.
        **({HOTLINE_LANGUAGE: ""} if kind == "agent" else {}),
        HOTLINE_ACD_ENQUEUED: "",  # a new place in line, and a new bounded hold
    }


def free_agent_of(engine: AcdEngine, queue_id: str) -> str:
    """Consulting a queue is consulting the agent it would give a call now: the free agent
    meeting its skills that has been free longest (none free: refused, not queued)."""
    queue = engine.router.queues.get(queue_id)
    if queue is None:
        raise CallActionError(f"no queue {queue_id!r}", not_found=True)
    agents = engine.agent_config
    free = [
        status
        for agent_id, status in engine.agents.items()
        if status.state is AgentState.AVAILABLE
        and agent_id in agents
        and queue.served_by(agents[agent_id])
    ]
    if not free:
        raise CallActionError(f"no agent of queue {queue_id!r} is free to consult")
    return min(free, key=lambda status: (status.since, status.agent_id)).agent_id


def consultable(engine: AcdEngine, agent_id: str) -> str:
    """The device to dial to consult an agent, which must be free."""
    status = engine.agents.get(agent_id)
    if agent_id not in engine.agent_config:
        raise CallActionError(f"no agent {agent_id!r}", not_found=True)
    if status is None or status.state is not AgentState.AVAILABLE or status.device is None:
        state = status.state.value if status is not None else "logged_out"
        raise CallActionError(f"agent {agent_id!r} is not available ({state})")
    return status.device

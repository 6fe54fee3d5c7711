"""Planning a resync, pure: the old engine's state + what Asterisk holds → what to rebuild.

``AcdService`` rebuilds its engine from Asterisk at start-up, after every AMI reconnect and
after lost events. ``plan_resync`` decides, without touching anything:

- which agents to log in again, with which device and pause: Asterisk's saved copy, except
  for agents this process itself changed (``touched``), whose state in memory is newer (a
  reconnect, not a restart); the service's own pauses (``internal_reasons``) are not kept;
- how to take back each connected call found talking or on hold: as the old engine had it
  (a reconnect: same enqueue time, skills, answer time), else as its channel says (a
  restart: queue, place in line and answer time kept on the channel);
- the callers on hold, oldest place in line first (their original enqueue time);
- the device states to apply to the agents' devices.

Invariants: wall-clock epochs from the channels are mapped into the service's monotonic
clock by ``from_epoch`` and never lie in the future (``min(now, ...)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from acd.agent_state import AgentState, AgentStatus
from acd.call_record import CallRecord
from acd.effects import CallArrived
from acd.pbx_events import ConnectingCall, HoldEntered, PbxSnapshot, SavedAgent


@dataclass(frozen=True, slots=True)
class Adoption:
    """A connected call to put back on call with its agent (``AcdEngine.adopt_connected``)."""

    call: ConnectingCall
    arrived: CallArrived
    answered_at: float


@dataclass(frozen=True, slots=True)
class ResyncPlan:
    agents: tuple[SavedAgent, ...]
    connected: tuple[Adoption, ...]
    held: tuple[HoldEntered, ...]
    device_states: Mapping[str, str]


def plan_resync(
    *,
    old_agents: Mapping[str, AgentStatus],
    old_calls: Mapping[str, CallRecord],
    snapshot: PbxSnapshot,
    known_agents: Collection[str],
    touched: Collection[str],
    internal_reasons: Collection[str],
    now: float,
    from_epoch: Callable[[float], float],
) -> ResyncPlan:
    return ResyncPlan(
        agents=tuple(
            agents_to_restore(old_agents, snapshot.agents, known_agents, touched, internal_reasons)
        ),
        connected=tuple(
            adoption(c, old_calls.get(c.call_id), now, from_epoch) for c in snapshot.connecting
        ),
        held=tuple(sorted(snapshot.held, key=lambda h: h.enqueued_epoch or math.inf)),
        device_states=dict(snapshot.device_states),
    )


def agents_to_restore(
    old_agents: Mapping[str, AgentStatus],
    saved: Collection[SavedAgent],
    known_agents: Collection[str],
    touched: Collection[str],
    internal_reasons: Collection[str],
) -> list[SavedAgent]:
    """What this process knows beats Asterisk's copy (a reconnect, not a restart)."""
    restore: dict[str, SavedAgent] = {}
    for agent in saved:
        if agent.agent_id in known_agents and agent.agent_id not in touched:
            restore[agent.agent_id] = agent
    for agent_id in touched:
        status = old_agents.get(agent_id)
        if status is None or status.state is AgentState.LOGGED_OUT or not status.device:
            restore.pop(agent_id, None)
            continue
        reason = status.pause_reason if status.state is AgentState.PAUSED else None
        if reason in internal_reasons:
            reason = None
        restore[agent_id] = SavedAgent(agent_id, status.device, reason)
    return list(restore.values())


def adoption(
    call: ConnectingCall,
    before: CallRecord | None,
    now: float,
    from_epoch: Callable[[float], float],
) -> Adoption:
    """As the old engine had it (an AMI reconnect), else as its channel says (a restart)."""
    if before is not None and before.state == "connected" and before.agent_id == call.agent_id:
        entry = before.entry
        arrived = CallArrived(
            call.call_id, entry.queue_id, entry.enqueued_at, entry.priority, before.skills,
            before.language,
        )  # fmt: skip
        answered = before.answered_at if before.answered_at is not None else now
        return Adoption(call, arrived, answered)
    enqueued = now if call.enqueued_epoch is None else min(now, from_epoch(call.enqueued_epoch))
    answered = now if call.answered_epoch is None else min(now, from_epoch(call.answered_epoch))
    arrived = CallArrived(call.call_id, call.queue_id, enqueued, call.priority, {}, None)
    return Adoption(call, arrived, answered)

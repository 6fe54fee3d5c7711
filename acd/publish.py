"""What the ACD tells the rest of Hotline: engine changes → domain events (pure, no IO).

The service builds these only when it has somewhere to publish them. Data keys are the ones
``cti.events`` documents and ``hotline.live.stats`` / the event log read.

Invariants:
- agents' events come from *every* write of an agent's status during one input (``AgentLog``),
  not from comparing the start and the end, so a pass through ``wrap_up`` with no wrap-up time,
  or ``available`` between two offers, is still seen; a write that changes neither the state
  nor the pause reason publishes nothing;
- every change of state publishes ``agent.state``; a login, logout, pause (a new reason too)
  and unpause also publish their own kind, before ``agent.state`` (after it for a logout, so
  the session closes last);
- ``call.offered`` comes right before the ``agent.state: reserved`` it caused, so a consumer
  that infers agents from call events and one that reads ``agent.*`` agree at every step;
- times are the service's clock (``Stamp``): ``mono`` for durations, ``ts`` for people.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from acd.agent_state import AgentState, AgentStatus
from acd.asterisk import HoldEntered
from acd.effects import Effect, OfferCall, OverflowCall
from acd.engine import CallRecord
from acd.model import AcdConfig
from cti.events import DomainEvent, EventKind, Scalar, make_event

K = EventKind
FIELD_PREFIX = "field."
MAX_FIELDS = 50  # IVR variables carried to a screen pop; more is a misconfigured IVR
AgentWrite = tuple[str, AgentStatus | None, AgentStatus]  # agent id, before, after


@dataclass(frozen=True, slots=True)
class Stamp:
    ts: datetime
    mono: float

    @classmethod
    def of(cls, wall_epoch: float, mono: float) -> Stamp:
        return cls(datetime.fromtimestamp(wall_epoch, UTC), mono)


class AgentLog(dict[str, AgentStatus]):
    """``AcdEngine.agents`` that remembers each write (the engine replaces a frozen status on
    every transition and never mutates one), so the service can publish every step."""

    __slots__ = ("writes",)

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[AgentWrite] = []

    def __setitem__(self, agent_id: str, status: AgentStatus) -> None:
        self.writes.append((agent_id, self.get(agent_id), status))
        super().__setitem__(agent_id, status)

    def take(self) -> list[AgentWrite]:
        writes, self.writes = self.writes, []
        return writes


def eligible_queues(config: AcdConfig) -> dict[str, str]:
    """Agent id → ids of the queues whose own skills it meets, comma-separated."""
    return {
        agent.id: ",".join(queue.id for queue in config.queues if queue.served_by(agent))
        for agent in config.agents
    }


def _event(
    kind: EventKind,
    at: Stamp,
    data: Mapping[str, Scalar],
    *,
    call_id: str | None = None,
    agent_id: str | None = None,
    queue: str | None = None,
) -> DomainEvent:
    return make_event(kind, call_id, agent_id, queue, data, at.ts, at.mono)


def _seconds(value: float) -> float | None:
    return None if math.isinf(value) or math.isnan(value) else round(max(value, 0.0), 3)


def skills_text(skills: Mapping[str, int]) -> str:
    return ",".join(f"{name}:{level}" for name, level in sorted(skills.items()))


def ivr_data(held: HoldEntered | None) -> dict[str, Scalar]:
    """The IVR's variables (URL-encoded and masked by the IVR) as ``field.<name>``, and its
    path (space separated on the channel) joined by ``>`` like ``ivr.ended``'s."""
    data: dict[str, Scalar] = {}
    if held is None:
        return data
    if held.ivr_data:
        for name, value in parse_qsl(held.ivr_data, keep_blank_values=True)[:MAX_FIELDS]:
            data[FIELD_PREFIX + name] = value
    if held.ivr_path:
        data["path"] = ">".join(held.ivr_path.split())
    return data


# --- calls ---------------------------------------------------------------------------------


def call_queued(
    call_id: str,
    queue: str,
    at: Stamp,
    *,
    skills: Mapping[str, int],
    priority: int,
    language: str | None,
    ewt_s: float | None,
    position: int | None,
    held: HoldEntered | None = None,
) -> DomainEvent:
    """The call waits in ``queue`` (arrival, overflow into a queue)."""
    data: dict[str, Scalar] = {
        "queue": queue,
        "skills": skills_text(skills),
        "priority": priority,
        "language": language,
        # Queues have no priority of their own: anything above the normal 0 is the IVR's VIP.
        "vip": priority > 0,
        "ewt_s": _seconds(ewt_s) if ewt_s is not None else None,
        "position": position if position is not None else 1,
    }
    data |= ivr_data(held)
    return _event(K.CALL_QUEUED, at, data, call_id=call_id, queue=queue)


def record_queued(
    record: CallRecord,
    at: Stamp,
    *,
    position: int | None,
    held: HoldEntered | None = None,
    resync: bool = False,
) -> DomainEvent:
    """``call.queued`` for a call the engine holds, in the queue it is in now; ``resync``
    marks a call rebuilt from Asterisk (already counted once, waiting ``wait_s`` so far)."""
    entry = record.entry
    # What is left of the engine's estimate at entry (0 when an agent was free at once).
    remaining = record.predicted_wait - (at.mono - entry.enqueued_at)
    event = call_queued(
        entry.call_id, entry.queue_id, at, skills=record.skills, priority=entry.priority,
        language=record.language, ewt_s=remaining, position=position, held=held,
    )  # fmt: skip
    if not resync:
        return event
    data = {**event.data, "resync": True, "wait_s": _seconds(at.mono - entry.enqueued_at)}
    return _event(K.CALL_QUEUED, at, data, call_id=entry.call_id, queue=entry.queue_id)


def call_offered(offer: OfferCall, at: Stamp) -> DomainEvent:
    data: dict[str, Scalar] = {
        "agent": offer.agent_id,
        "decision": offer.decision_id,
        "device": offer.device,
        "ring_timeout_s": offer.ring_timeout_s,
    }
    return _event(
        K.CALL_OFFERED, at, data, call_id=offer.call_id, agent_id=offer.agent_id,
        queue=offer.queue_id,
    )  # fmt: skip


def call_ring_no_answer(
    record: CallRecord, agent_id: str, ring_s: float | None, reason: str, at: Stamp
) -> DomainEvent:
    data: dict[str, Scalar] = {"agent": agent_id, "ring_s": ring_s, "reason": reason}
    return _event(
        K.CALL_RING_NO_ANSWER, at, data, call_id=record.entry.call_id, agent_id=agent_id,
        queue=record.entry.queue_id,
    )  # fmt: skip


def call_answered(record: CallRecord, agent_id: str, at: Stamp) -> DomainEvent:
    data: dict[str, Scalar] = {
        "agent": agent_id,
        "wait_s": _seconds(at.mono - record.entry.enqueued_at),
        "predicted_wait_s": _seconds(record.predicted_wait),
        "asterisk_predicted_wait_s": _seconds(record.asterisk_predicted),
    }
    return _event(
        K.CALL_ANSWERED, at, data, call_id=record.entry.call_id, agent_id=agent_id,
        queue=record.entry.queue_id,
    )  # fmt: skip


def call_taken_over(record: CallRecord, agent_id: str, at: Stamp) -> DomainEvent:
    """A consulted agent has the caller after an attended transfer: ``call.answered`` with
    ``taken_over`` (its own handled call; not a new offer of the queue, no wait)."""
    data: dict[str, Scalar] = {"agent": agent_id, "wait_s": 0.0, "taken_over": True}
    return _event(
        K.CALL_ANSWERED, at, data, call_id=record.entry.call_id, agent_id=agent_id,
        queue=record.entry.queue_id,
    )  # fmt: skip


def call_completed(
    record: CallRecord, at: Stamp, by: str = "unknown", hold_s: float = 0.0
) -> DomainEvent:
    """The agent's part of the call ended (``by``: caller, agent, transfer). ``talk_s`` leaves
    out the time on hold (``call.unheld`` carries it), so handle time adds them once each."""
    answered = record.answered_at if record.answered_at is not None else at.mono
    data: dict[str, Scalar] = {
        "agent": record.agent_id,
        "by": by,
        "talk_s": _seconds(at.mono - answered - hold_s),
    }
    return _event(
        K.CALL_COMPLETED, at, data, call_id=record.entry.call_id, agent_id=record.agent_id,
        queue=record.entry.queue_id,
    )  # fmt: skip


def call_held(record: CallRecord, at: Stamp) -> DomainEvent:
    return _event(
        K.CALL_HELD, at, {"agent": record.agent_id}, call_id=record.entry.call_id,
        agent_id=record.agent_id, queue=record.entry.queue_id,
    )  # fmt: skip


def call_unheld(record: CallRecord, at: Stamp, hold_s: float) -> DomainEvent:
    return _event(
        K.CALL_UNHELD, at, {"agent": record.agent_id, "hold_s": _seconds(hold_s)},
        call_id=record.entry.call_id, agent_id=record.agent_id, queue=record.entry.queue_id,
    )  # fmt: skip


def call_transferred(
    record: CallRecord, at: Stamp, kind: str, target: str, *, attended: bool
) -> DomainEvent:
    """The agent handed its caller on (to another agent, a queue or a number)."""
    data: dict[str, Scalar] = {
        "agent": record.agent_id, "target_kind": kind, "target": target, "attended": attended,
    }  # fmt: skip
    return _event(
        K.CALL_TRANSFERRED, at, data, call_id=record.entry.call_id, agent_id=record.agent_id,
        queue=record.entry.queue_id,
    )  # fmt: skip


def call_abandoned(record: CallRecord, at: Stamp) -> DomainEvent:
    """The caller left before an agent answered (while waiting, or while a phone rang)."""
    ringing = record.agent_id if record.state == "offered" else None
    data: dict[str, Scalar] = {"wait_s": _seconds(at.mono - record.entry.enqueued_at)}
    if ringing is not None:
        data["agent"] = ringing
    return _event(
        K.CALL_ABANDONED, at, data, call_id=record.entry.call_id, agent_id=ringing,
        queue=record.entry.queue_id,
    )  # fmt: skip


def call_fallback(record: CallRecord, native_queue: str | None, at: Stamp) -> DomainEvent:
    """The dialplan's bounded hold ran out: Asterisk's native queue has the caller now."""
    data: dict[str, Scalar] = {
        "reason": "hold-timeout",
        "native_queue": native_queue,
        "wait_s": _seconds(at.mono - record.entry.enqueued_at),
    }
    return _event(
        K.CALL_FALLBACK, at, data, call_id=record.entry.call_id, queue=record.entry.queue_id
    )


def call_overflowed(overflow: OverflowCall, at: Stamp) -> DomainEvent:
    data: dict[str, Scalar] = {
        "target": overflow.target.name,
        "target_kind": overflow.target.kind,
        "reason": overflow.reason,
        "wait_s": _seconds(overflow.waited_s),
    }
    return _event(K.CALL_OVERFLOWED, at, data, call_id=overflow.call_id, queue=overflow.from_queue)


def call_ended(call_id: str, queue: str | None, at: Stamp, **data: Scalar) -> DomainEvent:
    """The caller's channel hung up (after ``call.completed`` or ``call.abandoned``)."""
    return _event(K.CALL_ENDED, at, data, call_id=call_id, queue=queue)


def resynced(at: Stamp, calls: Iterable[str], agents: Iterable[str]) -> DomainEvent:
    """The end of a resync: the calls the ACD holds and the agents logged in, so consumers
    can drop what ended while nobody watched (a restart, a reconnect, a dropped event)."""
    data = {"calls": ",".join(sorted(calls)), "agents": ",".join(sorted(agents))}
    return _event(K.ACD_RESYNCED, at, data)


# --- agents --------------------------------------------------------------------------------


def _reason(status: AgentStatus | None) -> str | None:
    return status.pause_reason if status is not None and status.state is AgentState.PAUSED else None


def agent_events(
    agent_id: str,
    before: AgentStatus | None,
    after: AgentStatus,
    at: Stamp,
    *,
    queues: str | None = None,
    always: bool = False,
) -> list[DomainEvent]:
    """One agent's change; ``always`` publishes ``agent.state`` even when nothing changed
    (after a resync, so consumers can reconcile)."""
    old = before.state if before is not None else AgentState.LOGGED_OUT
    new, reason = after.state, _reason(after)
    changed = old is not new or _reason(before) != reason
    if not changed and not always:
        return []
    state_data: dict[str, Scalar] = {"state": new.value}
    if reason is not None:
        state_data["reason"] = reason
    state = _event(K.AGENT_STATE, at, state_data, agent_id=agent_id)
    if not changed:
        return [state]
    if new is AgentState.LOGGED_OUT:
        return [state, _event(K.AGENT_LOGGED_OUT, at, {}, agent_id=agent_id)]
    events: list[DomainEvent] = []
    if old is AgentState.LOGGED_OUT:
        login: dict[str, Scalar] = {"device": after.device}
        if queues is not None:
            login["queues"] = queues
        events.append(_event(K.AGENT_LOGGED_IN, at, login, agent_id=agent_id))
    if new is AgentState.PAUSED:
        events.append(_event(K.AGENT_PAUSED, at, {"reason": reason}, agent_id=agent_id))
    elif old is AgentState.PAUSED:
        events.append(_event(K.AGENT_UNPAUSED, at, {}, agent_id=agent_id))
    events.append(state)
    return events


def changes(
    effects: Iterable[Effect],
    writes: Iterable[AgentWrite],
    at: Stamp,
    queues_of: Mapping[str, str],
    requeued: Callable[[OverflowCall], DomainEvent | None] = lambda _: None,
) -> list[DomainEvent]:
    """Events for one input's effects and agent writes: overflows first (they come from timers
    or the arrival itself), each followed by ``requeued``'s ``call.queued`` for a queue target,
    then agents step by step, each offer before its ``reserved``."""
    events: list[DomainEvent] = []
    offers: dict[str, deque[OfferCall]] = {}
    for effect in effects:
        if isinstance(effect, OverflowCall):
            events.append(call_overflowed(effect, at))
            if effect.target.kind == "queue" and (queued := requeued(effect)) is not None:
                events.append(queued)
        elif isinstance(effect, OfferCall):
            offers.setdefault(effect.agent_id, deque()).append(effect)
    for agent_id, before, after in writes:
        if after.state is AgentState.RESERVED and agent_id in offers:
            pending = offers[agent_id]
            events.append(call_offered(pending.popleft(), at))
            if not pending:
                del offers[agent_id]
        events += agent_events(agent_id, before, after, at, queues=queues_of.get(agent_id))
    for pending in offers.values():  # never expected: every offer reserves its agent first
        events += [call_offered(offer, at) for offer in pending]
    return events

"""What the ACD tells the rest of Hotline: engine changes → typed domain events (pure).

The builders, one per event; ``acd.publisher.AcdPublisher`` calls them for each input of the
service and hands the events to ``publish`` (e.g. ``DomainBus.publish``).

Invariants:
- agents' events come from *every* step of an agent's status during one input
  (``AgentChanged`` effects), not from comparing the start and the end, so a pass through
  ``wrap_up`` with no wrap-up time, or ``available`` between two offers, is still seen; a
  step that changes neither the state nor the pause reason publishes nothing;
- every change of state publishes ``AgentStateChanged``; a login, logout, pause (a new reason
  too) and unpause also publish their own kind, before it (after it for a logout, so the
  session closes last);
- ``CallOffered`` comes right before the ``reserved`` it caused, so a consumer that infers
  agents from call events and one that reads agent events agree at every step;
- an input's own events (``CallAnswered``, ``CallAbandoned`` ...) are built from the state
  before the input is applied, and published before the events of its effects;
- building or publishing never raises into routing: an error is logged, the events lost;
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
from acd.call_record import CallRecord
from acd.effects import AgentChanged, Effect, OfferCall, OverflowCall
from acd.model import AcdConfig
from acd.pbx_events import HoldEntered
from cti import events as ev
from cti.events import DomainEvent

MAX_FIELDS = 50  # IVR variables carried to a screen pop; more is a misconfigured IVR


@dataclass(frozen=True, slots=True)
class Stamp:
    ts: datetime
    mono: float

    @classmethod
    def of(cls, wall_epoch: float, mono: float) -> Stamp:
        return cls(datetime.fromtimestamp(wall_epoch, UTC), mono)


def eligible_queues(config: AcdConfig) -> dict[str, tuple[str, ...]]:
    """Agent id → the queues whose own skills it meets."""
    return {
        agent.id: tuple(queue.id for queue in config.queues if queue.served_by(agent))
        for agent in config.agents
    }


def _seconds(value: float) -> float | None:
    return None if math.isinf(value) or math.isnan(value) else round(max(value, 0.0), 3)


def ivr_fields(held: HoldEntered | None) -> dict[str, str]:
    """The IVR's variables, URL-encoded and masked by the IVR on the caller's channel."""
    if held is None or not held.ivr_data:
        return {}
    return dict(parse_qsl(held.ivr_data, keep_blank_values=True)[:MAX_FIELDS])


def ivr_path(held: HoldEntered | None) -> tuple[str, ...] | None:
    """The IVR's path (node ids, space separated on the channel)."""
    return tuple(held.ivr_path.split()) if held is not None and held.ivr_path else None


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
    resync_wait_s: float | None = None,
) -> ev.CallQueued:
    """The call waits in ``queue`` (arrival, overflow into a queue); ``resync_wait_s``: a call
    rebuilt from Asterisk (already counted once), waiting that long so far."""
    return ev.CallQueued(
        call_id=call_id, queue=queue, skills=dict(skills), priority=priority, language=language,
        # Queues have no priority of their own: anything above the normal 0 is the IVR's VIP.
        vip=priority > 0,
        ewt_s=_seconds(ewt_s) if ewt_s is not None else None,
        position=position if position is not None else 1,
        fields=ivr_fields(held), path=ivr_path(held),
        resync=resync_wait_s is not None, wait_s=resync_wait_s,
        ts=at.ts, mono=at.mono,
    )  # fmt: skip


def record_queued(
    record: CallRecord,
    at: Stamp,
    *,
    position: int | None,
    held: HoldEntered | None = None,
    resync: bool = False,
) -> ev.CallQueued:
    """``CallQueued`` for a call the engine holds, in the queue it is in now."""
    entry = record.entry
    waited = at.mono - entry.enqueued_at
    # What is left of the engine's estimate at entry (0 when an agent was free at once).
    return call_queued(
        entry.call_id, entry.queue_id, at, skills=record.skills, priority=entry.priority,
        language=record.language, ewt_s=record.predicted_wait - waited, position=position,
        held=held, resync_wait_s=_seconds(waited) if resync else None,
    )  # fmt: skip


def call_offered(offer: OfferCall, at: Stamp) -> ev.CallOffered:
    return ev.CallOffered(
        call_id=offer.call_id, queue=offer.queue_id, agent_id=offer.agent_id,
        decision=offer.decision_id, device=offer.device, ring_timeout_s=offer.ring_timeout_s,
        ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_ring_no_answer(
    record: CallRecord, agent_id: str, ring_s: float | None, reason: str, at: Stamp
) -> ev.CallRingNoAnswer:
    return ev.CallRingNoAnswer(
        call_id=record.entry.call_id, queue=record.entry.queue_id, agent_id=agent_id,
        ring_s=ring_s, reason=reason, ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_answered(
    record: CallRecord,
    agent_id: str,
    at: Stamp,
    *,
    ring_s: float | None = None,
    agent_channel_id: str | None = None,
) -> ev.CallAnswered:
    return ev.CallAnswered(
        call_id=record.entry.call_id, queue=record.entry.queue_id, agent_id=agent_id,
        wait_s=_seconds(at.mono - record.entry.enqueued_at), ring_s=ring_s,
        agent_channel_id=agent_channel_id or None,
        predicted_wait_s=_seconds(record.predicted_wait),
        asterisk_predicted_wait_s=_seconds(record.asterisk_predicted),
        ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_taken_over(record: CallRecord, agent_id: str, at: Stamp) -> ev.CallAnswered:
    """A consulted agent has the caller after an attended transfer: answered with
    ``taken_over`` (its own handled call; not a new offer of the queue, no wait)."""
    return ev.CallAnswered(
        call_id=record.entry.call_id, queue=record.entry.queue_id, agent_id=agent_id,
        wait_s=0.0, taken_over=True, ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_completed(
    record: CallRecord, at: Stamp, by: ev.CompletedBy = "unknown", hold_s: float = 0.0
) -> ev.CallCompleted:
    """The agent's part of the call ended. ``talk_s`` leaves out the time on hold."""
    answered = record.answered_at if record.answered_at is not None else at.mono
    return ev.CallCompleted(
        call_id=record.entry.call_id, queue=record.entry.queue_id,
        agent_id=record.agent_id or "", by=by, talk_s=_seconds(at.mono - answered - hold_s),
        ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_held(record: CallRecord, at: Stamp) -> ev.CallHeld:
    return ev.CallHeld(
        call_id=record.entry.call_id, queue=record.entry.queue_id,
        agent_id=record.agent_id or "", ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_unheld(record: CallRecord, at: Stamp, hold_s: float) -> ev.CallUnheld:
    return ev.CallUnheld(
        call_id=record.entry.call_id, queue=record.entry.queue_id,
        agent_id=record.agent_id or "", hold_s=_seconds(hold_s), ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_transferred(
    record: CallRecord,
    at: Stamp,
    kind: ev.TransferTargetKind,
    target: str,
    *,
    attended: bool,
    context: str | None = None,
) -> ev.CallTransferred:
    """The agent handed its caller on (to another agent, a queue or a number)."""
    return ev.CallTransferred(
        call_id=record.entry.call_id, queue=record.entry.queue_id,
        agent_id=record.agent_id or "", target_kind=kind, target=target, attended=attended,
        context=context, ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_abandoned(record: CallRecord, at: Stamp) -> ev.CallAbandoned:
    """The caller left before an agent answered (while waiting, or while a phone rang)."""
    return ev.CallAbandoned(
        call_id=record.entry.call_id, queue=record.entry.queue_id,
        agent_id=record.agent_id if record.state == "offered" else None,
        wait_s=_seconds(at.mono - record.entry.enqueued_at), ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_fallback(record: CallRecord, native_queue: str | None, at: Stamp) -> ev.CallFallback:
    """The dialplan's bounded hold ran out: Asterisk's native queue has the caller now."""
    return ev.CallFallback(
        call_id=record.entry.call_id, queue=record.entry.queue_id, reason="hold-timeout",
        native_queue=native_queue, wait_s=_seconds(at.mono - record.entry.enqueued_at),
        ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_overflowed(overflow: OverflowCall, at: Stamp) -> ev.CallOverflowed:
    return ev.CallOverflowed(
        call_id=overflow.call_id, queue=overflow.from_queue, target=overflow.target.name,
        target_kind=overflow.target.kind, reason=overflow.reason,
        wait_s=_seconds(overflow.waited_s), ts=at.ts, mono=at.mono,
    )  # fmt: skip


def call_ended(call_id: str, queue: str | None, at: Stamp, *, resync: bool = False) -> ev.CallEnded:
    """The caller's channel hung up (after ``CallCompleted`` or ``CallAbandoned``)."""
    return ev.CallEnded(call_id=call_id, queue=queue, resync=resync, ts=at.ts, mono=at.mono)


def resynced(at: Stamp, calls: Iterable[str], agents: Iterable[str]) -> ev.AcdResynced:
    """The end of a resync: the calls the ACD holds and the agents logged in, so consumers
    can drop what ended while nobody watched (a restart, a reconnect, a dropped event)."""
    return ev.AcdResynced(
        calls=tuple(sorted(calls)), agents=tuple(sorted(agents)), ts=at.ts, mono=at.mono
    )


# --- agents --------------------------------------------------------------------------------


def _reason(status: AgentStatus | None) -> str | None:
    return status.pause_reason if status is not None and status.state is AgentState.PAUSED else None


def agent_events(
    agent_id: str,
    before: AgentStatus | None,
    after: AgentStatus,
    at: Stamp,
    *,
    queues: tuple[str, ...] | None = None,
    always: bool = False,
) -> list[DomainEvent]:
    """One agent's change; ``always`` publishes its state even when nothing changed (after a
    resync, so consumers can reconcile)."""
    old = before.state if before is not None else AgentState.LOGGED_OUT
    new, reason = after.state, _reason(after)
    changed = old is not new or _reason(before) != reason
    if not changed and not always:
        return []
    ts, mono = at.ts, at.mono
    state = ev.AgentStateChanged(
        agent_id=agent_id, state=new.value, reason=reason, ts=ts, mono=mono
    )
    if not changed:
        return [state]
    if new is AgentState.LOGGED_OUT:
        return [state, ev.AgentLoggedOut(agent_id=agent_id, ts=ts, mono=mono)]
    events: list[DomainEvent] = []
    if old is AgentState.LOGGED_OUT:
        login = ev.AgentLoggedIn(
            agent_id=agent_id, device=after.device, queues=queues, ts=ts, mono=mono
        )
        events.append(login)
    if new is AgentState.PAUSED:
        events.append(ev.AgentPaused(agent_id=agent_id, reason=reason, ts=ts, mono=mono))
    elif old is AgentState.PAUSED:
        events.append(ev.AgentUnpaused(agent_id=agent_id, ts=ts, mono=mono))
    events.append(state)
    return events


def changes(
    effects: Iterable[Effect],
    at: Stamp,
    queues_of: Mapping[str, tuple[str, ...]],
    requeued: Callable[[OverflowCall], DomainEvent | None] = lambda _: None,
) -> list[DomainEvent]:
    """Events for one input's effects: overflows first (they come from timers or the arrival
    itself), each followed by ``requeued``'s ``CallQueued`` for a queue target, then agents
    step by step (``AgentChanged``), each offer before its ``reserved``."""
    events: list[DomainEvent] = []
    offers: dict[str, deque[OfferCall]] = {}
    steps: list[AgentChanged] = []
    for effect in effects:
        if isinstance(effect, OverflowCall):
            events.append(call_overflowed(effect, at))
            if effect.target.kind == "queue" and (queued := requeued(effect)) is not None:
                events.append(queued)
        elif isinstance(effect, OfferCall):
            offers.setdefault(effect.agent_id, deque()).append(effect)
        elif isinstance(effect, AgentChanged):
            steps.append(effect)
    for step in steps:
        agent_id = step.agent_id
        if step.after.state is AgentState.RESERVED and agent_id in offers:
            pending = offers[agent_id]
            events.append(call_offered(pending.popleft(), at))
            if not pending:
                del offers[agent_id]
        events += agent_events(
            agent_id, step.before, step.after, at, queues=queues_of.get(agent_id)
        )
    for pending in offers.values():  # never expected: every offer reserves its agent first
        events += [call_offered(offer, at) for offer in pending]
    return events

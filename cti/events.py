"""Domain events: what happened to a call, a queue or an agent, as one frozen envelope.

The IVR, the ACD and recordings publish them; the event log, live statistics, WebSocket and
MQTT consume them. Features meet here instead of importing each other. An event's ``kind`` is
one of ``EventKind`` (dotted: subject, then what happened); ``data`` holds JSON-safe scalars
only, with sensitive values already masked by the publisher. IVR-collected fields travel as
``field.<name>`` keys (a screen pop shows them). Live statistics (``hotline.live.stats``)
read ``wait_s``/``talk_s`` when given and otherwise measure them on ``mono``. ``ts`` is
wall-clock UTC (stored and shown); ``mono`` is the monotonic clock for durations and SLA timers.

Publishing never blocks (``cti.fanout``): a slow consumer loses its own events, counted.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from cti.fanout import Fanout, Overflow, Selector, Subscription

Scalar = str | int | float | bool | None


class EventKind(StrEnum):
    # calls, from the first ring to the end
    CALL_STARTED = "call.started"  # reached a hotline (did, caller, caller_name, hotline, product)
    IVR_NODE = "ivr.node"  # node visited (node, kind)
    IVR_INPUT = "ivr.input"  # keys entered (masked), accepted or not
    IVR_ENDED = "ivr.ended"  # outcome, path, language, vip, field.<name> (masked)
    # queue, skills, priority, language, vip, ewt_s (estimate at entry), field.<name> (masked);
    # from the ACD also position, path (IVR nodes joined by ">") and, for a call rebuilt from
    # Asterisk after a reconnect or restart, resync (true) and wait_s (waited so far)
    CALL_QUEUED = "call.queued"
    CALL_OFFERED = "call.offered"  # agent, decision; from the ACD also device, ring_timeout_s
    CALL_RING_NO_ANSWER = "call.ring_no_answer"  # agent, ring_s, reason (dial status)
    # agent, wait_s, predicted_wait_s; from the ACD also asterisk_predicted_wait_s; taken_over
    # (true): a consulted agent took the caller after an attended transfer (not a queue offer)
    CALL_ANSWERED = "call.answered"
    # by caller|agent|transfer|unknown, talk_s (hold left out: call.unheld carries it); from
    # the ACD also agent
    CALL_COMPLETED = "call.completed"
    CALL_ABANDONED = "call.abandoned"  # wait_s; agent when it left while a phone rang
    # target, reason, wait_s; from the ACD also target_kind (queue, voicemail, closed)
    CALL_OVERFLOWED = "call.overflowed"
    # the agent handed the caller on: agent, target_kind (agent, queue, number), target,
    # attended; a transfer into a queue is followed by call.queued (a new leg)
    CALL_TRANSFERRED = "call.transferred"
    # reached the native queue (Hotline was down or failed); from the ACD: reason
    # (hold-timeout), native_queue, wait_s
    CALL_FALLBACK = "call.fallback"
    CALL_ENDED = "call.ended"  # hang-up of the caller's channel, whatever the state
    CALL_HELD = "call.held"  # the agent put the caller on hold (agent)
    CALL_UNHELD = "call.unheld"  # agent, hold_s (also when the call ends on hold)
    # agents
    AGENT_LOGGED_IN = "agent.logged_in"  # device, queues (comma-separated ids, optional)
    AGENT_LOGGED_OUT = "agent.logged_out"
    AGENT_PAUSED = "agent.paused"  # reason
    AGENT_UNPAUSED = "agent.unpaused"
    # state (available, reserved, on_call, wrap_up, paused, logged_out), reason when paused;
    # the ACD publishes one on every change, and for every agent after a resync
    AGENT_STATE = "agent.state"
    AGENT_DISPOSITION = "agent.disposition"  # disposition, note (call_id in the envelope)
    # an admin edited the agent's skills: skills, previous ("skill:level,..."), applies
    # (next_login: the ACD routes by the skills an agent logged in with), by (API principal)
    AGENT_SKILLS_CHANGED = "agent.skills_changed"
    # the ACD rebuilt its state from Asterisk (start-up, AMI reconnect): calls (the calls it
    # holds, waiting or with an agent) and agents (those logged in), comma-separated ids;
    # published after that resync's other events, so consumers drop what is no longer there
    ACD_RESYNCED = "acd.resynced"
    # recordings
    RECORDING_STARTED = "recording.started"
    RECORDING_MUTED = "recording.muted"
    RECORDING_UNMUTED = "recording.unmuted"
    RECORDING_STOPPED = "recording.stopped"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    kind: EventKind
    call_id: str | None = None
    agent_id: str | None = None
    queue: str | None = None
    data: Mapping[str, Scalar] = field(default_factory=lambda: MappingProxyType({}))
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    mono: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("DomainEvent.ts must be timezone-aware")
        for key, value in self.data.items():
            if not isinstance(value, str | int | float | bool | type(None)):
                raise TypeError(f"DomainEvent.data[{key!r}] must be a scalar, not {type(value)}")


def _kind(event: DomainEvent) -> str:
    return event.kind.value


class DomainBus(Fanout[DomainEvent]):
    """In-process publish/subscribe of domain events; selectors name kinds (``"call.queued"``)."""

    def __init__(self) -> None:
        super().__init__(key=_kind, label="domain")

    def subscribe(
        self,
        selector: Selector[DomainEvent] = None,
        *,
        maxsize: int = 10_000,
        overflow: Overflow = "drop_oldest",
    ) -> Subscription[DomainEvent]:
        return super().subscribe(selector, maxsize=maxsize, overflow=overflow)

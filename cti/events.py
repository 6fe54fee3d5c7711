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
    # queue, skills, priority, language, vip, ewt_s (estimate at entry), field.<name> (masked)
    CALL_QUEUED = "call.queued"
    CALL_OFFERED = "call.offered"  # agent, decision
    CALL_RING_NO_ANSWER = "call.ring_no_answer"
    CALL_ANSWERED = "call.answered"  # agent, wait_s, predicted_wait_s
    CALL_COMPLETED = "call.completed"  # by caller|agent, talk_s
    CALL_ABANDONED = "call.abandoned"  # wait_s
    CALL_OVERFLOWED = "call.overflowed"  # target, reason, wait_s
    CALL_TRANSFERRED = "call.transferred"
    CALL_FALLBACK = "call.fallback"  # reached the native queue (Hotline was down or failed)
    CALL_ENDED = "call.ended"  # hang-up of the caller's channel, whatever the state
    CALL_HELD = "call.held"  # the agent put the caller on hold (agent)
    CALL_UNHELD = "call.unheld"
    # agents
    AGENT_LOGGED_IN = "agent.logged_in"  # device, queues (comma-separated ids, optional)
    AGENT_LOGGED_OUT = "agent.logged_out"
    AGENT_PAUSED = "agent.paused"  # reason
    AGENT_UNPAUSED = "agent.unpaused"
    AGENT_STATE = "agent.state"  # state (available, reserved, on_call, wrap_up, …)
    AGENT_DISPOSITION = "agent.disposition"  # disposition, note (call_id in the envelope)
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

"""Domain events: what happened to a call, a queue, an agent or a recording, one frozen
dataclass per kind, the union ``DomainEvent``, one codec to the stored JSON, and the bus.

The IVR, the ACD and recordings publish them; the event log, live statistics, WebSocket and
MQTT consume them. Features meet here instead of importing each other. A consumer matches
on the classes and ends with ``case _: assert_never(event)``, so a new kind is a type error
wherever it is not handled. Sensitive values are masked by the publisher. ``ts`` is
wall-clock UTC (stored and shown); ``mono`` the monotonic clock (durations, SLA timers).
"""

from __future__ import annotations

from cti.events.agents import (
    AgentDisposition,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentSkillsChanged,
    AgentStateChanged,
    AgentStateName,
    AgentUnpaused,
)
from cti.events.base import Event
from cti.events.bus import DomainBus
from cti.events.calls import (
    AcdResynced,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallFallback,
    CallHeld,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    CallTransferred,
    CallUnheld,
    CompletedBy,
    OverflowTargetKind,
    TransferTargetKind,
)
from cti.events.codec import EVENT_CLASSES, DomainEvent, EncodedEvent, decode, encode
from cti.events.fields import Scalar, UnreadableEvent
from cti.events.ivr import CallStarted, IvrEnded, IvrInput, IvrNode
from cti.events.kinds import EventKind
from cti.events.recordings import (
    RecordingMuted,
    RecordingStarted,
    RecordingStopped,
    RecordingUnmuted,
)

__all__ = [
    "EVENT_CLASSES",
    "AcdResynced",
    "AgentDisposition",
    "AgentLoggedIn",
    "AgentLoggedOut",
    "AgentPaused",
    "AgentSkillsChanged",
    "AgentStateChanged",
    "AgentStateName",
    "AgentUnpaused",
    "CallAbandoned",
    "CallAnswered",
    "CallCompleted",
    "CallEnded",
    "CallFallback",
    "CallHeld",
    "CallOffered",
    "CallOverflowed",
    "CallQueued",
    "CallRingNoAnswer",
    "CallStarted",
    "CallTransferred",
    "CallUnheld",
    "CompletedBy",
    "DomainBus",
    "DomainEvent",
    "EncodedEvent",
    "Event",
    "EventKind",
    "IvrEnded",
    "IvrInput",
    "IvrNode",
    "OverflowTargetKind",
    "RecordingMuted",
    "RecordingStarted",
    "RecordingStopped",
    "RecordingUnmuted",
    "Scalar",
    "TransferTargetKind",
    "UnreadableEvent",
    "decode",
    "encode",
]

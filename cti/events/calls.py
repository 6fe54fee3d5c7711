"""What happens to a call once the IVR hands it to the ACD, to its end.

Published by the ACD (``acd.publish``). Durations are seconds, rounded to the millisecond,
``None`` when unknown. ``queue`` is the queue the call is in when it happens (for
``CallOverflowed``, the queue it leaves). A call counts once per queue visit (a *leg*):
an overflow or a transfer into a queue is followed by a new ``CallQueued``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from cti.events.base import Event
from cti.events.fields import agent_column, column, ids, ivr_fields, skill_levels
from cti.events.kinds import EventKind

CompletedBy = Literal["caller", "agent", "transfer", "unknown"]
TransferTargetKind = Literal["agent", "queue", "number"]
OverflowTargetKind = Literal["queue", "voicemail", "closed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQueued(Event):
    """The call waits in ``queue``: an arrival from the IVR, an overflow or a transfer into a
    queue, or (``resync``) a waiting call the ACD rebuilt from Asterisk after a restart or a
    reconnect, already counted once and waiting ``wait_s`` so far."""

    kind: ClassVar[EventKind] = EventKind.CALL_QUEUED
    call_id: str = column()
    queue: str = column()
    skills: Mapping[str, int] = skill_levels()  # required beyond the queue's own
    priority: int = 0
    language: str | None = None
    vip: bool = False  # priority above the normal 0: the IVR's VIP
    ewt_s: float | None = None  # the estimated wait at entry
    position: int = 1
    fields: Mapping[str, str] = ivr_fields()  # what the IVR collected, sensitive ones masked
    path: tuple[str, ...] | None = ids(">", default=None)  # IVR nodes visited
    resync: bool = False
    wait_s: float | None = None  # resync only


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOffered(Event):
    kind: ClassVar[EventKind] = EventKind.CALL_OFFERED
    call_id: str = column()
    queue: str = column()
    agent_id: str = agent_column()
    decision: int  # the routing decision's id (its trace)
    device: str
    ring_timeout_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRingNoAnswer(Event):
    kind: ClassVar[EventKind] = EventKind.CALL_RING_NO_ANSWER
    call_id: str = column()
    queue: str = column()
    agent_id: str = agent_column()
    ring_s: float | None = None
    reason: str  # Dial's status in lower case (noanswer, busy, ...) or redirect-failed


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(Event):
    """An agent answered; ``taken_over``: a consulted agent took the caller after an attended
    transfer (its own handled call, not a new offer of the queue, no wait)."""

    kind: ClassVar[EventKind] = EventKind.CALL_ANSWERED
    call_id: str = column()
    queue: str = column()
    agent_id: str = agent_column()
    wait_s: float | None = None
    ring_s: float | None = None  # from the offer to the answer
    agent_channel_id: str | None = None  # the Asterisk uniqueid of the agent's channel
    predicted_wait_s: float | None = None  # Hotline's estimate at entry
    asterisk_predicted_wait_s: float | None = None  # app_queue's formula, for comparison
    taken_over: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCompleted(Event):
    """The agent's part of the call ended. ``talk_s`` leaves out time on hold
    (``CallUnheld`` carries it), so handle time adds them once each."""

    kind: ClassVar[EventKind] = EventKind.CALL_COMPLETED
    call_id: str = column()
    queue: str = column()
    agent_id: str = agent_column()
    by: CompletedBy = "unknown"
    talk_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAbandoned(Event):
    """The caller left before an answer; ``agent_id``: whose phone was ringing then."""

    kind: ClassVar[EventKind] = EventKind.CALL_ABANDONED
    call_id: str = column()
    queue: str = column()
    agent_id: str | None = agent_column(None)
    wait_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOverflowed(Event):
    """The call left ``queue`` for ``target``: ``reason`` is the rule that fired (``max_wait``:
    waited too long; ``ewt``: the estimated wait at entry was too long)."""

    kind: ClassVar[EventKind] = EventKind.CALL_OVERFLOWED
    call_id: str = column()
    queue: str = column()
    target: str
    target_kind: OverflowTargetKind
    reason: str
    wait_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(Event):
    """The agent handed its caller on. ``context`` and ``target`` are where Asterisk sent the
    caller (a number: the transfer context and the number; a queue or an agent: the ACD's
    hold context, then a new ``CallQueued``)."""

    kind: ClassVar[EventKind] = EventKind.CALL_TRANSFERRED
    call_id: str = column()
    queue: str = column()
    agent_id: str = agent_column()
    target_kind: TransferTargetKind
    target: str
    attended: bool = False
    context: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFallback(Event):
    """The caller reached Asterisk's native queue (the ACD's bounded hold ran out)."""

    kind: ClassVar[EventKind] = EventKind.CALL_FALLBACK
    call_id: str = column()
    queue: str | None = column(None)
    reason: str
    native_queue: str | None = None
    wait_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(Event):
    """The caller's channel is gone, whatever the state (after ``CallCompleted`` or
    ``CallAbandoned``); ``resync``: it ended while nobody watched (found at a resync)."""

    kind: ClassVar[EventKind] = EventKind.CALL_ENDED
    call_id: str = column()
    queue: str | None = column(None)
    resync: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHeld(Event):
    kind: ClassVar[EventKind] = EventKind.CALL_HELD
    call_id: str = column()
    queue: str = column()
    agent_id: str = agent_column()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallUnheld(Event):
    """Off hold (also when the call ends on hold): ``hold_s`` this hold lasted."""

    kind: ClassVar[EventKind] = EventKind.CALL_UNHELD
    call_id: str = column()
    queue: str = column()
    agent_id: str = agent_column()
    hold_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcdResynced(Event):
    """The ACD rebuilt its state from Asterisk (start-up, AMI reconnect, lost events): the
    calls it holds (waiting or with an agent) and the agents logged in. Published after that
    resync's other events, so consumers drop what is no longer there."""

    kind: ClassVar[EventKind] = EventKind.ACD_RESYNCED
    calls: tuple[str, ...] = ids()
    agents: tuple[str, ...] = ids()

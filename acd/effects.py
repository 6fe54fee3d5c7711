"""What the ACD core consumes (``CallArrived``) and what it asks the service to do (effects).

Every engine input returns a list of effects; the async service carries them out in order
(AMI ``Redirect`` for ``OfferCall``, a timer for ``WrapUpEnds`` and ``WakeUpAt`` …). Effects are
frozen dataclasses so they can be logged, compared in tests and replayed by the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.agent_state import AgentPaused, AgentStatus, WrapUpEnds
from acd.model import OverflowTarget


@dataclass(frozen=True, slots=True)
class CallArrived:
    call_id: str
    queue_id: str
    enqueued_at: float  # monotonic seconds when the caller entered the queue
    priority: int = 0  # higher first (VIP); the IVR gives 0..100
    skills: Mapping[str, int] = field(default_factory=dict)  # beyond the queue's own
    language: str | None = None  # becomes the skill ``language_<code>``


@dataclass(frozen=True, slots=True)
class OfferCall:
    """Connect the caller to the agent's device (AMI Redirect into the connect context)."""

    call_id: str
    agent_id: str
    device: str
    queue_id: str
    ring_timeout_s: float
    decision_id: int


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """The offer is void (the caller left while the agent's phone rang): stop ringing."""

    call_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OverflowCall:
    """The call leaves its queue for another queue, voicemail or a closed message."""

    call_id: str
    from_queue: str
    target: OverflowTarget
    reason: str  # "max_wait" or "ewt"
    waited_s: float


@dataclass(frozen=True, slots=True)
class WakeUpAt:
    """Call ``tick(at)`` then (replaces any earlier wake-up; relaxation and max-wait timers)."""

    at: float


@dataclass(frozen=True, slots=True)
class AgentChanged:
    """An agent's status was written: ``before`` (None: never seen) and ``after``. One per
    step, in order, so a pass through ``wrap_up`` with no wrap-up time, or ``available``
    between two offers, is seen. Only from an engine asked to report them
    (``AcdEngine(report_agents=True)``: the live service publishes each step)."""

    agent_id: str
    before: AgentStatus | None
    after: AgentStatus


@dataclass(frozen=True, slots=True)
class Ignored:
    """A stale or duplicate event (e.g. an answer for an offer already resolved)."""

    event: str
    subject: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A request not allowed now (e.g. pause while on a call); state is unchanged."""

    event: str
    subject: str
    reason: str


Effect = (
    OfferCall
    | OfferWithdrawn
    | OverflowCall
    | WakeUpAt
    | WrapUpEnds
    | AgentPaused
    | AgentChanged
    | Ignored
    | Rejected
)

__all__ = [
    "AgentChanged",
    "AgentPaused",
    "CallArrived",
    "Effect",
    "Ignored",
    "OfferCall",
    "OfferWithdrawn",
    "OverflowCall",
    "Rejected",
    "WakeUpAt",
    "WrapUpEnds",
]

"""Agent state machine as a table over enums (pure: time is an argument, nothing sleeps).

Invariants:
- ``TRANSITIONS`` is the whole machine: a ``(state, input)`` pair missing from it is illegal
  and raises ``IllegalTransition`` (the caller decides whether that is a bug or a stale event);
- the only guarded edge is ``(reserved, no_answer)``: it lands in ``available``, or in
  ``paused`` with reason ``no-answer`` when the consecutive misses reach the agent's limit;
- an answered offer resets the consecutive-miss count, so does an unpause;
- ``on_call`` → ``call_end`` always passes through ``wrap_up`` and returns the effect
  ``WrapUpEnds(at)``; the service schedules ``wrap_up_done`` then (``at == now`` for 0 s).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, StrEnum

NO_ANSWER_REASON = "no-answer"


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"  # an offer is ringing the agent's device
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class AgentInput(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    OFFER = "offer"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    # The caller hung up (or was overflowed) while the agent's phone was ringing: no miss.
    OFFER_CANCELLED = "offer_cancelled"
    CALL_END = "call_end"
    WRAP_UP_DONE = "wrap_up_done"


class Action(Enum):
    NONE = "none"
    LOGIN = "login"  # remember the device
    LOGOUT = "logout"
    SET_PAUSE = "set_pause"  # remember the reason
    CLEAR_PAUSE = "clear_pause"  # also forgets the misses
    COUNT_MISS = "count_miss"  # guarded: may divert to paused(no-answer)
    ANSWERED = "answered"  # resets the misses
    START_WRAP_UP = "start_wrap_up"


S, In, A = AgentState, AgentInput, Action
TRANSITIONS: dict[tuple[AgentState, AgentInput], tuple[AgentState, Action]] = {
    (S.LOGGED_OUT, In.LOGIN): (S.AVAILABLE, A.LOGIN),
    (S.AVAILABLE, In.LOGOUT): (S.LOGGED_OUT, A.LOGOUT),
    (S.PAUSED, In.LOGOUT): (S.LOGGED_OUT, A.LOGOUT),
    (S.WRAP_UP, In.LOGOUT): (S.LOGGED_OUT, A.LOGOUT),
    (S.AVAILABLE, In.PAUSE): (S.PAUSED, A.SET_PAUSE),
    (S.WRAP_UP, In.PAUSE): (S.PAUSED, A.SET_PAUSE),
    (S.PAUSED, In.PAUSE): (S.PAUSED, A.SET_PAUSE),  # a new reason
    (S.PAUSED, In.UNPAUSE): (S.AVAILABLE, A.CLEAR_PAUSE),
    (S.AVAILABLE, In.OFFER): (S.RESERVED, A.NONE),
    (S.RESERVED, In.ANSWER): (S.ON_CALL, A.ANSWERED),
    (S.RESERVED, In.NO_ANSWER): (S.AVAILABLE, A.COUNT_MISS),
    (S.RESERVED, In.OFFER_CANCELLED): (S.AVAILABLE, A.NONE),
    (S.ON_CALL, In.CALL_END): (S.WRAP_UP, A.START_WRAP_UP),
    (S.WRAP_UP, In.WRAP_UP_DONE): (S.AVAILABLE, A.NONE),
}
del S, In, A


class IllegalTransition(Exception):
    """The input is not allowed in the agent's current state."""

    def __init__(self, agent_id: str, state: AgentState, event: AgentInput) -> None:
        super().__init__(f"agent {agent_id}: {event.value} is not allowed in state {state.value}")
        self.agent_id = agent_id
        self.state = state
        self.event = event


@dataclass(frozen=True, slots=True)
class AgentStatus:
    agent_id: str
    state: AgentState = AgentState.LOGGED_OUT
    device: str | None = None
    pause_reason: str | None = None
    misses: int = 0  # consecutive unanswered offers
    since: float = 0.0  # when the current state began (monotonic seconds)
    wrap_up_until: float | None = None


@dataclass(frozen=True, slots=True)
class WrapUpEnds:
    """Effect: call ``wrap_up_done`` for this agent at ``at`` (monotonic seconds)."""

    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentPaused:
    """Effect: the agent was paused by the machine itself (not by a request)."""

    agent_id: str
    reason: str


AgentEffect = WrapUpEnds | AgentPaused


def step(
    status: AgentStatus,
    event: AgentInput,
    *,
    now: float,
    wrap_up_s: float = 0.0,
    no_answer_limit: int = 2,
    device: str | None = None,
    reason: str | None = None,
) -> tuple[AgentStatus, tuple[AgentEffect, ...]]:
    """Apply one input; returns the new status and the effects the service must carry out."""
    try:
        new_state, action = TRANSITIONS[(status.state, event)]
    except KeyError:
        raise IllegalTransition(status.agent_id, status.state, event) from None
    new = replace(status, state=new_state, since=now, wrap_up_until=None)
    effects: tuple[AgentEffect, ...] = ()
    if action is Action.LOGIN:
        new = replace(new, device=device or status.device, misses=0, pause_reason=None)
    elif action is Action.LOGOUT:
        new = replace(new, device=None, misses=0, pause_reason=None)
    elif action is Action.SET_PAUSE:
        new = replace(new, pause_reason=reason or "break")
    elif action is Action.CLEAR_PAUSE:
        new = replace(new, pause_reason=None, misses=0)
    elif action is Action.ANSWERED:
        new = replace(new, misses=0)
    elif action is Action.COUNT_MISS:
        misses = status.misses + 1
        new = replace(new, misses=misses)
        if misses >= no_answer_limit:
            new = replace(new, state=AgentState.PAUSED, pause_reason=NO_ANSWER_REASON)
            effects = (AgentPaused(status.agent_id, NO_ANSWER_REASON),)
    elif action is Action.START_WRAP_UP:
        until = now + wrap_up_s
        new = replace(new, wrap_up_until=until)
        effects = (WrapUpEnds(status.agent_id, until),)
    return new, effects


def allowed_inputs(state: AgentState) -> frozenset[AgentInput]:
    return frozenset(event for (source, event) in TRANSITIONS if source is state)


def mermaid_diagram() -> str:
    """The table as a Mermaid state diagram (for the README and the supervisor page)."""
    lines = ["stateDiagram-v2", f"    [*] --> {AgentState.LOGGED_OUT.value}"]
    for (source, event), (target, action) in TRANSITIONS.items():
        lines.append(f"    {source.value} --> {target.value}: {event.value}")
        if action is Action.COUNT_MISS:
            lines.append(
                f"    {source.value} --> {AgentState.PAUSED.value}: {event.value} [misses >= limit]"
            )
    return "\n".join(lines)

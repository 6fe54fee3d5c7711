"""Synthetic domain events for benchmarks and tests: whole calls and agent shifts.

Times are given, never read from the clock, so a scripted day is reproducible; ``mono``
(which nothing here measures by) is the default, now.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from cti.events import (
    AgentDisposition,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentStateChanged,
    AgentUnpaused,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallOffered,
    CallQueued,
    CallStarted,
    CallUnheld,
    CompletedBy,
    DomainEvent,
    IvrEnded,
    IvrNode,
)


def _after(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


def answered_call(
    call_id: str,
    start: datetime,
    *,
    queue: str = "cards",
    agent_id: str = "1001",
    ivr_s: float = 10.0,
    wait_s: float = 12.0,
    talk_s: float = 120.0,
    hold_s: float = 0.0,
    wrap_up_s: float = 15.0,
    caller: str = "13800000000",
    by: CompletedBy = "caller",
) -> list[DomainEvent]:
    """One call answered by ``agent_id``, with its agent's state changes around it; a hold of
    ``hold_s`` (if any) in the middle of the talk."""
    queued = _after(start, ivr_s)
    answered = _after(queued, wait_s)
    done = _after(answered, talk_s + hold_s)
    wrap_end = _after(done, wrap_up_s)
    hold: list[DomainEvent] = []
    if hold_s > 0:
        held = _after(answered, talk_s / 2)
        hold = [
            CallHeld(call_id=call_id, queue=queue, agent_id=agent_id, ts=held),
            CallUnheld(
                call_id=call_id,
                queue=queue,
                agent_id=agent_id,
                hold_s=hold_s,
                ts=_after(held, hold_s),
            ),
        ]
    return [
        *_ivr(call_id, start, queued, caller),
        CallQueued(call_id=call_id, queue=queue, position=1, ts=queued),
        CallOffered(
            call_id=call_id,
            queue=queue,
            agent_id=agent_id,
            decision=0,
            device=f"PJSIP/{agent_id}",
            ring_timeout_s=15.0,
            ts=answered,
        ),
        CallAnswered(
            call_id=call_id,
            queue=queue,
            agent_id=agent_id,
            wait_s=wait_s,
            predicted_wait_s=wait_s,
            ts=answered,
        ),
        AgentStateChanged(agent_id=agent_id, state="on_call", ts=answered),
        *hold,
        CallCompleted(
            call_id=call_id, queue=queue, agent_id=agent_id, by=by, talk_s=talk_s, ts=done
        ),
        CallEnded(call_id=call_id, queue=queue, ts=done),
        AgentStateChanged(agent_id=agent_id, state="wrap_up", ts=done),
        AgentDisposition(agent_id=agent_id, call_id=call_id, disposition="resolved", ts=wrap_end),
        AgentStateChanged(agent_id=agent_id, state="available", ts=wrap_end),
    ]


def abandoned_call(
    call_id: str,
    start: datetime,
    *,
    queue: str = "cards",
    ivr_s: float = 10.0,
    wait_s: float = 30.0,
    caller: str = "13900000000",
) -> list[DomainEvent]:
    queued = _after(start, ivr_s)
    gone = _after(queued, wait_s)
    return [
        *_ivr(call_id, start, queued, caller),
        CallQueued(call_id=call_id, queue=queue, position=2, ts=queued),
        CallAbandoned(call_id=call_id, queue=queue, wait_s=wait_s, ts=gone),
        CallEnded(call_id=call_id, queue=queue, ts=gone),
    ]


def _ivr(call_id: str, start: datetime, end: datetime, caller: str) -> list[DomainEvent]:
    return [
        CallStarted(
            call_id=call_id, did="95555", caller=caller, hotline="bank", product="cards", ts=start
        ),
        IvrNode(call_id=call_id, node="welcome", ts=start),
        IvrNode(call_id=call_id, node="menu", ts=start),
        IvrEnded(
            call_id=call_id,
            outcome="enqueue",
            path=("welcome", "menu"),
            language="zh",
            ts=end,
        ),
    ]


def agent_shift(
    agent_id: str, login: datetime, logout: datetime, pauses: list[tuple[datetime, float, str]]
) -> list[DomainEvent]:
    """Login, pauses (start, seconds, reason), logout."""
    events: list[DomainEvent] = [AgentLoggedIn(agent_id=agent_id, ts=login)]
    for start, seconds, reason in pauses:
        events += [
            AgentPaused(agent_id=agent_id, reason=reason, ts=start),
            AgentUnpaused(agent_id=agent_id, ts=_after(start, seconds)),
        ]
    events.append(AgentLoggedOut(agent_id=agent_id, ts=logout))
    return events


def traffic(start: datetime, calls: int, agents: int = 50) -> Iterator[DomainEvent]:
    """``calls`` calls, one every 2 s, 1 in 5 abandoned (half of those short)."""
    for n in range(calls):
        at = start + timedelta(seconds=2 * n)
        call_id = f"sim-{start.timestamp():.0f}-{n}"
        if n % 5 == 4:
            yield from abandoned_call(call_id, at, wait_s=3.0 if n % 10 == 4 else 40.0)
        else:
            yield from answered_call(call_id, at, agent_id=f"{1000 + n % agents}")

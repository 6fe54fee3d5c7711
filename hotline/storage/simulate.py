"""Synthetic domain events for benchmarks and tests: whole calls and agent shifts.

Times are given, never read from the clock, so a scripted day is reproducible. The event
shapes follow the ``data`` keys documented in ``cti.events``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from cti.events import DomainEvent, EventKind, make_event


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
    by: str = "caller",
) -> list[DomainEvent]:
    """One call answered by ``agent_id``, with its agent's state changes around it."""
    queued = start + timedelta(seconds=ivr_s)
    answered = queued + timedelta(seconds=wait_s)
    done = answered + timedelta(seconds=talk_s + hold_s)
    wrap_end = done + timedelta(seconds=wrap_up_s)
    return [
        *_ivr(call_id, start, queued, caller),
        make_event(EventKind.CALL_QUEUED, call_id, queue=queue, ts=queued, data={"position": 1}),
        make_event(EventKind.CALL_OFFERED, call_id, agent_id, queue, ts=answered),
        make_event(
            EventKind.CALL_ANSWERED,
            call_id,
            agent_id,
            queue,
            ts=answered,
            data={"wait_s": wait_s, "predicted_wait_s": wait_s},
        ),
        make_event(EventKind.AGENT_STATE, None, agent_id, ts=answered, data={"state": "on_call"}),
        make_event(
            EventKind.CALL_COMPLETED,
            call_id,
            agent_id,
            queue,
            ts=done,
            data={"by": by, "talk_s": talk_s, "hold_s": hold_s},
        ),
        make_event(EventKind.CALL_ENDED, call_id, agent_id, queue, ts=done),
        make_event(EventKind.AGENT_STATE, None, agent_id, ts=done, data={"state": "wrap_up"}),
        make_event(
            EventKind.AGENT_DISPOSITION,
            call_id,
            agent_id,
            ts=wrap_end,
            data={"disposition": "resolved"},
        ),
        make_event(EventKind.AGENT_STATE, None, agent_id, ts=wrap_end, data={"state": "available"}),
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
    queued = start + timedelta(seconds=ivr_s)
    gone = queued + timedelta(seconds=wait_s)
    return [
        *_ivr(call_id, start, queued, caller),
        make_event(EventKind.CALL_QUEUED, call_id, queue=queue, ts=queued, data={"position": 2}),
        make_event(
            EventKind.CALL_ABANDONED,
            call_id,
            queue=queue,
            ts=gone,
            data={"wait_s": wait_s, "position": 1},
        ),
        make_event(EventKind.CALL_ENDED, call_id, queue=queue, ts=gone),
    ]


def _ivr(call_id: str, start: datetime, end: datetime, caller: str) -> list[DomainEvent]:
    data = {"did": "95555", "caller": caller, "hotline": "bank", "product": "cards"}
    return [
        make_event(EventKind.CALL_STARTED, call_id, ts=start, data=data),
        make_event(EventKind.IVR_NODE, call_id, ts=start, data={"node": "welcome"}),
        make_event(EventKind.IVR_NODE, call_id, ts=start, data={"node": "menu"}),
        make_event(
            EventKind.IVR_ENDED,
            call_id,
            ts=end,
            data={"outcome": "enqueue", "path": "welcome>menu", "language": "zh"},
        ),
    ]


def agent_shift(
    agent_id: str, login: datetime, logout: datetime, pauses: list[tuple[datetime, float, str]]
) -> list[DomainEvent]:
    """Login, pauses (start, seconds, reason), logout."""
    events = [make_event(EventKind.AGENT_LOGGED_IN, None, agent_id, ts=login)]
    for start, seconds, reason in pauses:
        events += [
            make_event(EventKind.AGENT_PAUSED, None, agent_id, ts=start, data={"reason": reason}),
            make_event(
                EventKind.AGENT_UNPAUSED, None, agent_id, ts=start + timedelta(seconds=seconds)
            ),
        ]
    events.append(make_event(EventKind.AGENT_LOGGED_OUT, None, agent_id, ts=logout))
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

"""Scripted mornings of typed domain events, shared by the report tests and the queue_log
export's: figures for them are worked out by hand in the tests that use them.

``one_queue_morning`` (queue ``cards``, 3 March 2025, UTC), waits in seconds:

    call  queued    left      outcome                 wait  talk hold wrap  agent
    A     09:01:00  09:01:10  answered                 10   100   20   30   1001
    B     09:02:00  09:02:30  answered                 30   200    0   10   1002
    C     09:03:00  09:03:20  answered                 20    60    0    0   1001
    D     09:04:00  09:04:03  abandoned                 3
    E     09:05:00  09:05:15  abandoned                15
    F     09:06:00  09:06:50  abandoned                50
    G     09:07:00  09:07:25  overflowed (max wait)    25
    H     09:08:00  09:08:10  overflowed (max wait)    10
    I     09:14:50  09:15:05  answered                 15    40    0    5   1002

Agents: 1001 logged in 09:00–10:00, lunch 09:40–09:50; 1002 logged in 08:30–09:30, training
08:50–09:05, break 09:20–09:25.

``two_queue_morning`` (4 March 2025, UTC): calls that visit two queues.

    call  queue  queued    left      outcome                       wait talk hold wrap agent
    O1    cards  10:00:00  10:00:30  overflowed → loans             30
          loans  10:00:30  10:00:42  answered                       12   100    0   20  2001
    O2    cards  10:05:00  10:05:15  overflowed → loans             15
          loans  10:05:15  10:05:55  abandoned                      40
    X1    cards  10:10:00  10:10:08  answered; 1001 holds 20 s and  8    100   20   10  1001
                                     blind-transfers it to loans at 10:12:08
          loans  10:12:08  10:12:38  answered (the same call)       30    60    0    5  2001
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cti.events import (
    AgentStateChanged,
    AgentStateName,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallOverflowed,
    CallQueued,
    CallTransferred,
    CallUnheld,
    DomainEvent,
)
from hotline.storage.simulate import abandoned_call, agent_shift, answered_call
from tests.fakes.events import leg

ONE_QUEUE_DAY = datetime(2025, 3, 3, tzinfo=UTC)
TWO_QUEUE_DAY = datetime(2025, 3, 4, tzinfo=UTC)


def _at(day: datetime, hh: int, mm: int, ss: int = 0) -> datetime:
    return day.replace(hour=hh, minute=mm, second=ss)


def one_queue_morning() -> list[DomainEvent]:
    def at(hh: int, mm: int, ss: int = 0) -> datetime:
        return _at(ONE_QUEUE_DAY, hh, mm, ss)

    def answered(
        call_id: str,
        queued: datetime,
        agent: str,
        wait: float,
        talk: float,
        hold: float,
        wrap: float,
    ) -> list[DomainEvent]:
        return answered_call(
            call_id, queued, ivr_s=0, agent_id=agent, wait_s=wait, talk_s=talk, hold_s=hold,
            wrap_up_s=wrap,
        )  # fmt: skip

    def overflowed(call_id: str, queued: datetime, wait_s: float) -> list[DomainEvent]:
        left = queued + timedelta(seconds=wait_s)
        return [
            CallQueued(call_id=call_id, queue="cards", ts=queued),
            CallOverflowed(call_id=call_id, queue="cards", target="loans", target_kind="queue",
                           reason="max_wait", wait_s=wait_s, ts=left),
        ]  # fmt: skip

    return [
        *agent_shift("1001", at(9, 0), at(10, 0), [(at(9, 40), 600, "lunch")]),
        *agent_shift(
            "1002", at(8, 30), at(9, 30), [(at(8, 50), 900, "training"), (at(9, 20), 300, "break")]
        ),
        *answered("A", at(9, 1), "1001", wait=10, talk=100, hold=20, wrap=30),
        *answered("B", at(9, 2), "1002", wait=30, talk=200, hold=0, wrap=10),
        *answered("C", at(9, 3), "1001", wait=20, talk=60, hold=0, wrap=0),
        *abandoned_call("D", at(9, 4), ivr_s=0, wait_s=3),
        *abandoned_call("E", at(9, 5), ivr_s=0, wait_s=15),
        *abandoned_call("F", at(9, 6), ivr_s=0, wait_s=50),
        *overflowed("G", at(9, 7), 25),
        *overflowed("H", at(9, 8), 10),
        *answered("I", at(9, 14, 50), "1002", wait=15, talk=40, hold=0, wrap=5),
    ]


def two_queue_morning() -> list[DomainEvent]:
    def at(hms: str) -> datetime:
        hh, mm, ss = (int(part) for part in hms.split(":"))
        return _at(TWO_QUEUE_DAY, hh, mm, ss)

    def state(hms: str, agent: str, name: AgentStateName) -> DomainEvent:
        return AgentStateChanged(agent_id=agent, state=name, ts=at(hms))

    def answered(
        call_id: str, queue: str, agent: str, hms: str, wait_s: float, talk_s: float, wrap_s: float
    ) -> list[DomainEvent]:
        start = at(hms)
        done = start + timedelta(seconds=talk_s)
        free = done + timedelta(seconds=wrap_s)
        mine = leg(call_id, queue, agent)
        return [
            CallAnswered(**mine, wait_s=wait_s, ts=start),
            AgentStateChanged(agent_id=agent, state="on_call", ts=start),
            CallCompleted(**mine, by="caller", talk_s=talk_s, ts=done),
            CallEnded(call_id=call_id, queue=queue, ts=done),
            AgentStateChanged(agent_id=agent, state="wrap_up", ts=done),
            AgentStateChanged(agent_id=agent, state="available", ts=free),
        ]

    def overflow(hms: str, call_id: str, wait_s: float) -> list[DomainEvent]:
        return [
            CallOverflowed(call_id=call_id, queue="cards", target="loans", target_kind="queue",
                           reason="max_wait", wait_s=wait_s, ts=at(hms)),
            CallQueued(call_id=call_id, queue="loans", ts=at(hms)),
        ]  # fmt: skip

    x1 = leg("X1", "cards", "1001")
    events: list[DomainEvent] = [CallQueued(call_id="O1", queue="cards", ts=at("10:00:00"))]
    events += overflow("10:00:30", "O1", 30)
    events += answered("O1", "loans", "2001", "10:00:42", 12, 100, 20)
    events += [CallQueued(call_id="O2", queue="cards", ts=at("10:05:00"))]
    events += overflow("10:05:15", "O2", 15)
    events += [
        CallAbandoned(call_id="O2", queue="loans", wait_s=40.0, ts=at("10:05:55")),
        CallEnded(call_id="O2", queue="loans", ts=at("10:05:55")),
        CallQueued(call_id="X1", queue="cards", ts=at("10:10:00")),
        CallAnswered(**x1, wait_s=8.0, ts=at("10:10:08")),
        state("10:10:08", "1001", "on_call"),
        CallHeld(**x1, ts=at("10:11:00")),
        CallUnheld(**x1, hold_s=20.0, ts=at("10:11:20")),
        # The ACD's blind transfer: the agent's part ends (talk 120 s less 20 s on hold), the
        # agent wraps up, the caller waits in loans as a new leg.
        CallTransferred(**x1, target_kind="queue", target="loans", context="hotline-acd-hold",
                        ts=at("10:12:08")),
        CallCompleted(**x1, by="transfer", talk_s=100.0, ts=at("10:12:08")),
        state("10:12:08", "1001", "wrap_up"),
        CallQueued(call_id="X1", queue="loans", ts=at("10:12:08")),
        state("10:12:18", "1001", "available"),
    ]  # fmt: skip
    events += answered("X1", "loans", "2001", "10:12:38", 30, 60, 5)
    return sorted(events, key=lambda e: e.ts)

"""A scripted morning of ACD-shaped domain events in queues "cards" and "loans", as the ACD
publishes them (agent states beside call events), for tests that compare what live
statistics, the event log and reports make of the same calls.

The morning (T = 20 s, short abandons < 5 s), waits in seconds:

    call queue  queued    left      outcome                          wait talk wrap agent
    c1   cards  09:00:10  09:00:20  answered (within T)                10  180   10  A
    c2   cards  09:01:00  09:01:03  short abandon                       3
    c3   cards  09:02:00  09:02:15  abandoned within T                 15
    c4   cards  09:03:00  09:03:40  answered after T (B rang, no ans.)  40  120   20  A
    c5   cards  09:05:00  09:05:50  abandoned after T                  50
    c6   cards  09:06:00  09:06:30  overflowed → loans (after T)       30
         loans  09:06:30  09:06:45  answered (within T)                15   90   10  C
    c7   loans  09:10:00  09:10:30  answered after T                   30   60    5  C
    c8   cards  09:16:00  09:16:20  answered (= T: within)             20   45    5  B
    c9   loans  09:20:00  09:20:12  hung up waiting (no abandon event) 12
    c10  cards  09:21:00  09:21:04  short abandon while B's phone rang  4
    c11  cards  09:22:00  09:22:25  overflowed → voicemail             25
    c12  loans  09:31:00  09:31:08  answered (within T)                 8   30    0  C

``morning(requeue=False)`` overflows c6 to voicemail instead (and loans answers another
caller, c6b, the same way): the same figures, one leg each.

Then, for the hold and the agent's blind transfer (``hold_and_transfer``), in the order the ACD
publishes them (talk_s leaves the hold out; CallUnheld carries it):

    c13  cards  09:40:00  09:40:08  answered, on hold 09:41:00–09:41:40   8  140 (+40 hold) 20 A
    c14  cards  09:45:00  09:45:10  answered, B blind-transfers to loans 10   60   10  B
         loans  09:46:10  09:46:40  answered (the same call, a new leg)  30   50    5  C
"""

from __future__ import annotations

from datetime import timedelta

from cti.events import (
    AgentLoggedIn,
    AgentStateChanged,
    AgentStateName,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    CallStarted,
    CallTransferred,
    CallUnheld,
    DomainEvent,
)
from tests.fakes.clock import at, stamped, when

THRESHOLD_S = 20.0
SHORT_ABANDON_S = 5.0
QUEUES = ("cards", "loans")


def state(hms: str, agent: str, name: AgentStateName) -> AgentStateChanged:
    return AgentStateChanged(agent_id=agent, state=name, **when(hms))


def queued(hms: str, call_id: str, queue: str, ewt_s: float = 10.0) -> CallQueued:
    return CallQueued(
        call_id=call_id, queue=queue, priority=0, language="en", vip=False, ewt_s=ewt_s,
        position=1, **when(hms),
    )  # fmt: skip


def offered(hms: str, call_id: str, queue: str, agent: str) -> list[DomainEvent]:
    return [
        CallOffered(
            call_id=call_id, queue=queue, agent_id=agent, decision=1, device=f"PJSIP/{agent}",
            ring_timeout_s=15, **when(hms),
        ),
        state(hms, agent, "reserved"),
    ]  # fmt: skip


def answered(
    call_id: str, queue: str, agent: str, hms: str, wait_s: float, talk_s: float, wrap_s: float
) -> list[DomainEvent]:
    """Answered at ``hms`` after ``wait_s``; talk, completion, wrap-up, available again."""
    start = at(hms)
    done = stamped(start + timedelta(seconds=talk_s))
    free = stamped(start + timedelta(seconds=talk_s + wrap_s))
    events: list[DomainEvent] = [
        CallAnswered(call_id=call_id, queue=queue, agent_id=agent, wait_s=wait_s,
                     predicted_wait_s=10.0, **when(hms)),
        state(hms, agent, "on_call"),
        CallCompleted(call_id=call_id, queue=queue, agent_id=agent, by="caller", talk_s=talk_s,
                      **done),
        CallEnded(call_id=call_id, queue=queue, **done),
        AgentStateChanged(agent_id=agent, state="wrap_up", **done),
    ]  # fmt: skip
    if wrap_s:
        events.append(AgentStateChanged(agent_id=agent, state="available", **free))
    else:
        events[-1] = AgentStateChanged(agent_id=agent, state="available", **done)
    return events


def abandoned(hms: str, call_id: str, queue: str, wait_s: float) -> list[DomainEvent]:
    return [
        CallAbandoned(call_id=call_id, queue=queue, wait_s=wait_s, **when(hms)),
        CallEnded(call_id=call_id, queue=queue, **when(hms)),
    ]


def morning(*, requeue: bool = True) -> list[DomainEvent]:
    events: list[DomainEvent] = [
        AgentLoggedIn(agent_id=a, device=f"PJSIP/{a}", queues=(q,), **when("08:55:00"))
        for a, q in (("A", "cards"), ("B", "cards"), ("C", "loans"))
    ]
    events += [state("08:55:00", a, "available") for a in "ABC"]
    events += [CallStarted(call_id="c1", hotline="95555", caller="1", **when("09:00:05"))]
    events += [queued("09:00:10", "c1", "cards"), *offered("09:00:12", "c1", "cards", "A")]
    events += answered("c1", "cards", "A", "09:00:20", 10, 180, 10)
    events += [queued("09:01:00", "c2", "cards"), *abandoned("09:01:03", "c2", "cards", 3.0)]
    events += [queued("09:02:00", "c3", "cards"), *abandoned("09:02:15", "c3", "cards", 15.0)]
    events += [
        queued("09:03:00", "c4", "cards"),
        *offered("09:03:05", "c4", "cards", "B"),
        CallRingNoAnswer(call_id="c4", queue="cards", agent_id="B", ring_s=15.0,
                         reason="NOANSWER", **when("09:03:20")),
        state("09:03:20", "B", "available"),
    ]  # fmt: skip
    # A is in wrap-up until 09:03:30: the re-offer goes to A afterwards.
    events = sorted(events, key=lambda e: e.ts)
    tail: list[DomainEvent] = [*offered("09:03:35", "c4", "cards", "A")]
    tail += answered("c4", "cards", "A", "09:03:40", 40, 120, 20)
    tail += [queued("09:05:00", "c5", "cards"), *abandoned("09:05:50", "c5", "cards", 50.0)]
    tail += [queued("09:06:00", "c6", "cards")]
    if requeue:  # the ACD's overflow into a queue: the same call id waits in loans
        tail += [
            CallOverflowed(call_id="c6", queue="cards", target="loans", target_kind="queue",
                           reason="max_wait", wait_s=30.0, **when("09:06:30")),
            queued("09:06:30", "c6", "loans"),
            *offered("09:06:40", "c6", "loans", "C"),
        ]  # fmt: skip
        tail += answered("c6", "loans", "C", "09:06:45", 15, 90, 10)
    else:  # overflow to voicemail; loans gets another caller at the same time
        tail += [
            CallOverflowed(call_id="c6", queue="cards", target="vm", target_kind="voicemail",
                           reason="max_wait", wait_s=30.0, **when("09:06:30")),
            CallEnded(call_id="c6", queue="cards", **when("09:07:30")),
            queued("09:06:30", "c6b", "loans"),
            *offered("09:06:40", "c6b", "loans", "C"),
        ]  # fmt: skip
        tail += answered("c6b", "loans", "C", "09:06:45", 15, 90, 10)
    tail += [queued("09:10:00", "c7", "loans"), *offered("09:10:25", "c7", "loans", "C")]
    tail += answered("c7", "loans", "C", "09:10:30", 30, 60, 5)
    tail += [queued("09:16:00", "c8", "cards"), *offered("09:16:10", "c8", "cards", "B")]
    tail += answered("c8", "cards", "B", "09:16:20", 20, 45, 5)
    tail += [
        queued("09:20:00", "c9", "loans"),
        CallEnded(call_id="c9", queue="loans", **when("09:20:12")),
        queued("09:21:00", "c10", "cards"),
        *offered("09:21:02", "c10", "cards", "B"),
        CallAbandoned(call_id="c10", queue="cards", agent_id="B", wait_s=4.0,
                      **when("09:21:04")),
        state("09:21:04", "B", "available"),
        CallEnded(call_id="c10", queue="cards", **when("09:21:04")),
        queued("09:22:00", "c11", "cards"),
        CallOverflowed(call_id="c11", queue="cards", target="vm", target_kind="voicemail",
                       reason="max_wait", wait_s=25.0, **when("09:22:25")),
        CallEnded(call_id="c11", queue="cards", **when("09:23:30")),
        queued("09:31:00", "c12", "loans"),
        *offered("09:31:05", "c12", "loans", "C"),
    ]  # fmt: skip
    tail += answered("c12", "loans", "C", "09:31:08", 8, 30, 0)
    # Stable sort by time: events at the same instant keep the ACD's order.
    return sorted(events + tail, key=lambda e: e.ts)


def hold_and_transfer() -> list[DomainEvent]:
    events: list[DomainEvent] = [
        queued("09:40:00", "c13", "cards"),
        *offered("09:40:05", "c13", "cards", "A"),
        CallAnswered(call_id="c13", queue="cards", agent_id="A", wait_s=8.0, **when("09:40:08")),
        state("09:40:08", "A", "on_call"),
        CallHeld(call_id="c13", queue="cards", agent_id="A", **when("09:41:00")),
        CallUnheld(call_id="c13", queue="cards", agent_id="A", hold_s=40.0, **when("09:41:40")),
        CallCompleted(call_id="c13", queue="cards", agent_id="A", by="caller", talk_s=140.0,
                      **when("09:43:08")),
        CallEnded(call_id="c13", queue="cards", **when("09:43:08")),
        state("09:43:08", "A", "wrap_up"),
        state("09:43:28", "A", "available"),
        queued("09:45:00", "c14", "cards"),
        *offered("09:45:05", "c14", "cards", "B"),
        CallAnswered(call_id="c14", queue="cards", agent_id="B", wait_s=10.0, **when("09:45:10")),
        state("09:45:10", "B", "on_call"),
        # The blind transfer: the agent's part ends, then the call waits in loans again.
        CallTransferred(call_id="c14", queue="cards", agent_id="B", target_kind="queue",
                        target="loans", attended=False, **when("09:46:10")),
        CallCompleted(call_id="c14", queue="cards", agent_id="B", by="transfer", talk_s=60.0,
                      **when("09:46:10")),
        state("09:46:10", "B", "wrap_up"),
        queued("09:46:10", "c14", "loans"),
        state("09:46:20", "B", "available"),
        *offered("09:46:35", "c14", "loans", "C"),
    ]  # fmt: skip
    return events + answered("c14", "loans", "C", "09:46:40", 30, 50, 5)

"""Our event log in Asterisk ``queue_log`` format, for QueueMetrics-style tools.

A line is ``epoch|callid|queue|agent|EVENT|data1|data2|...``. Field layouts follow
``apps/app_queue.c`` (its ``ast_queue_log`` calls, Asterisk 22) and the Asterisk "Queue Logs"
documentation; the values are the typed events' fields:

- ``ENTERQUEUE|url|callerid|position``: ``CallQueued`` (no url; the caller of ``CallStarted``),
  once per entry: a waiting call the ACD rebuilt after a restart (``resync``) that was seen
  entering that queue writes no second line
- ``RINGNOANSWER|ringtime_ms``: ``CallRingNoAnswer.ring_s`` in milliseconds
- ``CONNECT|holdtime|bridged_uniqueid|ringtime``: ``CallAnswered``'s ``wait_s``, its
  ``agent_channel_id`` (the uniqueid of the agent's channel: app_queue's bridged ``peer``) and
  its ``ring_s`` in whole seconds
- ``COMPLETECALLER|holdtime|calltime|origposition`` (``COMPLETEAGENT`` when the agent hung
  up); calltime, as app_queue's, runs from the answer and counts the holds
- ``ABANDON|position|origposition|waittime``
- ``CallOverflowed`` by its ``reason``:
  ``max_wait`` → ``EXITWITHTIMEOUT|position|origposition|waittime``, app_queue's own line for
  a caller who waited out the queue's timeout;
  ``ewt`` → ``WITHDRAW|position|origposition|waittime|ewt``. app_queue has no exit on the
  estimated wait, so the closest line is chosen: ``EXITWITHTIMEOUT`` would say the caller
  waited out a timeout (the rule fires at entry, on an estimate); ``EXITEMPTY`` that the queue
  had no member able to take calls (``leavewhenempty``), false while agents are only busy;
  ``WITHDRAW`` is what app_queue writes when an application outside it takes a waiting caller
  out of the queue (AMI ``QueueWithdrawCaller``, Asterisk 16.25, 18.11, 19.3 and later), its
  last field the reason that application gives (``QUEUE_WITHDRAW_INFO``): the same decision,
  made by a CTI over app_queue. A tool that predates it may not know the event.
  ``target_kind`` is not written: a queue target enters anew (``ENTERQUEUE``), voicemail and
  the closed message are outside queue_log. Hotline has no exit by key yet (so no
  ``EXITWITHKEY``) and no leaving an empty queue (``EXITEMPTY``).
- ``BLINDTRANSFER|extension|context|holdtime|calltime|origposition``: ``CallTransferred``'s
  ``target`` and ``context`` (instead of a ``COMPLETE*`` line for that connection, as Asterisk
  writes it: the ACD's ``call.completed`` by ``transfer`` that follows adds none; a transfer
  into a queue then enters it anew); attended: ``ATTENDEDTRANSFER|BRIDGE|target|holdtime|
  calltime|origposition``, the call's last line (the consulted agent's part, a ``CallAnswered``
  that is ``taken_over``, is not a queue call: app_queue logs nothing of it)
- ``ADDMEMBER|`` / ``REMOVEMEMBER|`` (per queue named at login), ``PAUSE|reason`` /
  ``UNPAUSE|`` and ``AGENTLOGIN|channel`` / ``AGENTLOGOFF|channel|logintime`` (queue
  ``NONE``: our pauses and logins are agent-wide).

Times are whole seconds as Asterisk writes them (``holdtime``, ``waittime`` and ``ringtime``
truncated); ``callid`` is our call id (the caller channel's Asterisk uniqueid), ``agent`` our
agent id. Asterisk's current position is not known to us: ``position`` repeats
``origposition``. Rows stored before typed events carry no ring times, agent channel ids or
transfer contexts: those fields are written 0 (a ring time, as app_queue writes one it did not
measure) or empty. The formatter is pure and keeps a little memory per call (caller,
position, times of entry and answer).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from sqlalchemy import select

from cti.events import (
    AcdResynced,
    AgentDisposition,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentSkillsChanged,
    AgentStateChanged,
    AgentUnpaused,
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
    CallStarted,
    CallTransferred,
    CallUnheld,
    DomainEvent,
    IvrEnded,
    IvrInput,
    IvrNode,
    RecordingMuted,
    RecordingStarted,
    RecordingStopped,
    RecordingUnmuted,
    UnreadableEvent,
)
from hotline.storage.db import Database
from hotline.storage.event_store import StoredEvent, to_event
from hotline.storage.models import Event

log = logging.getLogger(__name__)

_Row = tuple[str, str, str, *tuple[object, ...]]  # queue, agent, EVENT, data...


@dataclass
class _Call:
    caller: str = ""
    waiting_in: str | None = None  # the queue it entered and has not left yet
    position: int = 1
    enqueued: datetime | None = None
    answered: datetime | None = None
    wait_s: int = 0
    transferred: bool = False  # a transfer line written since the last CONNECT


def _field(value: object) -> str:
    # A pipe or a newline inside a field would shift every column after it.
    return str(value).replace("|", "/").replace("\n", " ")


def _seconds(given: float | None, start: datetime | None, end: datetime) -> int:
    """Whole seconds, truncated as Asterisk's ``time(NULL) - start``: the publisher's figure,
    else measured from ``start`` (0 when unknown)."""
    if given is not None:
        return int(given)
    return max(0, int((end - start).total_seconds())) if start is not None else 0


class QueueLogFormatter:
    def __init__(self) -> None:
        self._calls: dict[str, _Call] = {}
        self._logins: dict[str, tuple[datetime, str, tuple[str, ...]]] = {}

    def lines(self, event: DomainEvent) -> list[str]:
        epoch = int(event.ts.timestamp())
        match event:
            case AgentLoggedIn() | AgentLoggedOut() | AgentPaused() | AgentUnpaused():
                rows = self._agent(event)
                return [self._line(epoch, "NONE", *row) for row in rows]
            case (
                CallStarted()
                | CallQueued()
                | CallRingNoAnswer()
                | CallAnswered()
                | CallCompleted()
                | CallAbandoned()
                | CallOverflowed()
                | CallTransferred()
                | CallEnded()
            ):
                return [self._line(epoch, event.call_id, *row) for row in self._call(event)]
            case (
                IvrNode()
                | IvrInput()
                | IvrEnded()
                | CallOffered()
                | CallHeld()
                | CallUnheld()
                | CallFallback()
                | AgentStateChanged()
                | AgentDisposition()
                | AgentSkillsChanged()
                | AcdResynced()
                | RecordingStarted()
                | RecordingMuted()
                | RecordingUnmuted()
                | RecordingStopped()
            ):
                return []  # app_queue writes no line for these
            case _:
                assert_never(event)

    @staticmethod
    def _line(epoch: int, callid: str, queue: str, agent: str, name: str, *data: object) -> str:
        return "|".join([str(epoch), _field(callid), _field(queue), _field(agent), name]) + (
            "|" + "|".join(_field(d) for d in data) if data else ""
        )

    def _call(
        self,
        ev: CallStarted
        | CallQueued
        | CallRingNoAnswer
        | CallAnswered
        | CallCompleted
        | CallAbandoned
        | CallOverflowed
        | CallTransferred
        | CallEnded,
    ) -> list[_Row]:
        call = self._calls.setdefault(ev.call_id, _Call())
        match ev:
            case CallStarted():
                call.caller = ev.caller
            case CallQueued():
                if ev.resync and call.waiting_in == ev.queue:
                    return []  # the ACD rebuilt a call already seen entering: no new entry
                call.waiting_in, call.enqueued, call.position = ev.queue, ev.ts, ev.position
                return [(ev.queue, "NONE", "ENTERQUEUE", "", call.caller, call.position)]
            case CallRingNoAnswer():
                ring_ms = round((ev.ring_s or 0.0) * 1000)  # ring_s is rounded to the ms
                return [(ev.queue, ev.agent_id, "RINGNOANSWER", ring_ms)]
            case CallAnswered() if ev.taken_over:
                return []  # after ATTENDEDTRANSFER app_queue writes no more for the call
            case CallAnswered():
                call.answered, call.transferred, call.waiting_in = ev.ts, False, None
                call.wait_s = _seconds(ev.wait_s, call.enqueued, ev.ts)
                bridged, ring = ev.agent_channel_id or "", int(ev.ring_s or 0)
                return [(ev.queue, ev.agent_id, "CONNECT", call.wait_s, bridged, ring)]
            case CallCompleted():
                if call.transferred:
                    return []
                name = "COMPLETEAGENT" if ev.by == "agent" else "COMPLETECALLER"
                # calltime is app_queue's time since the answer, holds included; the talk
                # time (holds left out) only when the answer is before the export's window
                given = None if call.answered else ev.talk_s
                talk = _seconds(given, call.answered, ev.ts)
                return [(ev.queue, ev.agent_id, name, call.wait_s, talk, call.position)]
            case CallAbandoned():
                call.waiting_in = None
                wait = _seconds(ev.wait_s, call.enqueued, ev.ts)
                pos = call.position
                return [(ev.queue, "NONE", "ABANDON", pos, pos, wait)]
            case CallOverflowed():
                call.waiting_in = None
                wait = _seconds(ev.wait_s, call.enqueued, ev.ts)
                pos = call.position
                if ev.reason == "ewt":
                    return [(ev.queue, "NONE", "WITHDRAW", pos, pos, wait, ev.reason)]
                return [(ev.queue, "NONE", "EXITWITHTIMEOUT", pos, pos, wait)]
            case CallTransferred():
                if call.answered is None or call.transferred:
                    return []
                call.transferred = True
                talk = _seconds(None, call.answered, ev.ts)
                if ev.attended:
                    # Asterisk: ATTENDEDTRANSFER|BRIDGE|<where>|holdtime|calltime|origposition
                    return [
                        (ev.queue, ev.agent_id, "ATTENDEDTRANSFER", "BRIDGE", ev.target,
                         call.wait_s, talk, call.position)
                    ]  # fmt: skip
                return [
                    (ev.queue, ev.agent_id, "BLINDTRANSFER", ev.target, ev.context or "",
                     call.wait_s, talk, call.position)
                ]  # fmt: skip
            case CallEnded():
                self._calls.pop(ev.call_id, None)
            case _:
                assert_never(ev)
        return []

    def _agent(
        self, ev: AgentLoggedIn | AgentLoggedOut | AgentPaused | AgentUnpaused
    ) -> list[_Row]:
        agent = ev.agent_id or "NONE"
        match ev:
            case AgentLoggedIn():
                device, queues = ev.device or "", ev.queues or ()
                self._logins[agent] = (ev.ts, device, queues)
                rows: list[_Row] = [("NONE", agent, "AGENTLOGIN", device)]
                return rows + [(q, agent, "ADDMEMBER", "") for q in queues]
            case AgentLoggedOut():
                since, device, queues = self._logins.pop(agent, (None, "", ()))
                rows = [(q, agent, "REMOVEMEMBER", "") for q in queues]
                logged_in = _seconds(None, since, ev.ts)
                return [*rows, ("NONE", agent, "AGENTLOGOFF", device, logged_in)]
            case AgentPaused():
                return [("NONE", agent, "PAUSE", ev.reason or "")]
            case AgentUnpaused():
                return [("NONE", agent, "UNPAUSE", "")]
            case _:
                assert_never(ev)


async def stored_events(
    db: Database, since: datetime | None, until: datetime | None
) -> AsyncIterator[StoredEvent]:
    """The event log in time order, streamed (not loaded whole) from the database."""
    query = select(Event).order_by(Event.ts, Event.id)
    if since is not None:
        query = query.where(Event.ts >= since)
    if until is not None:
        query = query.where(Event.ts < until)
    async with db.sessions() as session:
        rows = await session.stream_scalars(query.execution_options(yield_per=2000))
        async for row in rows:
            yield StoredEvent(
                id=row.id,
                uid=row.uid,
                ts=row.ts,
                kind=row.kind,
                call_id=row.call_id,
                agent_id=row.agent_id,
                queue=row.queue,
                monotonic_ns=row.monotonic_ns,
                payload=row.payload,
            )


async def export_queue_log(
    db: Database, since: datetime | None, until: datetime | None
) -> AsyncIterator[str]:
    """Lines (without newline) of ``queue_log`` for the events in ``[since, until)``."""
    formatter = QueueLogFormatter()
    unreadable = 0
    async for row in stored_events(db, since, until):
        try:
            event = to_event(row)
        except UnreadableEvent as exc:
            unreadable += 1
            if unreadable == 1:
                log.warning("queue_log export: skipping an unreadable event log row: %s", exc)
            continue
        for line in formatter.lines(event):
            yield line
    if unreadable:
        log.warning("queue_log export: %d unreadable event log rows skipped", unreadable)

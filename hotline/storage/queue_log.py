"""Our event log in Asterisk ``queue_log`` format, for QueueMetrics-style tools.

A line is ``epoch|callid|queue|agent|EVENT|data1|data2|...``. Field layouts follow
``apps/app_queue.c`` (``ast_queue_log`` calls) and the Asterisk "Queue Logs" documentation:

- ``ENTERQUEUE|url|callerid|position``
- ``RINGNOANSWER|ringtime_ms``
- ``CONNECT|holdtime|bridged_uniqueid|ringtime``
- ``COMPLETECALLER|holdtime|calltime|origposition`` (and ``COMPLETEAGENT``)
- ``ABANDON|position|origposition|waittime``
- ``EXITWITHTIMEOUT|position|origposition|waittime`` (``EXITEMPTY`` likewise;
  ``EXITWITHKEY|key|position|origposition|waittime``)
- ``BLINDTRANSFER|extension|context|holdtime|calltime|origposition`` (instead of a
  ``COMPLETE*`` line for that connection, as Asterisk writes it: the ACD's ``call.completed``
  by ``transfer`` that follows adds none; a transfer into a queue then enters it anew)
- ``ADDMEMBER|`` / ``REMOVEMEMBER|`` (per queue named at login), ``PAUSE|reason`` /
  ``UNPAUSE|reason`` and ``AGENTLOGIN|channel`` / ``AGENTLOGOFF|channel|logintime`` (queue
  ``NONE``: our pauses and logins are agent-wide).

Times are whole seconds as Asterisk writes them (``holdtime`` and ``waittime`` truncated);
``callid`` is our call id (the caller channel's Asterisk uniqueid), ``agent`` our agent id.
Asterisk's current position is not known to us: ``position`` repeats ``origposition``.
The formatter is pure and keeps a little memory per call (queue, position, answer time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hotline.storage.db import Database
from hotline.storage.event_store import StoredEvent
from hotline.storage.models import Event

_EXIT_EVENTS = {"empty": "EXITEMPTY", "no_agents": "EXITEMPTY", "key": "EXITWITHKEY"}


@dataclass
class _Call:
    queue: str = "NONE"
    caller: str = ""
    position: int = 1
    enqueued: datetime | None = None
    answered: datetime | None = None
    wait_s: int = 0
    agent: str = "NONE"
    transferred: bool = False  # BLINDTRANSFER written since the last CONNECT


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)


def _field(value: object) -> str:
    # A pipe or a newline inside a field would shift every column after it.
    return str(value).replace("|", "/").replace("\n", " ")


class QueueLogFormatter:
    def __init__(self) -> None:
        self._calls: dict[str, _Call] = {}
        self._logins: dict[str, tuple[datetime, str, list[str]]] = {}

    def lines(self, event: StoredEvent) -> list[str]:
        epoch = int(event.ts.timestamp())
        if event.kind.startswith("agent."):
            return [self._line(epoch, "NONE", *row) for row in self._agent(event)]
        if event.call_id is None:
            return []
        return [self._line(epoch, event.call_id, *row) for row in self._call(event)]

    @staticmethod
    def _line(epoch: int, callid: str, queue: str, agent: str, name: str, *data: object) -> str:
        return "|".join([str(epoch), _field(callid), _field(queue), _field(agent), name]) + (
            "|" + "|".join(_field(d) for d in data) if data else ""
        )

    def _call(self, ev: StoredEvent) -> list[tuple[Any, ...]]:
        p: Mapping[str, Any] = ev.payload
        call = self._calls.setdefault(ev.call_id or "", _Call())
        kind = ev.kind
        agent = ev.agent_id or call.agent
        if kind == "call.started":
            call.caller = str(p.get("caller") or "")
        elif kind == "call.queued":
            call.queue, call.enqueued = ev.queue or "NONE", ev.ts
            call.position = _int(p.get("position"), 1)
            return [(call.queue, "NONE", "ENTERQUEUE", "", call.caller, call.position)]
        elif kind == "call.ring_no_answer":
            ring_ms = _int(p.get("ring_ms"), int(float(p.get("ring_s") or 0) * 1000))
            return [(call.queue, agent, "RINGNOANSWER", ring_ms)]
        elif kind == "call.answered":
            call.answered, call.agent = ev.ts, ev.agent_id or "NONE"
            call.transferred = False
            call.wait_s = _int(p.get("wait_s"), self._since(call.enqueued, ev.ts))
            bridged = p.get("agent_uniqueid") or p.get("bridged_uniqueid") or ""
            ring_s = _int(p.get("ring_s"))
            return [(call.queue, call.agent, "CONNECT", call.wait_s, bridged, ring_s)]
        elif kind == "call.completed":
            if call.transferred:
                return []
            name = "COMPLETEAGENT" if p.get("by") == "agent" else "COMPLETECALLER"
            talk = _int(p.get("talk_s"), self._since(call.answered, ev.ts))
            return [(call.queue, agent, name, call.wait_s, talk, call.position)]
        elif kind in ("call.abandoned", "call.overflowed"):
            wait = _int(p.get("wait_s"), self._since(call.enqueued, ev.ts))
            pos = call.position
            if kind == "call.abandoned":
                return [(call.queue, "NONE", "ABANDON", pos, pos, wait)]
            name = _EXIT_EVENTS.get(str(p.get("reason")), "EXITWITHTIMEOUT")
            if name == "EXITWITHKEY":
                return [(call.queue, "NONE", name, p.get("key") or "", pos, pos, wait)]
            return [(call.queue, "NONE", name, pos, pos, wait)]
        elif kind == "call.transferred" and call.answered is not None and not call.transferred:
            call.transferred = True
            target = p.get("target") or ""
            context = p.get("context") or ""
            talk = self._since(call.answered, ev.ts)
            if p.get("attended"):
                # Asterisk: ATTENDEDTRANSFER|BRIDGE|<where>|holdtime|calltime|origposition
                return [
                    (call.queue, agent, "ATTENDEDTRANSFER", "BRIDGE", target, call.wait_s, talk,
                     call.position)
                ]  # fmt: skip
            return [
                (
                    call.queue,
                    agent,
                    "BLINDTRANSFER",
                    target,
                    context,
                    call.wait_s,
                    talk,
                    call.position,
                )
            ]
        elif kind == "call.ended":
            self._calls.pop(ev.call_id or "", None)
        return []

    def _agent(self, ev: StoredEvent) -> list[tuple[Any, ...]]:
        agent = ev.agent_id or "NONE"
        p = ev.payload
        if ev.kind == "agent.logged_in":
            device = str(p.get("device") or "")
            queues = [q for q in str(p.get("queues") or "").split(",") if q]
            self._logins[agent] = (ev.ts, device, queues)
            rows: list[tuple[Any, ...]] = [("NONE", agent, "AGENTLOGIN", device)]
            return rows + [(q, agent, "ADDMEMBER", "") for q in queues]
        if ev.kind == "agent.logged_out":
            since, device, queues = self._logins.pop(agent, (None, str(p.get("device") or ""), []))
            rows = [(q, agent, "REMOVEMEMBER", "") for q in queues]
            return [*rows, ("NONE", agent, "AGENTLOGOFF", device, self._since(since, ev.ts))]
        if ev.kind == "agent.paused":
            return [("NONE", agent, "PAUSE", p.get("reason") or "")]
        if ev.kind == "agent.unpaused":
            return [("NONE", agent, "UNPAUSE", p.get("reason") or "")]
        return []

    @staticmethod
    def _since(start: datetime | None, end: datetime) -> int:
        return max(0, int((end - start).total_seconds())) if start is not None else 0


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
    async for event in stored_events(db, since, until):
        for line in formatter.lines(event):
            yield line

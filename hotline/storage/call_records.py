"""Fold domain events into call records, queue legs and agent intervals (sans-IO: no database
here). The operations are in ``record_ops``.

A call has one record (``calls``: who called, IVR path, last queue and agent, totals, final
outcome) and one *leg* per visit to a queue (``call_legs``): an overflow into another queue,
or an agent's blind transfer back into a queue, opens a new leg, so each queue keeps the calls
it was offered and what became of them there, as live statistics count them.

``RecordFolder.fold(event)`` returns the record operations an event implies, in order.

Invariants (what makes a replay after a crash safe, see ``hotline.storage.event_log``):
- Every operation is idempotent: patches carry absolute values (never increments), a leg or
  an interval is opened under the uid of its event (inserted once), and closing touches only
  spans that are still open and began at or before the close.
- Operations applied in event order converge to the same rows, whatever prefix of them was
  applied before.
- The folder's memory (each call's current leg, each agent's last leg, IVR path, hold and
  wrap-up start) is bounded and may be lost on restart without corrupting anything written.
  What matters survives it: a patch for a leg the folder did not see open is addressed to
  "the call's latest leg" and resolved by the writer in SQL (``record_ops.LegPatch``), and a
  leg's hold total is then summed from the stored ``call.unheld`` events. Lost for good are
  only values the events do not carry: a wrap-up that spans the restart, a fallback wait or
  talk time the publisher did not give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Any

from hotline.storage.event_store import StoredEvent
from hotline.storage.record_ops import (
    CALL_DATETIME_COLUMNS,
    SLOT_COLUMNS,
    SLOT_S,
    CallPatch,
    CloseIntervals,
    IntervalCategory,
    LegPatch,
    OpenInterval,
    OpenLeg,
    RecordOp,
    merge_patches,
    slot_of,
    slots,
)

__all__ = [
    "CALL_DATETIME_COLUMNS",
    "SLOT_COLUMNS",
    "SLOT_S",
    "CallPatch",
    "CloseIntervals",
    "IntervalCategory",
    "LegPatch",
    "OpenInterval",
    "OpenLeg",
    "Outcome",
    "RecordFolder",
    "RecordOp",
    "merge_patches",
    "slot_of",
    "slots",
    "split_path",
]

# Calls followed at once; beyond it the oldest open call is forgotten (a call that never
# sends call.ended must not grow memory forever).
MAX_OPEN_CALLS = 100_000


class Outcome(StrEnum):
    QUEUED = "queued"  # still waiting (or the record is incomplete)
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SHORT_ABANDON = "short_abandon"  # hung up in queue before the short-abandon threshold
    OVERFLOW = "overflow"  # left the queue for another target (timeout, full, rule)
    TRANSFERRED = "transferred"  # sent elsewhere before an agent answered
    IVR_ONLY = "ivr_only"  # ended in the IVR (self-service, closed, hung up)
    FALLBACK = "fallback"  # reached the native Asterisk queue (Hotline down or failed)
    # A consulted agent's part after an attended transfer: its own leg for agent reports,
    # not an offer of the queue (queue reports leave it out).
    TAKEN_OVER = "taken_over"


class _LegState(Enum):
    WAITING = "waiting"
    ANSWERED = "answered"  # talking (or on hold)
    DONE = "done"  # left the queue unanswered, or the talk is over (completed, transferred)


@dataclass(slots=True)
class _Leg:
    leg_id: str | None  # None: opened before a restart or by a resync (the writer finds it)
    queue: str | None
    state: _LegState
    enqueued_at: datetime | None = None
    answered_at: datetime | None = None
    agent_id: str | None = None
    hold_s: float = 0.0
    hold_known: bool = True  # False: holds before a restart are not in hold_s
    held_since: datetime | None = None


@dataclass(slots=True)
class _Call:
    path: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    leg: _Leg | None = None


@dataclass(slots=True)
class _Agent:
    last_call: str | None = None
    last_leg: str | None = None
    wrap_started: datetime | None = None


def _num(payload: Mapping[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _str(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return None if value is None else str(value)


def _pick(payload: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: payload[k] for k in keys if payload.get(k) is not None}


def _since(start: datetime | None, ts: datetime) -> float | None:
    return None if start is None else (ts - start).total_seconds()


def _wait(payload: Mapping[str, Any], leg: _Leg | None, ts: datetime) -> float | None:
    """The wait the publisher gives, else measured from the leg's entry when known."""
    given = _num(payload, "wait_s")
    if given is not None or leg is None:
        return given
    return _since(leg.enqueued_at, ts)


def split_path(path: str) -> list[str]:
    """``ivr.ended``'s ``path`` is the visited node ids joined by ``>`` (data holds scalars)."""
    return [node for node in (part.strip() for part in path.split(">")) if node]


class RecordFolder:
    def __init__(self, short_abandon_s: float = 5.0) -> None:
        self.short_abandon_s = short_abandon_s
        self._calls: dict[str, _Call] = {}
        self._agents: dict[str, _Agent] = {}

    @property
    def open_calls(self) -> int:
        return len(self._calls)

    def _call(self, call_id: str) -> _Call:
        state = self._calls.get(call_id)
        if state is None:
            if len(self._calls) >= MAX_OPEN_CALLS:
                del self._calls[next(iter(self._calls))]
            state = self._calls[call_id] = _Call()
        return state

    def _agent(self, agent_id: str) -> _Agent:
        return self._agents.setdefault(agent_id, _Agent())

    def _abandon_outcome(self, wait_s: float | None) -> Outcome:
        short = wait_s is not None and wait_s < self.short_abandon_s
        return Outcome.SHORT_ABANDON if short else Outcome.ABANDONED

    def fold(self, event: StoredEvent) -> list[RecordOp]:
        if event.kind.startswith("agent."):
            return self._fold_agent(event) if event.agent_id else []
        if event.call_id is None:
            return []
        return self._fold_call(event, event.call_id)

    def fold_many(self, events: Sequence[StoredEvent]) -> list[RecordOp]:
        return [op for event in events for op in self.fold(event)]

    # -- calls ---------------------------------------------------------------------------------

    def _fold_call(self, ev: StoredEvent, call_id: str) -> list[RecordOp]:
        kind, p, ts = ev.kind, ev.payload, ev.ts
        call = self._call(call_id)
        if kind == "call.started":
            values = {"started_at": ts, **_pick(p, ("hotline", "product", "did", "caller"))}
            return [CallPatch(call_id, values | _pick(p, ("language", "vip")))]
        if kind == "ivr.node":
            node = _str(p, "node")
            # The IVR publishes other engine events as ivr.node detail (``event`` names them);
            # only a node entered extends the path.
            if not node or p.get("event", "NodeEntered") != "NodeEntered":
                return []
            call.path.append(node)
            return [CallPatch(call_id, {"ivr_path": list(call.path)})]
        if kind == "ivr.ended":
            path = _str(p, "path")
            if path is not None:
                call.path = split_path(path)
            return [CallPatch(call_id, {"ivr_path": list(call.path)} | _pick(p, ("language",)))]
        if kind == "call.queued":
            return self._queued(ev, call_id, call)
        if kind == "call.answered":
            return self._answered(ev, call_id, call)
        if kind == "call.held":
            held = self._leg(call)
            held.held_since = held.held_since or ts
            return []
        if kind == "call.unheld":
            return self._unheld(ev, call_id, call)
        if kind == "call.completed":
            return self._completed(ev, call_id, call)
        leg = call.leg
        if kind in ("call.abandoned", "call.overflowed"):
            if leg is not None and leg.state is not _LegState.WAITING:
                return []  # not waiting (answered or gone): nothing left this queue
            wait_s = _wait(p, leg, ts)
            outcome = (
                self._abandon_outcome(wait_s) if kind == "call.abandoned" else Outcome.OVERFLOW
            )
            return self._leave(call_id, call, ts, outcome, wait_s)
        if kind == "call.transferred":
            return self._transferred(ev, call_id, call)
        if kind == "call.fallback":
            ops: list[RecordOp] = []
            if leg is None or leg.state is _LegState.WAITING:
                ops = self._leave(call_id, call, ts, Outcome.FALLBACK, _wait(p, leg, ts))
            call.outcome = Outcome.FALLBACK
            values = {"outcome": Outcome.FALLBACK.value} | _pick(p, ("queue",))
            return [*ops, CallPatch(call_id, values)]
        if kind == "call.ended":
            return self._ended(ev, call_id, call)
        return []

    def _leg(self, call: _Call) -> _Leg:
        """The call's current leg; one addressed by SQL when the folder did not see it open
        (a restart, a lost event): answered by then, as far as hold and talk are concerned."""
        if call.leg is None:
            call.leg = _Leg(None, None, _LegState.ANSWERED, hold_known=False)
        return call.leg

    def _patch(
        self,
        call_id: str,
        leg: _Leg | None,
        ts: datetime,
        values: Mapping[str, Any],
        defaults: Mapping[str, Any] | None = None,
    ) -> LegPatch:
        return LegPatch(call_id, leg.leg_id if leg else None, ts, values, defaults or {})

    def _queued(self, ev: StoredEvent, call_id: str, call: _Call) -> list[RecordOp]:
        p, ts, queue = ev.payload, ev.ts, ev.queue
        leg = call.leg
        predicted = _num(p, "ewt_s")  # the ACD's estimate at entry
        values: dict[str, Any] = {"queue": queue, "enqueued_at": ts}
        values |= {"outcome": Outcome.QUEUED.value} | _pick(p, ("position", "language", "vip"))
        values |= _pick(p, ("predicted_wait_s",))
        if predicted is not None:
            values["predicted_wait_s"] = predicted
        if queue is None:
            return [CallPatch(call_id, values)]
        leg_values: dict[str, Any] = {
            k: values[k] for k in ("position", "predicted_wait_s") if k in values
        }
        ops: list[RecordOp] = []
        if p.get("resync") is True:
            # A waiting call the ACD rebuilt from Asterisk: already offered once. Insert a leg
            # only if the database has none waiting for it in this queue (its call.queued was
            # lost); either way the folder does not know the leg's id from here.
            if leg is not None and leg.queue == queue and leg.state is _LegState.WAITING:
                return []
            wait_s = _num(p, "wait_s") or 0.0
            entered = ts - timedelta(seconds=wait_s)
            ops.append(OpenLeg(ev.uid or "", call_id, queue, entered, leg_values, resync=True))
            call.leg = _Leg(None, queue, _LegState.WAITING, entered)
            call.outcome = Outcome.QUEUED
            return [*ops, CallPatch(call_id, {"queue": queue, "outcome": Outcome.QUEUED.value})]
        if leg is not None and leg.state is _LegState.WAITING:
            # Queued elsewhere without an exit event: it left the old queue all the same.
            ops += self._leave(call_id, call, ts, Outcome.TRANSFERRED, _since(leg.enqueued_at, ts))
        elif leg is not None and leg.state is _LegState.ANSWERED:
            ops += self._end_talk(call_id, leg, ts, {})  # no call.completed came first
        leg_id = ev.uid or f"{call_id}@{ts.isoformat()}"
        ops.append(OpenLeg(leg_id, call_id, queue, ts, leg_values))
        call.leg = _Leg(leg_id, queue, _LegState.WAITING, ts)
        call.outcome = Outcome.QUEUED
        return [*ops, CallPatch(call_id, values)]

    def _answered(self, ev: StoredEvent, call_id: str, call: _Call) -> list[RecordOp]:
        p, ts = ev.payload, ev.ts
        if p.get("taken_over") is True:
            return self._taken_over(ev, call_id, call)
        leg = call.leg
        if leg is None or leg.state is not _LegState.WAITING:
            leg = call.leg = _Leg(None, ev.queue, _LegState.WAITING)
        wait_s = _wait(p, leg, ts)
        leg.state, leg.answered_at, leg.agent_id = _LegState.ANSWERED, ts, ev.agent_id
        call.outcome = Outcome.ANSWERED
        common = {"answered_at": ts, "left_queue_at": ts, "outcome": Outcome.ANSWERED.value}
        common |= {"agent_id": ev.agent_id} | _pick(p, ("predicted_wait_s",))
        if ev.agent_id:
            agent = self._agent(ev.agent_id)
            agent.last_call, agent.last_leg = call_id, leg.leg_id
        return [
            self._patch(call_id, leg, ts, common | {"wait_s": wait_s}),
            CallPatch(call_id, common),
        ]

    def _taken_over(self, ev: StoredEvent, call_id: str, call: _Call) -> list[RecordOp]:
        """A consulted agent took the caller over (attended transfer): a leg of its own, so
        agent reports count the call it handled; queue figures leave it out (the queue's
        offer was the first agent's leg)."""
        ts, queue = ev.ts, ev.queue
        if queue is None:
            return []
        ops: list[RecordOp] = []
        leg = call.leg
        if leg is not None and leg.state is _LegState.ANSWERED:
            ops += self._end_talk(call_id, leg, ts, {})  # the first agent's talk ends here
        leg_id = ev.uid or f"{call_id}@{ts.isoformat()}"
        ops.append(OpenLeg(leg_id, call_id, queue, ts))
        call.leg = _Leg(leg_id, queue, _LegState.ANSWERED, ts, ts, ev.agent_id)
        values = {"answered_at": ts, "left_queue_at": ts, "agent_id": ev.agent_id, "wait_s": 0.0}
        ops.append(
            self._patch(call_id, call.leg, ts, values | {"outcome": Outcome.TAKEN_OVER.value})
        )
        ops.append(CallPatch(call_id, {"agent_id": ev.agent_id}))
        if ev.agent_id:
            agent = self._agent(ev.agent_id)
            agent.last_call, agent.last_leg = call_id, leg_id
        return ops

    def _unheld(self, ev: StoredEvent, call_id: str, call: _Call) -> list[RecordOp]:
        leg = self._leg(call)
        if leg.state is _LegState.DONE:
            return []  # after the talk's end: not part of the handled call (live agrees)
        held = _num(ev.payload, "hold_s")
        if held is None:
            held = _since(leg.held_since, ev.ts)
        leg.held_since = None
        if not leg.hold_known:
            # Earlier holds of this leg were seen by a process before a restart: the writer
            # sums them all from the stored events (this one included).
            return [LegPatch(call_id, None, ev.ts, {}, sum_hold=True)]
        if held is None:
            return []
        leg.hold_s += held
        return [self._patch(call_id, leg, ev.ts, {"hold_s": leg.hold_s})]

    def _completed(self, ev: StoredEvent, call_id: str, call: _Call) -> list[RecordOp]:
        leg = self._leg(call)
        if ev.agent_id and self._agent(ev.agent_id).last_call != call_id:
            # Answered before a restart: the wrap-up that follows is this agent's on this call.
            agent = self._agent(ev.agent_id)
            agent.last_call, agent.last_leg = call_id, leg.leg_id
        if leg.state is not _LegState.ANSWERED:
            return []  # its talk already ended (requeued by a transfer); live counts it once
        ops = self._end_talk(call_id, leg, ev.ts, ev.payload)
        by = _str(ev.payload, "by")
        if by is not None:
            ops.append(CallPatch(call_id, {"ended_by": by}))
        return ops

    def _end_talk(
        self, call_id: str, leg: _Leg, ts: datetime, p: Mapping[str, Any]
    ) -> list[RecordOp]:
        """The end of an agent's talk on ``leg`` (completed, or transferred away): talk time
        from the publisher, else measured without the holds; hold as the publisher totals it
        when it does (``call.completed``'s ``hold_s``), else as summed from ``call.unheld``."""
        leg.state = _LegState.DONE
        values: dict[str, Any] = {}
        talk_s = _num(p, "talk_s")
        if talk_s is None and leg.answered_at is not None:
            talk_s = max((ts - leg.answered_at).total_seconds() - leg.hold_s, 0.0)
        if talk_s is not None:
            values["talk_s"] = talk_s
        hold_s = _num(p, "hold_s")
        if hold_s is not None:
            values["hold_s"] = hold_s
        elif leg.hold_known:
            values["hold_s"] = leg.hold_s
        return [self._patch(call_id, leg, ts, values)] if values else []

    def _transferred(self, ev: StoredEvent, call_id: str, call: _Call) -> list[RecordOp]:
        leg, ts = call.leg, ev.ts
        if leg is None:  # from the IVR, before any queue
            if call.outcome in (None, Outcome.TRANSFERRED):
                call.outcome = Outcome.TRANSFERRED
                return [CallPatch(call_id, {"outcome": Outcome.TRANSFERRED.value})]
            return []
        if leg.state is _LegState.WAITING:
            wait_s = _wait(ev.payload, leg, ts)
            return self._leave(call_id, call, ts, Outcome.TRANSFERRED, wait_s)
        # After an answer (the agent's blind transfer) the leg stays answered; its talk ends
        # at the call.completed that follows, or when the call is queued again.
        return []

    def _leave(
        self, call_id: str, call: _Call, ts: datetime, outcome: Outcome, wait_s: float | None
    ) -> list[RecordOp]:
        """The current leg left its queue unanswered."""
        leg = call.leg
        if leg is not None:
            leg.state = _LegState.DONE
        call.outcome = outcome
        values = {"outcome": outcome.value, "left_queue_at": ts}
        return [
            self._patch(call_id, leg, ts, values | {"wait_s": wait_s}),
            CallPatch(call_id, values),
        ]

    def _ended(self, ev: StoredEvent, call_id: str, call: _Call) -> list[RecordOp]:
        ts = ev.ts
        ops: list[RecordOp] = []
        leg = call.leg
        if leg is not None and leg.state is _LegState.WAITING:
            # Hung up while waiting and nobody said abandoned: it is one all the same.
            wait_s = _since(leg.enqueued_at, ts)
            ops = self._leave(call_id, call, ts, self._abandon_outcome(wait_s), wait_s)
            ops.append(CallPatch(call_id, {"ended_at": ts}))
        else:
            ops.append(CallPatch(call_id, {"ended_at": ts}, {"outcome": Outcome.IVR_ONLY.value}))
        self._calls.pop(call_id, None)
        return ops

    # -- agents --------------------------------------------------------------------------------

    def _fold_agent(self, ev: StoredEvent) -> list[RecordOp]:
        agent_id, kind, ts, uid = ev.agent_id or "", ev.kind, ev.ts, ev.uid or ""
        agent = self._agent(agent_id)
        ops: list[RecordOp] = []
        if kind == "agent.logged_in":
            ops += [
                CloseIntervals(agent_id, IntervalCategory.SESSION, ts),
                OpenInterval(uid, agent_id, IntervalCategory.SESSION, "logged_in", None, ts),
            ]
        elif kind == "agent.logged_out":
            ops += [CloseIntervals(agent_id, c, ts) for c in IntervalCategory]
            ops += self._end_wrap_up(agent_id, agent, ts)
        elif kind == "agent.paused":
            reason = _str(ev.payload, "reason")
            ops += [
                CloseIntervals(agent_id, IntervalCategory.PAUSE, ts),
                OpenInterval(uid, agent_id, IntervalCategory.PAUSE, "paused", reason, ts),
            ]
        elif kind == "agent.unpaused":
            ops.append(CloseIntervals(agent_id, IntervalCategory.PAUSE, ts))
        elif kind == "agent.state":
            state = _str(ev.payload, "state") or "unknown"
            ops += self._end_wrap_up(agent_id, agent, ts)
            if state == "wrap_up":
                agent.wrap_started = ts
            reason = _str(ev.payload, "reason")
            ops += [
                CloseIntervals(agent_id, IntervalCategory.STATE, ts),
                OpenInterval(uid, agent_id, IntervalCategory.STATE, state, reason, ts),
            ]
        elif kind == "agent.disposition":
            ops += self._disposition(ev, agent_id, agent)
        return ops

    def _agent_leg(self, agent_id: str, agent: _Agent, call_id: str) -> str | None:
        """The id of the agent's leg of ``call_id`` when the folder knows it."""
        return agent.last_leg if agent.last_call == call_id else None

    def _disposition(self, ev: StoredEvent, agent_id: str, agent: _Agent) -> list[RecordOp]:
        call_id = ev.call_id or agent.last_call
        if call_id is None:
            return []
        ops: list[RecordOp] = []
        disposition = _pick(ev.payload, ("disposition",))
        if disposition:
            ops.append(CallPatch(call_id, disposition))
        values = _pick(ev.payload, ("disposition", "wrap_up_s"))
        if values:
            leg_id = self._agent_leg(agent_id, agent, call_id)
            ops.append(LegPatch(call_id, leg_id, ev.ts, values, agent_id=agent_id))
        return ops

    def _end_wrap_up(self, agent_id: str, agent: _Agent, ts: datetime) -> list[RecordOp]:
        started, agent.wrap_started = agent.wrap_started, None
        call_id = agent.last_call
        if started is None or call_id is None:
            return []
        wrap = {"wrap_up_s": (ts - started).total_seconds()}
        leg_id = self._agent_leg(agent_id, agent, call_id)
        return [LegPatch(call_id, leg_id, ts, wrap, agent_id=agent_id)]

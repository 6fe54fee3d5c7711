"""Fold domain events into call records, queue legs and agent intervals (sans-IO: no database
here). The operations are in ``record_ops``; agents' events are folded by ``agent_records``.

A call has one record (``calls``: who called, IVR path, last queue and agent, totals, final
outcome) and one *leg* per visit to a queue (``call_legs``): an overflow into another queue,
or an agent's blind transfer back into a queue, opens a new leg, so each queue keeps the calls
it was offered and what became of them there, as live statistics count them.

``RecordFolder.fold(event, uid)`` returns the record operations a typed event implies, in
order; ``uid`` is the event's in the log (legs and intervals are keyed by it).

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, assert_never

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
)
from hotline.storage.agent_records import AgentRecords
from hotline.storage.record_ops import CallPatch, LegPatch, OpenLeg, RecordOp

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


def _since(start: datetime | None, ts: datetime) -> float | None:
    return None if start is None else (ts - start).total_seconds()


def _wait(given: float | None, leg: _Leg | None, ts: datetime) -> float | None:
    """The wait the publisher gives, else measured from the leg's entry when known."""
    if given is not None or leg is None:
        return given
    return _since(leg.enqueued_at, ts)


class RecordFolder:
    def __init__(self, short_abandon_s: float = 5.0) -> None:
        self.short_abandon_s = short_abandon_s
        self._calls: dict[str, _Call] = {}
        self._agents = AgentRecords()

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

    def _abandon_outcome(self, wait_s: float | None) -> Outcome:
        short = wait_s is not None and wait_s < self.short_abandon_s
        return Outcome.SHORT_ABANDON if short else Outcome.ABANDONED

    def fold(self, event: DomainEvent, uid: str) -> list[RecordOp]:
        match event:
            case (
                AgentLoggedIn()
                | AgentLoggedOut()
                | AgentPaused()
                | AgentUnpaused()
                | AgentStateChanged()
                | AgentDisposition()
            ):
                return self._agents.fold(event, uid)
            case CallStarted():
                return self._started(event)
            case IvrNode():
                return self._ivr_node(event)
            case IvrEnded():
                call = self._call(event.call_id)
                if event.path is not None:
                    call.path = list(event.path)
                values: dict[str, Any] = {"ivr_path": list(call.path)}
                if event.language is not None:
                    values["language"] = event.language
                return [CallPatch(event.call_id, values)]
            case CallQueued():
                return self._queued(event, uid)
            case CallAnswered() if event.taken_over:
                return self._taken_over(event, uid)
            case CallAnswered():
                return self._answered(event)
            case CallHeld():
                held = self._leg(self._call(event.call_id))
                held.held_since = held.held_since or event.ts
                return []
            case CallUnheld():
                return self._unheld(event)
            case CallCompleted():
                return self._completed(event)
            case CallAbandoned() | CallOverflowed():
                return self._left_unanswered(event)
            case CallTransferred():
                return self._transferred(event)
            case CallFallback():
                return self._fallback(event)
            case CallEnded():
                return self._ended(event)
            case (
                CallOffered()
                | CallRingNoAnswer()
                | IvrInput()
                | AgentSkillsChanged()
                | AcdResynced()
                | RecordingStarted()
                | RecordingMuted()
                | RecordingUnmuted()
                | RecordingStopped()
            ):
                return []  # nothing in the records: the event log keeps them
            case _:
                assert_never(event)

    # -- the IVR -------------------------------------------------------------------------------

    def _started(self, ev: CallStarted) -> list[RecordOp]:
        values: dict[str, Any] = {
            "started_at": ev.ts,
            "hotline": ev.hotline,
            "product": ev.product,
            "did": ev.did,
            "caller": ev.caller,
            "vip": ev.vip,
        }
        if ev.language is not None:
            values["language"] = ev.language
        return [CallPatch(ev.call_id, values)]

    def _ivr_node(self, ev: IvrNode) -> list[RecordOp]:
        # The IVR publishes other engine events as ivr.node detail (``event`` names them);
        # only a node entered extends the path.
        if not ev.node or ev.event != "NodeEntered":
            return []
        call = self._call(ev.call_id)
        call.path.append(ev.node)
        return [CallPatch(ev.call_id, {"ivr_path": list(call.path)})]

    # -- queue legs ----------------------------------------------------------------------------

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

    def _queued(self, ev: CallQueued, uid: str) -> list[RecordOp]:
        call_id, ts, queue = ev.call_id, ev.ts, ev.queue
        call = self._call(call_id)
        leg = call.leg
        leg_values: dict[str, Any] = {"position": ev.position}
        if ev.ewt_s is not None:  # the ACD's estimate at entry
            leg_values["predicted_wait_s"] = ev.ewt_s
        values: dict[str, Any] = {"queue": queue, "enqueued_at": ts, "vip": ev.vip}
        values |= {"outcome": Outcome.QUEUED.value} | leg_values
        if ev.language is not None:
            values["language"] = ev.language
        ops: list[RecordOp] = []
        if ev.resync:
            # A waiting call the ACD rebuilt from Asterisk: already offered once. Insert a leg
            # only if the database has none waiting for it in this queue (its call.queued was
            # lost); either way the folder does not know the leg's id from here.
            if leg is not None and leg.queue == queue and leg.state is _LegState.WAITING:
                return []
            entered = ts - timedelta(seconds=ev.wait_s or 0.0)
            ops.append(OpenLeg(uid, call_id, queue, entered, leg_values, resync=True))
            call.leg = _Leg(None, queue, _LegState.WAITING, entered)
            call.outcome = Outcome.QUEUED
            return [*ops, CallPatch(call_id, {"queue": queue, "outcome": Outcome.QUEUED.value})]
        if leg is not None and leg.state is _LegState.WAITING:
            # Queued elsewhere without an exit event: it left the old queue all the same.
            ops += self._leave(call_id, call, ts, Outcome.TRANSFERRED, _since(leg.enqueued_at, ts))
        elif leg is not None and leg.state is _LegState.ANSWERED:
            ops += self._end_talk(call_id, leg, ts, None)  # no call.completed came first
        ops.append(OpenLeg(uid, call_id, queue, ts, leg_values))
        call.leg = _Leg(uid, queue, _LegState.WAITING, ts)
        call.outcome = Outcome.QUEUED
        return [*ops, CallPatch(call_id, values)]

    def _answered(self, ev: CallAnswered) -> list[RecordOp]:
        call_id, ts = ev.call_id, ev.ts
        call = self._call(call_id)
        leg = call.leg
        if leg is None or leg.state is not _LegState.WAITING:
            leg = call.leg = _Leg(None, ev.queue, _LegState.WAITING)
        wait_s = _wait(ev.wait_s, leg, ts)
        leg.state, leg.answered_at, leg.agent_id = _LegState.ANSWERED, ts, ev.agent_id
        call.outcome = Outcome.ANSWERED
        common: dict[str, Any] = {
            "answered_at": ts,
            "left_queue_at": ts,
            "outcome": Outcome.ANSWERED.value,
            "agent_id": ev.agent_id,
        }
        if ev.predicted_wait_s is not None:
            common["predicted_wait_s"] = ev.predicted_wait_s
        if ev.agent_id:
            self._agents.answered(ev.agent_id, call_id, leg.leg_id)
        return [
            self._patch(call_id, leg, ts, common | {"wait_s": wait_s}),
            CallPatch(call_id, common),
        ]

    def _taken_over(self, ev: CallAnswered, uid: str) -> list[RecordOp]:
        """A consulted agent took the caller over (attended transfer): a leg of its own, so
        agent reports count the call it handled; queue figures leave it out (the queue's
        offer was the first agent's leg)."""
        call_id, ts = ev.call_id, ev.ts
        call = self._call(call_id)
        ops: list[RecordOp] = []
        leg = call.leg
        if leg is not None and leg.state is _LegState.ANSWERED:
            ops += self._end_talk(call_id, leg, ts, None)  # the first agent's talk ends here
        ops.append(OpenLeg(uid, call_id, ev.queue, ts))
        call.leg = _Leg(uid, ev.queue, _LegState.ANSWERED, ts, ts, ev.agent_id)
        values = {"answered_at": ts, "left_queue_at": ts, "agent_id": ev.agent_id, "wait_s": 0.0}
        ops.append(
            self._patch(call_id, call.leg, ts, values | {"outcome": Outcome.TAKEN_OVER.value})
        )
        ops.append(CallPatch(call_id, {"agent_id": ev.agent_id}))
        if ev.agent_id:
            self._agents.answered(ev.agent_id, call_id, uid)
        return ops

    def _unheld(self, ev: CallUnheld) -> list[RecordOp]:
        leg = self._leg(self._call(ev.call_id))
        if leg.state is _LegState.DONE:
            return []  # after the talk's end: not part of the handled call (live agrees)
        held = ev.hold_s
        if held is None:
            held = _since(leg.held_since, ev.ts)
        leg.held_since = None
        if not leg.hold_known:
            # Earlier holds of this leg were seen by a process before a restart: the writer
            # sums them all from the stored events (this one included).
            return [LegPatch(ev.call_id, None, ev.ts, {}, sum_hold=True)]
        if held is None:
            return []
        leg.hold_s += held
        return [self._patch(ev.call_id, leg, ev.ts, {"hold_s": leg.hold_s})]

    def _completed(self, ev: CallCompleted) -> list[RecordOp]:
        leg = self._leg(self._call(ev.call_id))
        if ev.agent_id:
            self._agents.completed(ev.agent_id, ev.call_id, leg.leg_id)
        if leg.state is not _LegState.ANSWERED:
            return []  # its talk already ended (requeued by a transfer); live counts it once
        ops = self._end_talk(ev.call_id, leg, ev.ts, ev.talk_s)
        ops.append(CallPatch(ev.call_id, {"ended_by": ev.by}))
        return ops

    def _end_talk(
        self, call_id: str, leg: _Leg, ts: datetime, talk_s: float | None
    ) -> list[RecordOp]:
        """The end of an agent's talk on ``leg`` (completed, or transferred away): talk time
        from the publisher, else measured without the holds; hold as summed from
        ``call.unheld`` (unless holds before a restart are missing: the writer sums them)."""
        leg.state = _LegState.DONE
        values: dict[str, Any] = {}
        if talk_s is None and leg.answered_at is not None:
            talk_s = max((ts - leg.answered_at).total_seconds() - leg.hold_s, 0.0)
        if talk_s is not None:
            values["talk_s"] = talk_s
        if leg.hold_known:
            values["hold_s"] = leg.hold_s
        return [self._patch(call_id, leg, ts, values)] if values else []

    def _left_unanswered(self, ev: CallAbandoned | CallOverflowed) -> list[RecordOp]:
        call = self._call(ev.call_id)
        leg = call.leg
        if leg is not None and leg.state is not _LegState.WAITING:
            return []  # not waiting (answered or gone): nothing left this queue
        wait_s = _wait(ev.wait_s, leg, ev.ts)
        if isinstance(ev, CallAbandoned):
            outcome = self._abandon_outcome(wait_s)
        else:
            outcome = Outcome.OVERFLOW
        return self._leave(ev.call_id, call, ev.ts, outcome, wait_s)

    def _transferred(self, ev: CallTransferred) -> list[RecordOp]:
        call = self._call(ev.call_id)
        leg, ts = call.leg, ev.ts
        if leg is None:  # from the IVR, before any queue
            if call.outcome in (None, Outcome.TRANSFERRED):
                call.outcome = Outcome.TRANSFERRED
                return [CallPatch(ev.call_id, {"outcome": Outcome.TRANSFERRED.value})]
            return []
        if leg.state is _LegState.WAITING:
            wait_s = _since(leg.enqueued_at, ts)
            return self._leave(ev.call_id, call, ts, Outcome.TRANSFERRED, wait_s)
        # After an answer (the agent's blind transfer) the leg stays answered; its talk ends
        # at the call.completed that follows, or when the call is queued again.
        return []

    def _fallback(self, ev: CallFallback) -> list[RecordOp]:
        call = self._call(ev.call_id)
        leg = call.leg
        ops: list[RecordOp] = []
        if leg is None or leg.state is _LegState.WAITING:
            wait_s = _wait(ev.wait_s, leg, ev.ts)
            ops = self._leave(ev.call_id, call, ev.ts, Outcome.FALLBACK, wait_s)
        call.outcome = Outcome.FALLBACK
        return [*ops, CallPatch(ev.call_id, {"outcome": Outcome.FALLBACK.value})]

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

    def _ended(self, ev: CallEnded) -> list[RecordOp]:
        call_id, ts = ev.call_id, ev.ts
        call = self._call(call_id)
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

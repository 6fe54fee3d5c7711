"""Fold domain events into call records and agent intervals (sans-IO: no database here).

``RecordFolder.fold(event)`` returns the record operations an event implies, in order:

- ``CallPatch``: set some columns of one call record (an upsert keyed by call id). ``values``
  overwrite; ``defaults`` fill a column only while it is still NULL.
- ``OpenInterval`` / ``CloseIntervals``: an agent's session, pause (with reason) or state span.

Invariants (what makes a replay after a crash safe, see ``hotline.storage.event_log``):
- Every operation is idempotent: patches carry absolute values (never increments), an interval
  is opened under the uid of its event (inserted once), and closing touches only spans that
  are still open and began at or before the close.
- Operations applied in event order converge to the same rows, whatever prefix of them was
  applied before.
- The folder's memory (open calls, each agent's last call) only enriches records (IVR path
  built node by node, wrap-up time, outcome of a call that just hung up); it is bounded and
  may be lost on restart without corrupting anything already written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from hotline.storage.event_store import StoredEvent

# Calls followed at once; beyond it the oldest open call is forgotten (a call that never
# sends call.ended must not grow memory forever).
MAX_OPEN_CALLS = 100_000
CALL_DATETIME_COLUMNS = frozenset(
    {"started_at", "enqueued_at", "answered_at", "left_queue_at", "ended_at"}
)
# Reports group calls by 15-minute UTC slot (every zone offset in use is a multiple of 15
# minutes, so local 15/30/60-minute, day, week and month periods are unions of slots). The slot
# of each reported timestamp is stored beside it, so the database groups plain integers.
SLOT_S = 900
SLOT_COLUMNS = {
    "enqueued_at": "enter_slot",
    "left_queue_at": "leave_slot",
    "answered_at": "answer_slot",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SLOT = timedelta(seconds=SLOT_S)


class Outcome(StrEnum):
    QUEUED = "queued"  # still waiting (or the record is incomplete)
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SHORT_ABANDON = "short_abandon"  # hung up in queue before the short-abandon threshold
    OVERFLOW = "overflow"  # left the queue for another target (timeout, full, rule)
    TRANSFERRED = "transferred"  # sent elsewhere before an agent answered (IVR transfer)
    IVR_ONLY = "ivr_only"  # ended in the IVR (self-service, closed, hung up)
    FALLBACK = "fallback"  # reached the native Asterisk queue (Hotline down or failed)


class IntervalCategory(StrEnum):
    SESSION = "session"
    PAUSE = "pause"
    STATE = "state"


@dataclass(frozen=True, slots=True)
class CallPatch:
    call_id: str
    values: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpenInterval:
    uid: str
    agent_id: str
    category: IntervalCategory
    state: str
    reason: str | None
    started_at: datetime


@dataclass(frozen=True, slots=True)
class CloseIntervals:
    agent_id: str
    category: IntervalCategory
    ended_at: datetime


RecordOp = CallPatch | OpenInterval | CloseIntervals


@dataclass(slots=True)
class _Call:
    path: list[str] = field(default_factory=list)
    enqueued_at: datetime | None = None
    answered_at: datetime | None = None
    outcome: Outcome | None = None
    hold_s: float = 0.0
    held_since: datetime | None = None


@dataclass(slots=True)
class _Agent:
    last_call: str | None = None
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

    def _fold_call(self, ev: StoredEvent, call_id: str) -> list[RecordOp]:
        kind, p, ts = ev.kind, ev.payload, ev.ts
        call = self._call(call_id)
        values: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        if kind == "call.started":
            values = {"started_at": ts, **_pick(p, ("hotline", "product", "did", "caller"))}
            values |= _pick(p, ("language", "vip"))
        elif kind == "ivr.node":
            node = _str(p, "node")
            # The IVR publishes other engine events as ivr.node detail (``event`` names them);
            # only a node entered extends the path.
            if not node or p.get("event", "NodeEntered") != "NodeEntered":
                return []
            call.path.append(node)
            values = {"ivr_path": list(call.path)}
        elif kind == "ivr.ended":
            path = _str(p, "path")
            if path is not None:
                call.path = split_path(path)
            values = {"ivr_path": list(call.path)} | _pick(p, ("language",))
        elif kind == "call.queued":
            call.enqueued_at, call.outcome = ts, Outcome.QUEUED
            values = {"queue": ev.queue, "enqueued_at": ts, "outcome": Outcome.QUEUED.value}
            values |= _pick(p, ("position", "language", "vip", "predicted_wait_s"))
            if _num(p, "ewt_s") is not None:  # the ACD's estimate at entry
                values["predicted_wait_s"] = _num(p, "ewt_s")
        elif kind == "call.answered":
            call.answered_at, call.outcome = ts, Outcome.ANSWERED
            values = {"answered_at": ts, "left_queue_at": ts, "agent_id": ev.agent_id}
            values["outcome"] = Outcome.ANSWERED.value
            values |= _pick(p, ("wait_s", "predicted_wait_s"))
            if "wait_s" not in values and call.enqueued_at is not None:
                values["wait_s"] = (ts - call.enqueued_at).total_seconds()
            if ev.agent_id:
                self._agent(ev.agent_id).last_call = call_id
        elif kind in ("call.held", "call.unheld"):
            if kind == "call.held":
                call.held_since = call.held_since or ts
                return []
            if call.held_since is None:
                return []
            call.hold_s += (ts - call.held_since).total_seconds()
            call.held_since = None
            values = {"hold_s": call.hold_s}
        elif kind == "call.completed":
            values = _pick(p, ("talk_s", "hold_s"))
            if "hold_s" not in values and call.hold_s:
                values["hold_s"] = call.hold_s
            if "talk_s" not in values and call.answered_at is not None:
                values["talk_s"] = (ts - call.answered_at).total_seconds()
            by = _str(p, "by")
            if by is not None:
                values["ended_by"] = by
        elif kind in ("call.abandoned", "call.overflowed"):
            wait_s = _num(p, "wait_s")
            if wait_s is None and call.enqueued_at is not None:
                wait_s = (ts - call.enqueued_at).total_seconds()
            outcome = (
                self._abandon_outcome(wait_s) if kind == "call.abandoned" else Outcome.OVERFLOW
            )
            call.outcome = outcome
            values = {"outcome": outcome.value, "wait_s": wait_s, "left_queue_at": ts}
        elif kind == "call.transferred":
            # A transfer after an agent answered is still an answered call.
            if call.outcome is None or call.outcome in (Outcome.QUEUED, Outcome.TRANSFERRED):
                was_queued = call.outcome is Outcome.QUEUED
                call.outcome = Outcome.TRANSFERRED
                values = {"outcome": Outcome.TRANSFERRED.value}
                if was_queued:
                    values["left_queue_at"] = ts
            elif call.outcome is not Outcome.ANSWERED:
                return []
        elif kind == "call.fallback":
            call.outcome = Outcome.FALLBACK
            values = {"outcome": Outcome.FALLBACK.value} | _pick(p, ("queue",))
        elif kind == "call.ended":
            values = {"ended_at": ts}
            if call.outcome is Outcome.QUEUED:
                # Hung up while waiting and nobody said abandoned: it is one all the same.
                wait_s = (ts - call.enqueued_at).total_seconds() if call.enqueued_at else None
                gone = self._abandon_outcome(wait_s).value
                values |= {"outcome": gone, "wait_s": wait_s, "left_queue_at": ts}
            else:
                defaults = {"outcome": Outcome.IVR_ONLY.value}
            self._calls.pop(call_id, None)
        else:
            return []
        return [CallPatch(call_id, values, defaults)]

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
            ops += self._end_wrap_up(agent, ts)
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
            ops += self._end_wrap_up(agent, ts)
            if state == "wrap_up":
                agent.wrap_started = ts
            reason = _str(ev.payload, "reason")
            ops += [
                CloseIntervals(agent_id, IntervalCategory.STATE, ts),
                OpenInterval(uid, agent_id, IntervalCategory.STATE, state, reason, ts),
            ]
        elif kind == "agent.disposition":
            call_id = ev.call_id or agent.last_call
            if call_id is not None:
                values = _pick(ev.payload, ("disposition", "wrap_up_s"))
                if values:
                    ops.append(CallPatch(call_id, values))
        return ops

    def _end_wrap_up(self, agent: _Agent, ts: datetime) -> list[RecordOp]:
        started, agent.wrap_started = agent.wrap_started, None
        if started is None or agent.last_call is None:
            return []
        return [CallPatch(agent.last_call, {"wrap_up_s": (ts - started).total_seconds()})]


def slot_of(ts: datetime) -> int:
    """floor(epoch seconds / SLOT_S), exactly (integer arithmetic on microseconds)."""
    return (ts - _EPOCH) // _SLOT


def _slots(columns: Mapping[str, Any]) -> dict[str, int | None]:
    return {
        SLOT_COLUMNS[name]: None if value is None else slot_of(value)
        for name, value in columns.items()
        if name in SLOT_COLUMNS
    }


def with_slots(patch: CallPatch) -> CallPatch:
    """The patch plus the slot column of every slotted timestamp it sets, the same way (a
    value with its value, a default with its default)."""
    values, defaults = _slots(patch.values), _slots(patch.defaults)
    if not values and not defaults:
        return patch
    return CallPatch(patch.call_id, {**patch.values, **values}, {**patch.defaults, **defaults})


def merge_patches(patches: Sequence[CallPatch]) -> list[CallPatch]:
    """One patch per call, equivalent to applying ``patches`` in order (fewer statements)."""
    merged: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for patch in patches:
        values, defaults = merged.setdefault(patch.call_id, ({}, {}))
        values.update(patch.values)
        for key in patch.values:
            defaults.pop(key, None)
        for key, value in patch.defaults.items():
            # COALESCE semantics: the first default wins, a set value beats any default.
            if key not in values and key not in defaults:
                defaults[key] = value
    return [CallPatch(call_id, v, d) for call_id, (v, d) in merged.items()]

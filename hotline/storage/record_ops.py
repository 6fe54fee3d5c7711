"""The record operations the folder (``call_records``) emits and the writer (``record_sql``)
applies, and the 15-minute slots stored beside reported timestamps. Pure: no database here.

- ``CallPatch``: set some columns of one call record (an upsert keyed by call id). ``values``
  overwrite; ``defaults`` fill a column only while it is still NULL.
- ``OpenLeg``: insert a call's visit to a queue, keyed by the uid of the ``call.queued`` event
  that opened it (inserted once, whatever the replays).
- ``LegPatch``: set some columns of one leg. Addressed by ``leg_id`` when the folder knows it;
  otherwise (the folder's memory was lost in a restart, or the leg came from a resync) the
  writer finds the leg with SQL at write time: the call's latest leg that entered its queue at
  or before ``at`` (and was answered by ``agent_id`` when one is given). Batches are written in
  the order they were cut, so every leg opened before the patch's event is in the database by
  then, whichever process folded it.
- ``OpenInterval`` / ``CloseIntervals``: an agent's session, pause (with reason) or state span.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

# Columns that hold datetimes (the spool codec turns them back from strings).
CALL_DATETIME_COLUMNS = frozenset(
    {"started_at", "enqueued_at", "answered_at", "left_queue_at", "ended_at"}
)
# Reports group legs by 15-minute UTC slot (every zone offset in use is a multiple of 15
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
class OpenLeg:
    """A new visit of ``call_id`` to ``queue``. ``resync``: the ACD rebuilt a waiting call
    after a reconnect; insert it only if the call has no leg still waiting in that queue."""

    leg_id: str
    call_id: str
    queue: str
    enqueued_at: datetime
    values: Mapping[str, Any] = field(default_factory=dict)  # position, predicted_wait_s
    resync: bool = False


@dataclass(frozen=True, slots=True)
class LegPatch:
    """``sum_hold``: set ``hold_s`` to the sum of the ``hold_s`` of the call's stored
    ``call.unheld`` events from the leg's answer to ``at`` (the folder lost the leg's earlier
    holds in a restart)."""

    call_id: str
    leg_id: str | None
    at: datetime
    values: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    agent_id: str | None = None
    sum_hold: bool = False


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


RecordOp = CallPatch | OpenLeg | LegPatch | OpenInterval | CloseIntervals
LegOp = OpenLeg | LegPatch


def slot_of(ts: datetime) -> int:
    """floor(epoch seconds / SLOT_S), exactly (integer arithmetic on microseconds)."""
    return (ts - _EPOCH) // _SLOT


def slots(columns: Mapping[str, Any]) -> dict[str, int | None]:
    """The slot column of every slotted timestamp in ``columns``."""
    return {
        SLOT_COLUMNS[name]: None if value is None else slot_of(value)
        for name, value in columns.items()
        if name in SLOT_COLUMNS
    }


def merge_patches(patches: Sequence[CallPatch]) -> list[CallPatch]:
    """One patch per call, equivalent to applying ``patches`` in order (fewer statements)."""
    merged: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for patch in patches:
        values, defaults = merged.setdefault(patch.call_id, ({}, {}))
        _merge_into(values, defaults, patch.values, patch.defaults)
    return [CallPatch(call_id, v, d) for call_id, (v, d) in merged.items()]


def merge_leg_patches(patches: Sequence[LegPatch]) -> list[LegPatch]:
    """One patch per leg for patches addressed by leg id, same semantics as in order."""
    merged: dict[str, LegPatch] = {}
    for patch in patches:
        if patch.leg_id is None or patch.sum_hold:
            raise ValueError("only patches addressed by leg id merge")
        first = merged.get(patch.leg_id)
        if first is None:
            merged[patch.leg_id] = LegPatch(
                patch.call_id, patch.leg_id, patch.at, dict(patch.values), dict(patch.defaults)
            )
            continue
        values, defaults = first.values, first.defaults
        assert isinstance(values, dict) and isinstance(defaults, dict)
        _merge_into(values, defaults, patch.values, patch.defaults)
    return list(merged.values())


def _merge_into(
    values: dict[str, Any],
    defaults: dict[str, Any],
    new_values: Mapping[str, Any],
    new_defaults: Mapping[str, Any],
) -> None:
    values.update(new_values)
    for key in new_values:
        defaults.pop(key, None)
    for key, value in new_defaults.items():
        # COALESCE semantics: the first default wins, a set value beats any default.
        if key not in values and key not in defaults:
            defaults[key] = value

"""One batch (events and the record operations folded from them) as one JSON line.

Used by the disk spool. Versioned (``VERSION``); a reader refuses versions it does not know
rather than guess. Datetimes travel as RFC 3339 strings with their offset (orjson's rendering
of aware datetimes) and come back aware. An event's ``payload`` travels as its row holds it:
the data ``cti.events.encode`` wrote, or the first shape in a line an older version spooled
(stored as is; readers decode both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hotline.storage.event_store import StoredEvent
from hotline.storage.record_ops import (
    CALL_DATETIME_COLUMNS,
    CallPatch,
    CloseIntervals,
    IntervalCategory,
    LegPatch,
    OpenInterval,
    OpenLeg,
    RecordOp,
)

VERSION = 2  # 2: legs (``leg`` and ``legpatch`` operations)
READABLE = (1, 2)  # a version-1 line has no leg operations: still valid


class BatchDecodeError(ValueError):
    """A spooled line that is not a batch this code can read."""


@dataclass(frozen=True, slots=True)
class Batch:
    events: Sequence[StoredEvent]
    ops: Sequence[RecordOp]


def _event(e: StoredEvent) -> dict[str, Any]:
    return {
        "uid": e.uid,
        "kind": e.kind,
        "ts": e.ts,
        "call_id": e.call_id,
        "agent_id": e.agent_id,
        "queue": e.queue,
        "mono": e.monotonic_ns,
        "payload": dict(e.payload),
    }


def _op(op: RecordOp) -> dict[str, Any]:
    if isinstance(op, CallPatch):
        return {"op": "call", "id": op.call_id, "set": dict(op.values), "def": dict(op.defaults)}
    if isinstance(op, OpenLeg):
        return {
            "op": "leg",
            "leg": op.leg_id,
            "id": op.call_id,
            "queue": op.queue,
            "at": op.enqueued_at,
            "set": dict(op.values),
            "resync": op.resync,
        }
    if isinstance(op, LegPatch):
        return {
            "op": "legpatch",
            "leg": op.leg_id,
            "id": op.call_id,
            "at": op.at,
            "set": dict(op.values),
            "def": dict(op.defaults),
            "agent": op.agent_id,
            "sum_hold": op.sum_hold,
        }
    if isinstance(op, OpenInterval):
        return {
            "op": "open",
            "uid": op.uid,
            "agent": op.agent_id,
            "cat": op.category.value,
            "state": op.state,
            "reason": op.reason,
            "at": op.started_at,
        }
    return {"op": "close", "agent": op.agent_id, "cat": op.category.value, "at": op.ended_at}


def encode(batch: Batch) -> bytes:
    return orjson.dumps(
        {
            "v": VERSION,
            "events": [_event(e) for e in batch.events],
            "ops": [_op(o) for o in batch.ops],
        }
    )


def _dt(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise BatchDecodeError(f"naive datetime in spool: {value!r}")
    return parsed


def _columns(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (_dt(v) if k in CALL_DATETIME_COLUMNS and v is not None else v) for k, v in raw.items()
    }


def _decode_op(raw: Mapping[str, Any]) -> RecordOp:
    kind = raw["op"]
    if kind == "call":
        return CallPatch(raw["id"], _columns(raw["set"]), _columns(raw["def"]))
    if kind == "leg":
        return OpenLeg(
            raw["leg"], raw["id"], raw["queue"], _dt(raw["at"]), raw["set"], bool(raw["resync"])
        )
    if kind == "legpatch":
        return LegPatch(
            raw["id"],
            raw["leg"],
            _dt(raw["at"]),
            _columns(raw["set"]),
            _columns(raw["def"]),
            raw["agent"],
            bool(raw["sum_hold"]),
        )
    category = IntervalCategory(raw["cat"])
    if kind == "open":
        return OpenInterval(
            raw["uid"], raw["agent"], category, raw["state"], raw["reason"], _dt(raw["at"])
        )
    if kind == "close":
        return CloseIntervals(raw["agent"], category, _dt(raw["at"]))
    raise BatchDecodeError(f"unknown operation {kind!r}")


def decode(line: bytes) -> Batch:
    try:
        raw = orjson.loads(line)
        if raw.get("v") not in READABLE:
            raise BatchDecodeError(f"unknown spool version {raw.get('v')!r}")
        events = [
            StoredEvent(
                uid=e["uid"],
                kind=e["kind"],
                ts=_dt(e["ts"]),
                call_id=e["call_id"],
                agent_id=e["agent_id"],
                queue=e["queue"],
                monotonic_ns=e["mono"],
                payload=e["payload"],
            )
            for e in raw["events"]
        ]
        return Batch(events, [_decode_op(o) for o in raw["ops"]])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, BatchDecodeError):
            raise
        raise BatchDecodeError(f"unreadable spooled batch: {exc}") from exc

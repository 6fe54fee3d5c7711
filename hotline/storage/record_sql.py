"""Apply one batch (events + record operations) to the database in one transaction.

Invariant: applying the same batch twice leaves the same rows as applying it once (events
are keyed by uid, patches set absolute values, intervals are keyed by their opening event's
uid and closed only while open). This is what lets the writer replay its disk spool after a
crash without knowing which batches had reached the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import Insert, and_, bindparam, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.storage.call_records import (
    CallPatch,
    CloseIntervals,
    OpenInterval,
    RecordOp,
    merge_patches,
    with_slots,
)
from hotline.storage.event_store import StoredEvent, to_row
from hotline.storage.models import AgentInterval, Call, Event


def _insert(conn: AsyncConnection, table: Any) -> Any:
    # ON CONFLICT exists in both dialects, with the same API, under different modules.
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


async def write_batch(
    conn: AsyncConnection, events: Sequence[StoredEvent], ops: Sequence[RecordOp]
) -> None:
    """Events, then call patches (with the slot of each slotted timestamp), then interval
    operations in event order."""
    if events:
        stmt = _insert(conn, Event).on_conflict_do_nothing(index_elements=["uid"])
        await conn.execute(stmt, [to_row(e) for e in events])
    patches = merge_patches([op for op in ops if isinstance(op, CallPatch)])
    await _upsert_calls(conn, [with_slots(patch) for patch in patches])
    interval_ops = [op for op in ops if not isinstance(op, CallPatch)]
    # Consecutive operations of one type go in one executemany; order between types is kept
    # (a close must precede the open that follows it).
    for is_open, group in groupby(interval_ops, key=lambda op: isinstance(op, OpenInterval)):
        items = list(group)
        if is_open:
            await _open_intervals(conn, [op for op in items if isinstance(op, OpenInterval)])
        else:
            await _close_intervals(conn, [op for op in items if isinstance(op, CloseIntervals)])


def _signature(patch: CallPatch) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(sorted(patch.values)), tuple(sorted(patch.defaults))


async def _upsert_calls(conn: AsyncConnection, patches: Sequence[CallPatch]) -> None:
    for (set_cols, default_cols), group in groupby(sorted(patches, key=_signature), key=_signature):
        rows = [{"call_id": p.call_id, **p.values, **p.defaults} for p in group]
        stmt: Insert = _insert(conn, Call)
        excluded = stmt.excluded  # type: ignore[attr-defined]
        table = Call.__table__.c
        assignments: dict[str, Any] = {c: excluded[c] for c in set_cols}
        assignments |= {c: func.coalesce(table[c], excluded[c]) for c in default_cols}
        if assignments:
            stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=["call_id"], set_=assignments
            )
        else:
            stmt = stmt.on_conflict_do_nothing(  # type: ignore[attr-defined]
                index_elements=["call_id"]
            )
        await conn.execute(stmt, rows)


async def _open_intervals(conn: AsyncConnection, ops: Sequence[OpenInterval]) -> None:
    rows = [
        {
            "uid": op.uid,
            "agent_id": op.agent_id,
            "category": op.category.value,
            "state": op.state,
            "reason": op.reason,
            "started_at": op.started_at,
            "ended_at": None,
        }
        for op in ops
    ]
    stmt = _insert(conn, AgentInterval).on_conflict_do_nothing(index_elements=["uid"])
    await conn.execute(stmt, rows)


_CLOSE = (
    update(AgentInterval)
    .where(
        and_(
            AgentInterval.agent_id == bindparam("b_agent"),
            AgentInterval.category == bindparam("b_category"),
            AgentInterval.ended_at.is_(None),
            AgentInterval.started_at <= bindparam("b_end"),
        )
    )
    .values(ended_at=bindparam("b_end"))
)


async def _close_intervals(conn: AsyncConnection, ops: Sequence[CloseIntervals]) -> None:
    params = [
        {"b_agent": op.agent_id, "b_category": op.category.value, "b_end": op.ended_at}
        for op in ops
    ]
    # executemany of an UPDATE: SQLAlchemy would otherwise insist on a single parameter set.
    await conn.execute(_CLOSE.execution_options(synchronize_session=False), params)

"""Apply one batch (events + record operations) to the database in one transaction.

Invariant: applying the same batch twice leaves the same rows as applying it once (events
are keyed by uid, patches set absolute values, legs and intervals are keyed by their opening
event's uid, intervals are closed only while open, and a call's totals are recomputed from its
legs). This is what lets the writer replay its disk spool after a crash without knowing which
batches had reached the database.

Legs are written in the order of their operations where it matters: a patch addressed to "the
call's latest leg" (``LegPatch`` without ``leg_id``) is resolved after every earlier operation
on that call and before any later one. Patches addressed by leg id only need their leg to
exist, so they are merged and sent in a few statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import (
    Insert,
    Update,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.storage.event_store import StoredEvent, to_row
from hotline.storage.models import AgentInterval, Call, CallLeg, Event
from hotline.storage.record_ops import (
    CallPatch,
    CloseIntervals,
    LegPatch,
    OpenInterval,
    OpenLeg,
    RecordOp,
    merge_leg_patches,
    merge_patches,
    slots,
)

# Call columns recomputed from the call's legs after each batch: sums over its visits.
CALL_TOTALS = ("wait_s", "talk_s", "hold_s", "wrap_up_s")


def _insert(conn: AsyncConnection, table: Any) -> Any:
    # ON CONFLICT exists in both dialects, with the same API, under different modules.
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


async def write_batch(
    conn: AsyncConnection, events: Sequence[StoredEvent], ops: Sequence[RecordOp]
) -> None:
    """Events, call patches, legs (then the totals of the calls they belong to), and interval
    operations in event order."""
    if events:
        stmt = _insert(conn, Event).on_conflict_do_nothing(index_elements=["uid"])
        await conn.execute(stmt, [to_row(e) for e in events])
    await _upsert_calls(conn, merge_patches([op for op in ops if isinstance(op, CallPatch)]))
    leg_ops = [op for op in ops if isinstance(op, OpenLeg | LegPatch)]
    await _write_legs(conn, leg_ops)
    await _refresh_totals(conn, sorted({op.call_id for op in leg_ops}))
    interval_ops = [op for op in ops if isinstance(op, OpenInterval | CloseIntervals)]
    for closes, opens in interval_rounds(interval_ops):
        await _close_intervals(conn, closes)
        await _open_intervals(conn, opens)


# -- calls -----------------------------------------------------------------------------------


def _signature(patch: CallPatch | LegPatch) -> tuple[tuple[str, ...], tuple[str, ...]]:
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


async def _refresh_totals(conn: AsyncConnection, call_ids: Sequence[str]) -> None:
    """Each call's durations: the sums over its legs (NULL while no leg has one)."""
    if not call_ids:
        return
    legs = CallLeg.__table__.c
    mine = legs.call_id == Call.__table__.c.call_id
    totals = {
        column: select(func.sum(legs[column])).where(mine).scalar_subquery()
        for column in CALL_TOTALS
    }
    stmt = update(Call).where(Call.call_id.in_(bindparam("b_ids", expanding=True)))
    await conn.execute(stmt.values(totals), {"b_ids": list(call_ids)})


# -- legs ------------------------------------------------------------------------------------


async def _write_legs(conn: AsyncConnection, ops: Sequence[OpenLeg | LegPatch]) -> None:
    opens: list[OpenLeg] = []
    patches: list[LegPatch] = []
    pending_calls: set[str] = set()

    async def flush() -> None:
        await _open_legs(conn, opens)
        await _patch_legs(conn, merge_leg_patches(patches))
        opens.clear()
        patches.clear()
        pending_calls.clear()

    for op in ops:
        if isinstance(op, OpenLeg) and not op.resync:
            opens.append(op)
        elif isinstance(op, LegPatch) and op.leg_id is not None and not op.sum_hold:
            patches.append(op)
        else:
            # Found by SQL: everything before it on this call must be written first.
            if op.call_id in pending_calls:
                await flush()
            await _apply_in_order(conn, op)
            continue
        pending_calls.add(op.call_id)
    await flush()


def _leg_row(op: OpenLeg) -> dict[str, Any]:
    row = {
        "leg_id": op.leg_id,
        "call_id": op.call_id,
        "queue": op.queue,
        "enqueued_at": op.enqueued_at,
        "position": None,
        "predicted_wait_s": None,
        "outcome": "queued",
    }
    row |= op.values
    return row | slots({"enqueued_at": op.enqueued_at})


async def _open_legs(conn: AsyncConnection, ops: Sequence[OpenLeg]) -> None:
    if ops:
        stmt = _insert(conn, CallLeg).on_conflict_do_nothing(index_elements=["leg_id"])
        await conn.execute(stmt, [_leg_row(op) for op in ops])


def _set_clause(
    patch: LegPatch, param: str = "v_{}"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(assignments, their parameters) of a patch with the slot of each slotted timestamp,
    set the same way (a value with its value, a default with its default)."""
    values = {**patch.values, **slots(patch.values)}
    defaults = {**patch.defaults, **slots(patch.defaults)}
    table = CallLeg.__table__.c

    def bound(column: str) -> Any:
        return bindparam(param.format(column), type_=table[column].type)

    assignments: dict[str, Any] = {c: bound(c) for c in values}
    assignments |= {c: func.coalesce(table[c], bound(c)) for c in defaults}
    params = {param.format(c): v for c, v in (values | defaults).items()}
    return assignments, params, values | defaults


async def _patch_legs(conn: AsyncConnection, patches: Sequence[LegPatch]) -> None:
    for _, group in groupby(sorted(patches, key=_signature), key=_signature):
        items = list(group)
        assignments, _, _ = _set_clause(items[0])
        if not assignments:
            continue
        stmt: Update = update(CallLeg).where(CallLeg.leg_id == bindparam("b_leg"))
        rows = [{"b_leg": p.leg_id, **_set_clause(p)[1]} for p in items]
        # executemany of an UPDATE: SQLAlchemy would otherwise insist on one parameter set.
        await conn.execute(
            stmt.values(assignments).execution_options(synchronize_session=False), rows
        )


def _latest_leg(op: LegPatch) -> Any:
    """The call's latest leg that entered its queue at or before the patch's event (answered
    by the patch's agent when it names one)."""
    leg = CallLeg.__table__.alias("latest")
    query = select(leg.c.leg_id).where(
        leg.c.call_id == op.call_id, leg.c.enqueued_at <= literal(op.at, CallLeg.enqueued_at.type)
    )
    if op.agent_id is not None:
        query = query.where(leg.c.agent_id == op.agent_id)
    return query.order_by(leg.c.enqueued_at.desc(), leg.c.leg_id.desc()).limit(1).scalar_subquery()


async def _apply_in_order(conn: AsyncConnection, op: OpenLeg | LegPatch) -> None:
    if isinstance(op, OpenLeg):  # a resync: only when no leg of the call waits in that queue
        waiting = exists().where(
            CallLeg.call_id == op.call_id,
            CallLeg.queue == op.queue,
            CallLeg.left_queue_at.is_(None),
        )
        row = _leg_row(op)
        stmt = _insert(conn, CallLeg).from_select(
            list(row),
            select(*(literal(v, CallLeg.__table__.c[k].type) for k, v in row.items())).where(
                ~waiting
            ),
        )
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["leg_id"]))
        return
    target = CallLeg.leg_id == (op.leg_id if op.leg_id is not None else _latest_leg(op))
    assignments, params, _ = _set_clause(op)
    if op.sum_hold:
        assignments["hold_s"] = _held_since_answer(op)
    if not assignments:
        return
    await conn.execute(update(CallLeg).where(target).values(assignments), params)


def _held_since_answer(op: LegPatch) -> Any:
    """Sum of ``hold_s`` over the call's stored ``call.unheld`` events from the answer of its
    latest leg to the patch's event."""
    leg = CallLeg.__table__.c
    return (
        select(func.coalesce(func.sum(Event.payload["hold_s"].as_float()), 0.0))
        .where(
            Event.call_id == op.call_id,
            Event.kind == "call.unheld",
            Event.ts >= leg.answered_at,
            Event.ts <= literal(op.at, Event.ts.type),
        )
        .scalar_subquery()
    )


# -- agent intervals -------------------------------------------------------------------------


def interval_rounds(
    ops: Sequence[OpenInterval | CloseIntervals],
) -> list[tuple[list[CloseIntervals], list[OpenInterval]]]:
    """The operations in rounds that keep their order where it matters: within one agent's
    category (a close must precede the open that follows it, and that open the next close).
    Operations on different (agent, category) pairs touch different rows, so the n-th one of
    every pair goes in round n: a few statements per batch rather than two per state change."""
    rounds: list[tuple[list[CloseIntervals], list[OpenInterval]]] = []
    depth: dict[tuple[str, str], int] = {}
    for op in ops:
        key = (op.agent_id, op.category.value)
        n = depth.get(key, 0)
        depth[key] = n + 1
        if n == len(rounds):
            rounds.append(([], []))
        closes, opens = rounds[n]
        if isinstance(op, OpenInterval):
            opens.append(op)
        else:
            closes.append(op)
    return rounds


async def _open_intervals(conn: AsyncConnection, ops: Sequence[OpenInterval]) -> None:
    if not ops:
        return
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
    if not ops:
        return
    params = [
        {"b_agent": op.agent_id, "b_category": op.category.value, "b_end": op.ended_at}
        for op in ops
    ]
    # executemany of an UPDATE: SQLAlchemy would otherwise insist on one parameter set.
    await conn.execute(_CLOSE.execution_options(synchronize_session=False), params)

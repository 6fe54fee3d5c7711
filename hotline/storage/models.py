"""Tables of the event log, call records and their legs, and agents' time. Every schema change
here needs a migration in ``migrations/versions``. The declarative base and column types are in
``hotline.storage.base``; ``hotline.storage.schema`` gathers every table module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.base import Base, BigId, Json, new_uid

__all__ = [
    "CROSSING_LEGS",
    "REPORT_AGENT_COLUMNS",
    "REPORT_QUEUE_COLUMNS",
    "AgentInterval",
    "Base",  # re-exported: callers import it from here
    "Call",
    "CallLeg",
    "Event",
    "new_uid",
]


class Event(Base):
    """Append-only log of domain events (call, agent, queue); never updated in place.

    ``uid`` is given once, when the event is taken off the bus, and travels with it through
    the disk spool: writing the same event twice (a replay after a crash) stores one row.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(32), default=new_uid)
    ts: Mapped[datetime]
    # Orders events that share a wall-clock tick, and measures SLA intervals exactly.
    monotonic_ns: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    # No single-column index on call_id: the (call_id, ts) index serves those lookups too.
    call_id: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ix_events_ts", "ts"),
        Index("ix_events_call_id_ts", "call_id", "ts"),
        Index("ix_events_uid", "uid", unique=True),
    )


class Call(Base):
    """One record per call, folded from its events (``hotline.storage.call_records``).

    Who called and what they did in the IVR, then their *last* queue visit (``queue``,
    ``position``, ``enqueued_at``, ``answered_at``, ``left_queue_at``, ``agent_id``), and
    durations in seconds summed over every visit (``wait_s``, ``talk_s``, ``hold_s``,
    ``wrap_up_s``: the writer recomputes them from ``call_legs``). ``outcome`` (one of
    ``call_records.Outcome``) is that of the last visit, or ``ivr_only`` / ``fallback``.
    Reports read ``call_legs``, one row per visit.
    """

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hotline: Mapped[str | None] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(64))
    did: Mapped[str | None] = mapped_column(String(32))
    caller: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    vip: Mapped[bool | None] = mapped_column(Boolean)
    ivr_path: Mapped[list[str] | None] = mapped_column(Json)
    queue: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int | None] = mapped_column(Integer)  # on entering the queue, 1 = first
    started_at: Mapped[datetime | None]
    enqueued_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    # When it left the queue: answered, abandoned, overflowed or transferred away.
    left_queue_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wait_s: Mapped[float | None] = mapped_column(Float)
    predicted_wait_s: Mapped[float | None] = mapped_column(Float)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    talk_s: Mapped[float | None] = mapped_column(Float)
    hold_s: Mapped[float | None] = mapped_column(Float)
    wrap_up_s: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    ended_by: Mapped[str | None] = mapped_column(String(16))  # caller | agent | system

    __table_args__ = (Index("ix_calls_started_at", "started_at"),)


# Column order of the report indexes (leading columns first); the migration spells them out.
REPORT_QUEUE_COLUMNS = (
    "enter_slot", "queue", "leave_slot", "answer_slot", "outcome", "wait_s", "talk_s", "hold_s",
    "wrap_up_s",
)  # fmt: skip
REPORT_AGENT_COLUMNS = ("answer_slot", "agent_id", "talk_s", "hold_s", "wrap_up_s")
# Legs that left the queue in another slot than they entered it (a few percent): the predicate
# of a partial index, written the same way in the queries that use it.
CROSSING_LEGS = "enter_slot <> leave_slot"


class CallLeg(Base):
    """One visit of a call to a queue, from ``call.queued`` until it is answered (then on to the
    end of its talk and wrap-up), abandoned, overflowed or transferred away. Queue and agent
    reports read this table: a call that overflows from one queue into another is offered in
    both, as live statistics count it.

    ``leg_id`` is the uid of the ``call.queued`` event that opened it (``legacy-<call id>`` for
    calls stored before legs existed): replays insert it once. Durations are seconds; ``wait_s``
    is the time in this queue, ``outcome`` one of ``call_records.Outcome`` (queued while it
    waits).
    """

    __tablename__ = "call_legs"

    leg_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    position: Mapped[int | None] = mapped_column(Integer)
    predicted_wait_s: Mapped[float | None] = mapped_column(Float)
    enqueued_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    left_queue_at: Mapped[datetime | None]
    wait_s: Mapped[float | None] = mapped_column(Float)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    talk_s: Mapped[float | None] = mapped_column(Float)
    hold_s: Mapped[float | None] = mapped_column(Float)
    wrap_up_s: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    # 15-minute UTC slots (floor(epoch / 900)) of enqueued_at, left_queue_at and answered_at,
    # written with them (``record_ops.slots``): reports group these integers.
    enter_slot: Mapped[int] = mapped_column(Integer)
    leave_slot: Mapped[int | None] = mapped_column(Integer)
    answer_slot: Mapped[int | None] = mapped_column(Integer)

    # Queue reports scan legs by the slot they entered the queue (offered there; answered,
    # abandoned, overflowed in the slot they left it, as live statistics count them), in the
    # order of ``ix_call_legs_report_queues``: it holds every column they read, so the
    # database groups while it walks the index (no table lookups, no sort).
    # ``ix_call_legs_crossing`` finds the legs that left in range but entered outside it.
    # Agent reports walk ``ix_call_legs_report_agents`` likewise. The writer finds a call's
    # legs (latest first, totals) through ``ix_call_legs_call_id_enqueued_at``.
    __table_args__ = (
        Index("ix_call_legs_report_queues", *REPORT_QUEUE_COLUMNS),
        Index(
            "ix_call_legs_crossing",
            "leave_slot",
            "enter_slot",
            "queue",
            sqlite_where=text(CROSSING_LEGS),
            postgresql_where=text(CROSSING_LEGS),
        ),
        Index("ix_call_legs_report_agents", *REPORT_AGENT_COLUMNS),
        Index("ix_call_legs_call_id_enqueued_at", "call_id", "enqueued_at"),
    )


class AgentInterval(Base):
    """A span of one agent's time: a login session, a pause (with reason) or a state.

    ``category`` is ``session`` | ``pause`` | ``state``; ``ended_at`` is None while it lasts.
    ``uid`` is the uid of the event that opened it (idempotent replays).
    """

    __tablename__ = "agent_intervals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    # Reports fetch the spans overlapping [from, to): started_at < to and open or ended after
    # from. Closing looks up the open span of one agent and category.
    __table_args__ = (
        Index("ix_agent_intervals_uid", "uid", unique=True),
        Index("ix_agent_intervals_started_at", "started_at"),
        Index(
            "ix_agent_intervals_agent_id_category_started_at", "agent_id", "category", "started_at"
        ),
    )

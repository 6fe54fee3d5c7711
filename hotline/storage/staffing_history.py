"""The call history staffing forecasts from (``staffing.ports.CallHistory``), in SQL over the
call legs: one leg per visit of a call to a queue, so a call that overflows or is transferred
into a queue is demand there too, as live statistics and reports count it. A consulted
agent's part of an attended transfer (outcome ``taken_over``) is neither an arrival nor a
handled call of the queue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from hotline.storage.call_records import Outcome
from hotline.storage.db import Database
from hotline.storage.models import CallLeg


class SqlCallHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def arrivals(self, queue: str, since: datetime, until: datetime) -> list[datetime]:
        """``enqueued_at`` of every call offered to ``queue`` in ``[since, until)`` (UTC-aware)."""
        query = select(CallLeg.enqueued_at).where(
            CallLeg.queue == queue,
            CallLeg.enqueued_at >= since,
            CallLeg.enqueued_at < until,
            CallLeg.outcome != Outcome.TAKEN_OVER.value,  # a consulted agent's part: no arrival
        )
        async with self._db.session() as session:
            rows = (await session.execute(query)).scalars().all()
        return [moment for moment in rows if moment is not None]

    async def mean_handle_time(self, queue: str, since: datetime, until: datetime) -> float | None:
        """Mean handle time (talk + hold + wrap-up: talk leaves hold out) of the queue's
        answered calls, or None."""
        handle = (
            func.coalesce(CallLeg.talk_s, 0.0)
            + func.coalesce(CallLeg.hold_s, 0.0)
            + func.coalesce(CallLeg.wrap_up_s, 0.0)
        )
        query = select(func.avg(handle)).where(
            CallLeg.queue == queue,
            CallLeg.answered_at.is_not(None),
            CallLeg.enqueued_at >= since,
            CallLeg.enqueued_at < until,
            CallLeg.outcome != Outcome.TAKEN_OVER.value,
        )
        async with self._db.session() as session:
            value = (await session.execute(query)).scalar_one_or_none()
        return float(value) if value is not None else None

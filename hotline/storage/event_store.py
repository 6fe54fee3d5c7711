"""The append-only event log: write in batches, read by call or newest first.

A row's ``payload`` is the event's data as ``cti.events.encode`` writes it (``"v": 2``), or
the first, untyped shape of rows written before typed events; readers turn a row back into
its event with ``to_event``, which reads both (``cti.events.decode``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, insert, or_, select

from cti.events import DomainEvent, decode
from hotline.storage.db import Database
from hotline.storage.models import Event, new_uid


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the log. ``id`` is None until stored; ``ts`` must be timezone-aware.

    ``uid`` identifies the event across retries and spool replays; one is made when None.
    """

    kind: str
    ts: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    call_id: str | None = None
    agent_id: str | None = None
    queue: str | None = None
    monotonic_ns: int | None = None
    id: int | None = None
    uid: str | None = None

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"StoredEvent.ts must be timezone-aware, got {self.ts!r}")


def to_event(row: StoredEvent, *, mono: float | None = None) -> DomainEvent:
    """The typed event a row holds (either stored shape); ``cti.events.UnreadableEvent`` for
    a kind this version does not know or data it cannot read. ``mono`` defaults to now (a
    row's ``monotonic_ns`` is another process's clock)."""
    return decode(
        row.kind,
        row.payload,
        ts=row.ts,
        mono=mono,
        call_id=row.call_id,
        agent_id=row.agent_id,
        queue=row.queue,
    )


def to_row(event: StoredEvent) -> dict[str, Any]:
    return {
        "uid": event.uid or new_uid(),
        "ts": event.ts,
        "monotonic_ns": event.monotonic_ns,
        "kind": event.kind,
        "call_id": event.call_id,
        "agent_id": event.agent_id,
        "queue": event.queue,
        "payload": dict(event.payload),
    }


def _from_row(row: Event) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        uid=row.uid,
        ts=row.ts,
        monotonic_ns=row.monotonic_ns,
        kind=row.kind,
        call_id=row.call_id,
        agent_id=row.agent_id,
        queue=row.queue,
        payload=row.payload,
    )


# The columns in the order of StoredEvent's fields: a row is StoredEvent(*row).
_STORED_EVENT_COLUMNS = [getattr(Event, f.name) for f in fields(StoredEvent)]


class EventStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append_many(self, events: Sequence[StoredEvent]) -> int:
        """Store ``events`` in one transaction and one batched INSERT; returns how many.

        Their ``id`` fields are ignored (the database numbers rows).
        """
        if not events:
            return 0
        async with self._db.engine.begin() as conn:
            # A list of parameter sets: executemany, batched by the driver.
            await conn.execute(insert(Event), [to_row(e) for e in events])
        return len(events)

    async def for_call(self, call_id: str) -> list[StoredEvent]:
        """Every event of one call, oldest first."""
        query = select(Event).where(Event.call_id == call_id).order_by(Event.ts, Event.id)
        return await self._fetch(query)

    async def recent(self, limit: int = 100, kind: str | None = None) -> list[StoredEvent]:
        """The last ``limit`` events stored (optionally of one ``kind``), newest first."""
        query = select(Event).order_by(Event.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(Event.kind == kind)
        return await self._fetch(query)

    async def since(
        self,
        start: datetime,
        after: tuple[datetime, int] | None = None,
        limit: int = 10_000,
        *,
        until: datetime | None = None,
    ) -> list[StoredEvent]:
        """Events stamped at or after ``start`` (and before ``until``), oldest first (ties in
        the order stored), a page at a time: pass the last page's last ``(ts, id)`` as
        ``after``."""
        e = Event
        # Plain rows, not ORM objects: a restart reads a whole day of them, and mapping each
        # row to an instance costs more than everything else the replay does with it.
        query = select(*_STORED_EVENT_COLUMNS).where(e.ts >= start)
        if until is not None:
            query = query.where(e.ts < until)
        if after is not None:
            ts, id_ = after
            query = query.where(or_(e.ts > ts, and_(e.ts == ts, e.id > id_)))
        query = query.order_by(e.ts, e.id).limit(limit)
        async with self._db.engine.connect() as conn:
            return [StoredEvent(*row) for row in await conn.execute(query)]

    async def _fetch(self, query: Select[Event]) -> list[StoredEvent]:
        async with self._db.session() as session:
            return [_from_row(row) for row in await session.scalars(query)]

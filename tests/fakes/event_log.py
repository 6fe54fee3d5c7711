"""Domain events stored as the event log's writer stores them: rows, call records, legs and
agent intervals, in one batch (no bus, no spool)."""

from __future__ import annotations

from collections.abc import Iterable

from cti.events import DomainEvent
from hotline.storage import Database
from hotline.storage.call_records import RecordFolder
from hotline.storage.event_log import to_batch
from hotline.storage.record_sql import write_batch


async def store_events(
    db: Database, events: Iterable[DomainEvent], short_abandon_s: float = 5.0
) -> None:
    batch = to_batch(events, RecordFolder(short_abandon_s))
    async with db.engine.begin() as conn:
        await write_batch(conn, batch.events, batch.ops)

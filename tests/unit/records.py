"""Scripted domain events stored as the event log stores them: rows, call records and legs."""

from __future__ import annotations

from collections.abc import Iterable

from cti.events import DomainEvent
from hotline.storage import Database
from hotline.storage.call_records import RecordFolder
from hotline.storage.event_log import to_stored
from hotline.storage.record_sql import write_batch


async def store_events(db: Database, events: Iterable[DomainEvent]) -> None:
    """One batch, folded with a 5 s short-abandon threshold (the scripts' settings)."""
    stored = [to_stored(e) for e in events]
    async with db.engine.begin() as conn:
        await write_batch(conn, stored, RecordFolder(5.0).fold_many(stored))

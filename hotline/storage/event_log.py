"""The event log writer: domain events → ``events`` rows + call records + their queue legs +
agent intervals.

Two tasks, off the routing path:
- the *collector* drains its own ``DomainBus`` subscription and cuts batches of
  ``batch_size`` events or ``flush_interval_ms`` age: each event gets a uid, is encoded to
  its row (``cti.events.encode``, the current stored shape) and folded into record
  operations (``call_records.RecordFolder``) — ``to_batch``;
- the *storer* writes each batch in one transaction, or appends it to the disk spool
  (``spool.Spool``) when the database fails, then replays the spool in order once the
  database answers again.

Invariants:
- Publishing never waits for us (the bus never blocks); the only loss is the bus dropping the
  oldest events when this subscription is ``bus_buffer`` behind (``dropped_bus``), or a full
  spool (``dropped_spool_full``). Both are counted and logged.
- Order: while the spool holds anything, new batches go to the spool too (behind it), so
  batches reach the database in the order they were cut.
- No duplicates: a batch is written at most once per attempt, and every attempt is
  idempotent (``record_sql``), so a crash between spooling and deleting the spool segment, or a
  commit whose acknowledgement was lost, is harmless on replay.
- ``stop()`` flushes: what the bus held is stored (database or spool) before it returns.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cti.events import DomainBus, DomainEvent
from cti.events import encode as encode_event
from cti.fanout import Subscription
from cti.settings import EventLogSettings
from hotline.storage.batch_codec import Batch, BatchDecodeError, decode, encode
from hotline.storage.call_records import RecordFolder
from hotline.storage.db import Database
from hotline.storage.event_store import StoredEvent
from hotline.storage.record_ops import RecordOp
from hotline.storage.record_sql import write_batch
from hotline.storage.spool import Spool

log = logging.getLogger(__name__)

# A write that takes longer than this is treated as failed (spooled; the replay is idempotent
# if it did commit after all). PostgreSQL connect attempts give up after 5 s on their own.
WRITE_TIMEOUT_S = 15.0


@dataclass
class EventLogCounters:
    received: int = 0  # events taken off the bus
    written: int = 0  # events committed to the database (directly or from the spool)
    spooled: int = 0  # events appended to the disk spool
    replayed: int = 0  # events written from the spool
    dropped_bus: int = 0  # dropped by the bus because this writer lagged
    dropped_spool_full: int = 0  # could not be spooled: the spool was full
    unreadable_spool_lines: int = 0
    db_failures: int = 0  # failed write attempts
    batches: int = 0  # batches committed

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _FlushMarker:
    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future


_Item = Batch | _FlushMarker | None  # None: the collector is done


def to_stored(event: DomainEvent, uid: str | None = None) -> StoredEvent:
    """The event's row: its columns and data as ``cti.events.encode`` writes them."""
    encoded = encode_event(event)
    return StoredEvent(
        uid=uid or uuid.uuid4().hex,
        kind=encoded.kind,
        ts=encoded.ts,
        call_id=encoded.call_id,
        agent_id=encoded.agent_id,
        queue=encoded.queue,
        monotonic_ns=int(encoded.mono * 1e9),
        payload=encoded.data,
    )


def to_batch(events: Iterable[DomainEvent], folder: RecordFolder) -> Batch:
    """The events' rows, each under a new uid, and the record operations ``folder`` folds
    from them, in order."""
    stored: list[StoredEvent] = []
    ops: list[RecordOp] = []
    for event in events:
        uid = uuid.uuid4().hex
        stored.append(to_stored(event, uid))
        ops += folder.fold(event, uid)
    return Batch(stored, ops)


class EventLogWriter:
    """Build once; ``await start()`` before the publishers start, ``await stop()`` after."""

    def __init__(
        self,
        bus: DomainBus,
        database: Database,
        settings: EventLogSettings,
        *,
        folder: RecordFolder | None = None,
        monotonic: Callable[[], float] = time.monotonic,  # batch ages and retry back-off
    ) -> None:
        self._bus = bus
        self._monotonic = monotonic
        self._db = database
        self._settings = settings
        self._folder = folder or RecordFolder(settings.short_abandon_s)
        self._spool = Spool(
            settings.spool_dir / "eventlog", settings.spool_segment_bytes, settings.spool_max_bytes
        )
        self.counters = EventLogCounters()
        self._sub: Subscription[DomainEvent] | None = None
        self._items: asyncio.Queue[_Item] = asyncio.Queue()
        self._flush_waiters: list[asyncio.Future[None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: Batch | None = None
        self._spooling = not self._spool.is_empty()
        self._retry_at = 0.0
        self._retry_delay = settings.retry_min_s

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._sub is not None:
            raise RuntimeError("EventLogWriter already started")
        self._sub = self._bus.subscribe(maxsize=self._settings.bus_buffer)
        self._tasks = [
            asyncio.create_task(self._collect(self._sub), name="eventlog-collector"),
            asyncio.create_task(self._store(), name="eventlog-storer"),
        ]

    async def stop(self, timeout_s: float = 30.0) -> None:
        """Store everything received (database, else spool), then return."""
        if self._sub is None:
            return
        self._sub.unsubscribe()  # the collector ends after the events already queued
        collector, storer = self._tasks
        await collector
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(storer)
        except TimeoutError:
            storer.cancel()
            await asyncio.gather(storer, return_exceptions=True)
            await self._spool_leftovers()
        self._spool.close()
        self.counters.dropped_bus = self._sub.dropped

    async def __aenter__(self) -> EventLogWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def flush(self) -> None:
        """Wait until every event published before this call is stored (database or spool)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flush_waiters.append(future)
        await future

    @property
    def spooling(self) -> bool:
        """True while batches go to disk (the database failed, or the spool is replaying)."""
        return self._spooling

    @property
    def spool_bytes(self) -> int:
        return self._spool.size

    def stats(self) -> dict[str, Any]:
        if self._sub is not None:
            self.counters.dropped_bus = self._sub.dropped
        return {
            **self.counters.as_dict(),
            "spooling": self._spooling,
            "spool_bytes": self._spool.size,
            "open_calls": self._folder.open_calls,
            "pending_batches": self._items.qsize(),
        }

    # -- collector ---------------------------------------------------------------------------

    async def _collect(self, sub: Subscription[DomainEvent]) -> None:
        size = self._settings.batch_size
        interval = self._settings.flush_interval_ms / 1000
        batch: list[DomainEvent] = []
        deadline = 0.0
        done = False
        while not done:
            while len(batch) < size and (event := sub.get_nowait()) is not None:
                if not batch:
                    deadline = self._monotonic() + interval
                batch.append(event)
            now = self._monotonic()
            drained = len(batch) < size
            if batch and (not drained or now >= deadline or self._flush_waiters):
                self._emit(batch)
                batch = []
            if drained and self._flush_waiters:
                for future in self._flush_waiters:
                    self._items.put_nowait(_FlushMarker(future))
                self._flush_waiters = []
            if not drained:
                continue
            try:
                # Wake at least every interval: a pending flush() needs no event to proceed.
                async with asyncio.timeout(max(0.0, deadline - now) if batch else interval):
                    event = await anext(sub)
            except TimeoutError:
                continue
            except StopAsyncIteration:
                done = True
            else:
                if not batch:
                    deadline = self._monotonic() + interval
                batch.append(event)
        if batch:
            self._emit(batch)
        for future in self._flush_waiters:
            self._items.put_nowait(_FlushMarker(future))
        self._flush_waiters = []
        self._items.put_nowait(None)

    def _emit(self, events: list[DomainEvent]) -> None:
        self.counters.received += len(events)
        self._items.put_nowait(to_batch(events, self._folder))

    # -- storer ------------------------------------------------------------------------------

    async def _store(self) -> None:
        if self._spooling:
            await self._replay()
        while True:
            timeout = max(0.0, self._retry_at - self._monotonic()) if self._spooling else None
            try:
                async with asyncio.timeout(timeout):
                    item = await self._items.get()
            except TimeoutError:
                await self._replay()
                continue
            if item is None:
                break
            if isinstance(item, _FlushMarker):
                if not item.future.done():
                    item.future.set_result(None)
                continue
            self._inflight = item
            if self._spooling:
                await self._to_spool(item)
                if self._monotonic() >= self._retry_at:
                    await self._replay()
            elif not await self._write(item):
                self._spooling = True
                self._schedule_retry()
                await self._to_spool(item)
            self._inflight = None
        if self._spooling:
            await self._replay()  # the database may be back; if not, the spool keeps it all

    async def _write(self, batch: Batch) -> bool:
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S), self._db.engine.begin() as conn:
                await write_batch(conn, batch.events, batch.ops)
        except Exception as exc:  # any failure: the batch goes to disk, never away
            self.counters.db_failures += 1
            if self.counters.db_failures == 1 or self.counters.db_failures % 100 == 0:
                log.warning(
                    "event log: database write failed, spooling to disk: %r",
                    exc,
                    extra={"failures": self.counters.db_failures},
                )
            return False
        self.counters.written += len(batch.events)
        self.counters.batches += 1
        return True

    async def _to_spool(self, batch: Batch) -> None:
        line = encode(batch)
        stored = await asyncio.to_thread(self._spool.append, line)
        if stored:
            self.counters.spooled += len(batch.events)
        else:
            self.counters.dropped_spool_full += len(batch.events)
            log.error(
                "event log: spool full (%d bytes), %d events lost",
                self._spool.max_bytes,
                len(batch.events),
            )

    def _schedule_retry(self) -> None:
        delay = self._retry_delay * random.uniform(0.8, 1.2)  # jitter: no thundering herd
        self._retry_at = self._monotonic() + delay
        self._retry_delay = min(self._retry_delay * 2, self._settings.retry_max_s)

    async def _replay(self) -> None:
        """Write the spool to the database, oldest first; on failure, back off and keep it."""
        while True:
            await asyncio.to_thread(self._spool.rotate)
            segments = self._spool.closed_segments()
            if not segments:
                break
            for segment in segments:
                lines = await asyncio.to_thread(self._read_segment, segment)
                for line in lines:
                    try:
                        batch = decode(line)
                    except BatchDecodeError as exc:
                        self.counters.unreadable_spool_lines += 1
                        log.error("event log: skipping unreadable spooled batch: %s", exc)
                        continue
                    if not await self._write(batch):
                        self._schedule_retry()
                        return
                    self.counters.replayed += len(batch.events)
                await asyncio.to_thread(self._spool.remove, segment)
        self.counters.unreadable_spool_lines += self._spool.torn_lines
        self._spool.torn_lines = 0
        if self._spooling:
            log.info("event log: spool replayed, writing to the database again")
        self._spooling = False
        self._retry_delay = self._settings.retry_min_s

    def _read_segment(self, segment: Path) -> list[bytes]:
        return list(self._spool.read(segment))

    async def _spool_leftovers(self) -> None:
        leftovers: list[Batch] = [self._inflight] if self._inflight is not None else []
        while not self._items.empty():
            item = self._items.get_nowait()
            if isinstance(item, Batch):
                leftovers.append(item)
        for batch in leftovers:
            await self._to_spool(batch)

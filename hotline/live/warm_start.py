"""Today's live statistics rebuilt from the event log when Hotline starts, so a restart does
not reset the wallboards to zero: the day's events are replayed, in the order stamped, into
the statistics before the live hub consumes the bus.

Durations in ``LiveStats`` come from the monotonic clock, which does not survive a process,
so a replayed event's ``mono`` is rebuilt from its wall-clock stamp on this process's clock.
What happened while Hotline was down is not in the log: the ACD's first resync
(``acd.resynced``) then drops the calls and agents Asterisk no longer has.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from cti.events import UnreadableEvent
from hotline.live.hub import WarmUp
from hotline.live.stats import LiveStats
from hotline.storage.event_store import EventStore, to_event

log = logging.getLogger("hotline.live.warm_start")

PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Replayed:
    events: int
    skipped: int  # rows this version cannot read (``UnreadableEvent``; logged once)
    seconds: float


async def replay_today(
    stats: LiveStats, store: EventStore, *, until: datetime | None = None, page: int = PAGE
) -> Replayed:
    """Apply today's events (from the start of the statistics' day, and before ``until``:
    the hub receives those from then on) to fresh ``stats``."""
    began = time.perf_counter()
    # This process's monotonic time for a wall-clock stamp, read once: events keep their
    # spacing exactly, and one still in the future (a clock step) is not reordered.
    wall_now, mono_now = stats.clock.wall(), stats.clock.mono()

    def mono(ts: datetime) -> float:
        return mono_now - (wall_now - ts).total_seconds()

    start = stats.day_start
    stats.rewind(start, mono(start))
    applied = skipped = 0
    first_unreadable = ""
    after: tuple[datetime, int] | None = None
    try:
        while rows := await store.since(start, after, page, until=until):
            for row in rows:
                try:
                    event = to_event(row, mono=mono(row.ts))
                except UnreadableEvent as exc:
                    skipped += 1
                    first_unreadable = first_unreadable or str(exc)
                    continue
                stats.apply(event)
                applied += 1
            last = rows[-1]
            assert last.id is not None  # rows read back from the database are numbered
            after = (last.ts, last.id)
            if len(rows) < page:
                break
    except BaseException:
        stats.reset()  # half a day's figures would mislead: count from now instead
        raise
    stats.replayed()
    done = Replayed(applied, skipped, round(time.perf_counter() - began, 3))
    log.info(
        "live statistics rebuilt from today's event log",
        extra={"events": done.events, "skipped": done.skipped, "seconds": done.seconds},
    )
    if skipped:
        log.warning(
            "event log rows not replayed: unknown kind or payload",
            extra={"rows": skipped, "first": first_unreadable},
        )
    return done


def warm_up(
    stats: LiveStats,
    store: EventStore,
    *,
    written: Callable[[], Awaitable[None]] | None = None,
    written_within_s: float = 60.0,
) -> WarmUp:
    """The hub's warm-up (``LiveHub.run``) for ``hotline serve``: ``written`` (the event log's
    flush) first, so the events the last run spooled to disk while its database was away are
    in the database when the day is read, if it is back."""

    async def run(until: datetime) -> None:
        if written is not None:
            try:
                await asyncio.wait_for(written(), written_within_s)
            except TimeoutError:
                log.warning("event log spool not written yet: live figures may miss events")
        await replay_today(stats, store, until=until)

    return run

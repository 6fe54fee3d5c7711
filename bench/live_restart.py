"""How long a restarted Hotline takes to rebuild today's live statistics from the event log.

Run from the repository root:  .venv/bin/python bench/live_restart.py [--calls N] [--no-postgres]

Stores a busy day's events (N calls, default 40,000, one every 2 s from 00:30, 1 in 5
abandoned, with IVR, queue, offer, answer, wrap-up and agent state events; the day before is
stored too, so the replay has to find today's rows among two days) in a temporary SQLite file
and a scratch PostgreSQL database, then times ``replay_today`` into fresh ``LiveStats`` as
``hotline serve`` does before it serves, at 23:00 that day. Checks the rebuilt figures
against the same events applied directly.
Prints a table, then as the last line ``{"calls": …, "events": …, "sqlite_s": …,
"postgres_s": …}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch_pg import scratch_postgres
from cti.events import DomainEvent
from cti.settings import DatabaseSettings, LiveSettings
from hotline.live.stats import LiveStats
from hotline.live.warm_start import replay_today
from hotline.storage import Database
from hotline.storage.event_log import to_stored
from hotline.storage.event_store import EventStore
from hotline.storage.migrate import upgrade_async
from hotline.storage.simulate import traffic

DAY = datetime(2026, 3, 2, tzinfo=UTC)
NOW = DAY + timedelta(hours=23)


@dataclass
class Clock:
    now: datetime

    def wall(self) -> datetime:
        return self.now

    def mono(self) -> float:
        return (self.now - DAY).total_seconds()


def the_day(calls: int, day: datetime) -> list[DomainEvent]:
    return list(traffic(day + timedelta(minutes=30), calls))


def fresh() -> LiveStats:
    return LiveStats(LiveSettings(), clock=Clock(NOW))


def cards_figures(stats: LiveStats) -> dict[str, Any]:
    queue = stats.queue_stats("cards")
    assert queue is not None, "no figures for the queue cards"
    return asdict(queue)


async def run(settings: DatabaseSettings, label: str, days: list[list[DomainEvent]]) -> float:
    await upgrade_async(settings)
    async with Database(settings) as db:
        store = EventStore(db)
        t0 = time.perf_counter()
        for events in days:
            for start in range(0, len(events), 5000):
                await store.append_many([to_stored(e) for e in events[start : start + 5000]])
        stored = sum(len(d) for d in days)
        print(f"{label:9} stored {stored} events in {time.perf_counter() - t0:.1f} s")
        stats = fresh()
        done = await replay_today(stats, store)
    expected = fresh()
    expected.rewind(DAY, 0.0)
    for event in sorted(days[-1], key=lambda e: e.ts):  # stable: ties in the order stored
        # The replay rebuilds durations from wall-clock stamps: so does this reference.
        expected.apply(replace(event, mono=Clock(event.ts).mono()))
    expected.replayed()
    mine, theirs = cards_figures(stats), cards_figures(expected)
    assert mine == theirs, (mine, theirs)
    assert done.events == len(days[-1]), done
    today = mine["today"]
    print(
        f"{label:9} replayed {done.events} events in {done.seconds:.2f} s "
        f"({done.events / done.seconds:,.0f} ev/s): offered {today['offered']}, "
        f"answered {today['answered']}, abandoned {today['abandoned']}"
    )
    return done.seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    days = [the_day(args.calls, DAY - timedelta(days=1)), the_day(args.calls, DAY)]
    result: dict[str, float | int | None] = {"calls": args.calls, "events": len(days[-1])}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp}/bench.db")
        result["sqlite_s"] = await run(sqlite, "sqlite", days)
    result["postgres_s"] = None
    if not args.no_postgres:
        async with scratch_postgres() as settings:
            result["postgres_s"] = await run(settings, "postgres", days)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())

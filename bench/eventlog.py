"""Sustained event-log writes per second, and proof that publishers are never slowed.

Run from the repository root:  .venv/bin/python bench/eventlog.py [--events N] [--postgres]

Publishes N synthetic domain events (whole calls: IVR, queue, answer, wrap-up, abandons) on a
``DomainBus`` as fast as the loop allows, in bursts of 200 with a yield in between (as AMI
reads arrive), while ``EventLogWriter`` stores them (events + call records + agent
intervals) in a temporary SQLite file (default) or a scratch PostgreSQL database. Measures:
- ``events_per_s``: events committed ÷ time from the first publish to the last commit;
- ``publish_p99_us`` / ``publish_max_us``: one ``bus.publish`` call, the routing side's cost.
Prints a table, then as the last line ``{"events_per_s": …, "publish_p99_us": …, …}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.scratch_pg import scratch_postgres
from cti.events import DomainBus
from cti.settings import DatabaseSettings, EventLogSettings
from hotline.storage import Database
from hotline.storage.event_log import EventLogWriter
from hotline.storage.migrate import upgrade_async
from hotline.storage.simulate import traffic


async def run(settings: DatabaseSettings, n_events: int, spool: Path) -> dict[str, float]:
    await upgrade_async(settings)
    calls = n_events // 12 + 1  # ~12 events per synthetic call
    events = list(traffic(datetime(2025, 3, 3, tzinfo=UTC), calls))[:n_events]
    bus = DomainBus()
    log = EventLogSettings.model_validate({"spool_dir": spool, "batch_size": 1000})
    latencies: list[int] = []
    async with Database(settings) as db:
        writer = EventLogWriter(bus, db, log)
        await writer.start()
        t0 = time.perf_counter()
        clock = time.perf_counter_ns
        for i, event in enumerate(events):
            before = clock()
            bus.publish(event)
            latencies.append(clock() - before)
            if i % 200 == 199:
                await asyncio.sleep(0)
        await writer.flush()
        elapsed = time.perf_counter() - t0
        await writer.stop()
    latencies.sort()
    c = writer.counters
    return {
        "events": len(events),
        "written": c.written,
        "events_per_s": round(c.written / elapsed),
        "publish_p50_us": round(latencies[len(latencies) // 2] / 1000, 2),
        "publish_p99_us": round(latencies[int(len(latencies) * 0.99)] / 1000, 2),
        "publish_max_us": round(latencies[-1] / 1000, 1),
        "dropped_bus": c.dropped_bus,
        "spooled": c.spooled,
    }


async def postgres(n_events: int, spool: Path) -> dict[str, float]:
    async with scratch_postgres() as settings:
        return await run(settings, n_events, spool)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        sqlite = await run(DatabaseSettings(url=url), args.events, Path(tmp) / "spool")
        print("sqlite  ", sqlite)
        result = dict(sqlite)
        if args.postgres:
            pg = await postgres(args.events, Path(tmp) / "spool-pg")
            print("postgres", pg)
            result["postgres_events_per_s"] = pg["events_per_s"]
            result["postgres_publish_p99_us"] = pg["publish_p99_us"]
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())

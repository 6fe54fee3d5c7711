"""Interval report over 1,000,000 stored calls, on SQLite and on PostgreSQL.

Run from the repository root:
    .venv/bin/python bench/reports.py [--calls N] [--no-sqlite] [--no-postgres]

Builds the schema by migration (a temporary SQLite file; a scratch PostgreSQL database named
``hotline_bench_<random>``, dropped at the end, on HOTLINE_TEST_POSTGRES_URL or the local
default), loads N calls spread over 25 days (40,000 a day, 20 queues, 1,000 agents; 80 %
answered, 15 % abandoned, 5 % overflowed) with bulk inserts (sqlite3 executemany / asyncpg
COPY) followed by what a live server's maintenance does (SQLite ANALYZE; PostgreSQL VACUUM
(ANALYZE), autovacuum being off on the bench server), then times the queue report over the
whole range by 15-minute interval (the heaviest: ~2,400 intervals x 20 queues), best of 3
after one warm-up, plus one agent report.
Prints a table, then as the last line ``{"calls": …, "sqlite_s": …, "postgres_s": …}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.engine import make_url

from cti.settings import DatabaseSettings
from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.storage import Database
from hotline.storage.call_records import slot_of
from hotline.storage.db import create_engine
from hotline.storage.migrate import upgrade_async

START = datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 25
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
COLUMNS = (
    "call_id", "queue", "started_at", "enqueued_at", "answered_at", "left_queue_at", "ended_at",
    "wait_s", "agent_id", "talk_s", "hold_s", "wrap_up_s", "outcome",
    "enter_slot", "answer_slot", "leave_slot",
)  # fmt: skip


def calls(n: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """Call records as the event log writes them (slots included: ``with_slots``)."""
    for row in _calls(n, seed):
        enq, answered, left = row[3:6]
        yield (*row, slot_of(enq), None if answered is None else slot_of(answered), slot_of(left))


def _calls(n: int, seed: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    span = DAYS * 86_400
    for i in range(n):
        start = START + timedelta(seconds=span * i / n)
        enq = start + timedelta(seconds=rng.uniform(5, 60))
        wait = rng.expovariate(1 / 25)
        left = enq + timedelta(seconds=wait)
        roll = rng.random()
        if roll < 0.80:
            talk, hold, wrap = rng.uniform(60, 400), rng.choice((0.0, 0.0, 30.0)), 15.0
            ended = left + timedelta(seconds=talk + hold)
            yield (f"c{i}", f"q{i % 20}", start, enq, left, left, ended, wait,
                   f"a{rng.randrange(1000)}", talk, hold, wrap, "answered")  # fmt: skip
        else:
            outcome = "overflow" if roll > 0.95 else ("short_abandon" if wait < 5 else "abandoned")
            yield (f"c{i}", f"q{i % 20}", start, enq, None, left, left, wait, None, None, None,
                   None, outcome)  # fmt: skip


def _sqlite_text(value: Any) -> Any:
    # SQLAlchemy's SQLite DATETIME storage format (UTC, microseconds).
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def load_sqlite(path: Path, n: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # loading only; the report runs on a normal engine
    marks = ",".join("?" * len(COLUMNS))
    with conn:
        conn.executemany(
            f"INSERT INTO calls ({','.join(COLUMNS)}) VALUES ({marks})",
            (tuple(_sqlite_text(v) for v in row) for row in calls(n)),
        )
    conn.execute("ANALYZE")  # statistics, as a live database has them
    conn.close()


async def load_postgres(url: str, n: int) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("calls", records=calls(n), columns=COLUMNS)
        # What autovacuum does on a live server after a bulk load (it is off on the bench
        # server): statistics for the planner, and the visibility map that lets the report
        # read its covering index alone (an index-only scan).
        await conn.execute("VACUUM (ANALYZE) calls")
    finally:
        await conn.close()


async def timed(run: Callable[[], Awaitable[Any]], repeat: int = 3) -> tuple[float, Any]:
    result = await run()  # warm-up: caches, plans
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - t0)
    return best, result


def request() -> ReportRequest:
    end = START + timedelta(days=DAYS + 1)
    return ReportRequest(START, end, Period.parse("15m", ZoneInfo("Asia/Shanghai")), "asterisk_sl2")


async def measure(settings: DatabaseSettings, label: str) -> float:
    async with Database(settings) as db:
        queue_s, report = await timed(lambda: queue_report(db, request()))
        agent_s, agents = await timed(lambda: agent_report(db, request()), repeat=1)
    offered = sum(row["offered"] for row in report["rows"])
    print(
        f"{label:<10} queue report {queue_s:6.3f} s ({len(report['rows'])} rows, "
        f"{offered} offered)   agent report {agent_s:6.3f} s ({len(agents['rows'])} rows)"
    )
    return queue_s


async def bench_sqlite(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{path}")
        await upgrade_async(settings)
        t0 = time.perf_counter()
        load_sqlite(path, n)
        print(f"sqlite     loaded {n} calls in {time.perf_counter() - t0:.1f} s")
        return await measure(settings, "sqlite")


async def bench_postgres(n: int) -> float:
    admin = DatabaseSettings(url=os.environ.get("HOTLINE_TEST_POSTGRES_URL", PG_DEFAULT))
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    try:
        settings = DatabaseSettings(url=url)
        await upgrade_async(settings)
        t0 = time.perf_counter()
        await load_postgres(url, n)
        print(
            f"postgres   loaded {n} calls in {time.perf_counter() - t0:.1f} s "
            "(then VACUUM (ANALYZE) calls, as autovacuum would on a live server)"
        )
        return await measure(settings, "postgres")
    finally:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    sqlite_s = None if args.no_sqlite else await bench_sqlite(args.calls)
    postgres_s = None if args.no_postgres else await bench_postgres(args.calls)
    result = {
        "calls": args.calls,
        "sqlite_s": None if sqlite_s is None else round(sqlite_s, 3),
        "postgres_s": None if postgres_s is None else round(postgres_s, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())

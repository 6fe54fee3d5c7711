"""Interval report over 1,000,000 stored calls, on SQLite and on PostgreSQL.

Run from the repository root:
    .venv/bin/python bench/reports.py [--calls N] [--no-sqlite] [--no-postgres]

Builds the schema by migration (a temporary SQLite file; a scratch PostgreSQL database named
``hotline_bench_<random>``, dropped at the end, on HOTLINE_TEST_POSTGRES_URL or the local
default), loads N calls spread over 25 days (40,000 a day, 20 queues, 1,000 agents; 80 %
answered, 15 % abandoned, 5 % overflowed: 4 % into another queue, where a second leg is
answered or abandoned, 1 % to voicemail) as the event log stores them (``calls``: one record
per call; ``call_legs``: one row per queue visit, ~1.04 per call, which the reports read),
with bulk inserts (sqlite3 executemany / asyncpg COPY) followed by what a live server's
maintenance does (SQLite ANALYZE; PostgreSQL VACUUM (ANALYZE), autovacuum being off on the
bench server), then times the queue report and the agent report over the whole range by
15-minute interval (the heaviest: ~2,400 intervals x 20 queues; x 1,000 agents, ~700,000 rows
with calls), each best of 3 after one warm-up. Prints a table, then as the last line
``{"calls": …, "sqlite_s": …, "postgres_s": …, "agent_sqlite_s": …, "agent_postgres_s": …}``
(queue report: ``sqlite_s``, ``postgres_s``; agent report: ``agent_*_s``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.engine import make_url

from bench.scratch_pg import scratch_postgres
from cti.settings import DatabaseSettings
from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from hotline.storage.record_ops import slot_of

START = datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 25
CALL_COLUMNS = (
    "call_id", "queue", "started_at", "enqueued_at", "answered_at", "left_queue_at", "ended_at",
    "wait_s", "agent_id", "talk_s", "hold_s", "wrap_up_s", "outcome",
)  # fmt: skip
LEG_COLUMNS = (
    "leg_id", "call_id", "queue", "enqueued_at", "answered_at", "left_queue_at", "wait_s",
    "agent_id", "talk_s", "hold_s", "wrap_up_s", "outcome", "enter_slot", "answer_slot",
    "leave_slot",
)  # fmt: skip
Row = tuple[Any, ...]


def records(n: int, seed: int = 7) -> Iterator[tuple[Row, list[Row]]]:
    """(call record, its legs) as the event log writes them (slots included, sums on the
    call)."""
    rng = random.Random(seed)
    span = DAYS * 86_400
    for i in range(n):
        start = START + timedelta(seconds=span * i / n)
        enq = start + timedelta(seconds=rng.uniform(5, 60))
        queue = i % 20
        roll = rng.random()
        legs = []
        if 0.95 < roll <= 0.99:  # overflows after a while into another queue: a second leg
            wait = rng.uniform(30, 120)
            left = enq + timedelta(seconds=wait)
            legs.append(_leg(rng, i, f"q{queue}", enq, wait, "overflow"))
            legs.append(_leg(rng, i, f"q{(queue + 7) % 20}", left, rng.expovariate(1 / 25),
                             "answered" if rng.random() < 0.85 else "abandoned"))  # fmt: skip
        else:
            outcome = "answered" if roll < 0.80 else "overflow" if roll > 0.99 else "abandoned"
            legs.append(_leg(rng, i, f"q{queue}", enq, rng.expovariate(1 / 25), outcome))
        last = legs[-1]
        ended = last[5] + timedelta(seconds=(last[8] or 0.0) + (last[9] or 0.0))
        totals = [_sum(leg[k] for leg in legs) for k in (6, 8, 9, 10)]
        yield (
            (f"c{i}", last[2], start, last[3], last[4], last[5], ended, totals[0], last[7],
             *totals[1:], last[11]),
            legs,
        )  # fmt: skip


def _sum(values: Iterator[float | None]) -> float | None:
    given = [v for v in values if v is not None]
    return sum(given) if given else None


def _leg(rng: random.Random, i: int, queue: str, enq: datetime, wait: float, outcome: str) -> Row:
    left = enq + timedelta(seconds=wait)
    if outcome == "abandoned" and wait < 5:
        outcome = "short_abandon"
    leg_id = f"{rng.getrandbits(128):032x}"  # the uid of its call.queued event
    if outcome == "answered":
        talk, hold, wrap = rng.uniform(60, 400), rng.choice((0.0, 0.0, 30.0)), 15.0
        return (leg_id, f"c{i}", queue, enq, left, left, wait, f"a{rng.randrange(1000)}", talk,
                hold, wrap, outcome, slot_of(enq), slot_of(left), slot_of(left))  # fmt: skip
    return (leg_id, f"c{i}", queue, enq, None, left, wait, None, None, None, None, outcome,
            slot_of(enq), None, slot_of(left))  # fmt: skip


def _sqlite_text(value: Any) -> Any:
    # SQLAlchemy's SQLite DATETIME storage format (UTC, microseconds).
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def _batches(n: int, size: int = 50_000) -> Iterator[tuple[list[Row], list[Row]]]:
    calls: list[Row] = []
    legs: list[Row] = []
    for call, its_legs in records(n):
        calls.append(call)
        legs += its_legs
        if len(calls) == size:
            yield calls, legs
            calls, legs = [], []
    if calls:
        yield calls, legs


def load_sqlite(path: Path, n: int) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # loading only; the report runs on a normal engine
    legs = 0
    with conn:
        for calls, its_legs in _batches(n):
            for table, columns, rows in (
                ("calls", CALL_COLUMNS, calls),
                ("call_legs", LEG_COLUMNS, its_legs),
            ):
                marks = ",".join("?" * len(columns))
                conn.executemany(
                    f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})",
                    (tuple(_sqlite_text(v) for v in row) for row in rows),
                )
            legs += len(its_legs)
    conn.execute("ANALYZE")  # statistics, as a live database has them
    conn.close()
    return legs


async def load_postgres(url: str, n: int) -> int:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    legs = 0
    try:
        for calls, its_legs in _batches(n):
            await conn.copy_records_to_table("calls", records=calls, columns=CALL_COLUMNS)
            await conn.copy_records_to_table("call_legs", records=its_legs, columns=LEG_COLUMNS)
            legs += len(its_legs)
        # What autovacuum does on a live server after a bulk load (it is off on the bench
        # server): statistics for the planner, and the visibility map that lets the report
        # read its covering index alone (an index-only scan).
        await conn.execute("VACUUM (ANALYZE) calls")
        await conn.execute("VACUUM (ANALYZE) call_legs")
    finally:
        await conn.close()
    return legs


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


async def measure(settings: DatabaseSettings, label: str) -> tuple[float, float]:
    """(queue report s, agent report s), each the best of 3 after a warm-up."""
    async with Database(settings) as db:
        queue_s, report = await timed(lambda: queue_report(db, request()))
        agent_s, agents = await timed(lambda: agent_report(db, request()))
    offered = sum(row["offered"] for row in report["rows"])  # legs: a call per queue visited
    answered = sum(row["answered"] for row in agents["rows"])
    print(
        f"{label:<10} queue report {queue_s:6.3f} s ({len(report['rows'])} rows, "
        f"{offered} offered)   agent report {agent_s:6.3f} s ({len(agents['rows'])} rows, "
        f"{answered} answered)"
    )
    return queue_s, agent_s


async def bench_sqlite(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{path}")
        await upgrade_async(settings)
        t0 = time.perf_counter()
        legs = load_sqlite(path, n)
        print(f"sqlite     loaded {n} calls, {legs} legs in {time.perf_counter() - t0:.1f} s")
        return await measure(settings, "sqlite")


async def bench_postgres(n: int) -> tuple[float, float]:
    async with scratch_postgres() as settings:
        await upgrade_async(settings)
        t0 = time.perf_counter()
        legs = await load_postgres(settings.url, n)
        print(
            f"postgres   loaded {n} calls, {legs} legs in {time.perf_counter() - t0:.1f} s "
            "(then VACUUM (ANALYZE), as autovacuum would on a live server)"
        )
        return await measure(settings, "postgres")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    sqlite = None if args.no_sqlite else await bench_sqlite(args.calls)
    postgres = None if args.no_postgres else await bench_postgres(args.calls)
    result = {
        "calls": args.calls,
        "sqlite_s": _seconds(sqlite, 0),
        "postgres_s": _seconds(postgres, 0),
        "agent_sqlite_s": _seconds(sqlite, 1),
        "agent_postgres_s": _seconds(postgres, 1),
    }
    print(json.dumps(result))


def _seconds(times: tuple[float, float] | None, which: int) -> float | None:
    return None if times is None else round(times[which], 3)


if __name__ == "__main__":
    asyncio.run(main())

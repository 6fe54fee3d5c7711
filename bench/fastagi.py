"""FastAGI throughput/latency: our AgiServer against panoramisk 1.4's FastAGI Application.

Run from the repo root: ``.venv/bin/python bench/fastagi.py [--sessions N] [--rate R]``.

Both servers run in this process (plain asyncio, no uvloop) and serve the same 4-command
session: ANSWER, GET VARIABLE, STREAM FILE, SET VARIABLE. The load generator runs in a separate
process and plays Asterisk: 50 concurrent asyncio clients each connect, send a realistic
environment block, answer every command with a canned ``200 result=...`` and wait for the
server to close. Session latency is connect → EOF, measured by the client.

Two loads per server:
- ``paced``: an open-loop load offering ``--rate`` sessions/s spread over the 50 clients (what a
  PBX does: calls arrive at a rate, they do not wait for each other). Gives the latency SLO.
- ``saturated``: the 50 clients loop back-to-back (closed loop): the maximum sessions/s. Its
  latency is mostly queueing (Little's law: 50 / throughput).

The last line is one JSON object; ``sessions_per_s``/``p99_ms`` are the paced run's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import os
import statistics
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cti.agi import AgiServer, AgiSession
from cti.settings import AgiSettings

CONCURRENCY = 50
HOST = "127.0.0.1"

# ------------------------------------------------------------------ the Asterisk side


def _env_block(port: int, uniqueid: int) -> bytes:
    lines = {
        "agi_network": "yes",
        "agi_network_script": "bench",
        "agi_request": f"agi://{HOST}:{port}/bench",
        "agi_channel": f"Local/95555@hotline-entry-{uniqueid:08x};2",
        "agi_language": "en",
        "agi_type": "Local",
        "agi_uniqueid": f"1732800000.{uniqueid}",
        "agi_version": "22.1.0",
        "agi_callerid": "13800138000",
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": "unknown",
        "agi_rdnis": "unknown",
        "agi_context": "hotline-entry",
        "agi_extension": "95555",
        "agi_priority": "2",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": "140123456789",
    }
    return ("".join(f"{k}: {v}\n" for k, v in lines.items()) + "\n").encode()


_CANNED = {
    b"ANSWER": b"200 result=0\n",
    b"GET VARIABLE": b"200 result=1 (95555)\n",
    b"STREAM FILE": b"200 result=0 endpos=8000\n",
    b"SET VARIABLE": b"200 result=1\n",
}


def _reply_for(line: bytes) -> bytes:
    for prefix, reply in _CANNED.items():
        if line.startswith(prefix):
            return reply
    return b"200 result=0\n"


class _FakeAsterisk(asyncio.Protocol):
    """One call seen from Asterisk: send the environment, answer each command, wait for EOF.

    A bare Protocol (no streams) keeps the load generator cheap, so that it measures the
    server rather than itself.
    """

    def __init__(self, env: bytes, done: asyncio.Future[None]) -> None:
        self._env = env
        self._done = done
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._env)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            assert self._transport is not None
            self._transport.write(_reply_for(buffer[:end]))
            buffer = buffer[end + 1 :]
        self._buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result(None)


async def _one_session(port: int, uniqueid: int) -> float:
    start = time.perf_counter()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    env = _env_block(port, uniqueid)
    transport, _ = await loop.create_connection(lambda: _FakeAsterisk(env, done), HOST, port)
    try:
        await done
    finally:
        transport.close()
    return time.perf_counter() - start


async def _load(port: int, sessions: int, rate: float | None) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    next_id = iter(range(sessions))
    interval = CONCURRENCY / rate if rate else 0.0
    t0 = time.perf_counter()

    async def client(index: int) -> None:
        nonlocal errors
        # Paced clients start staggered so that arrivals spread evenly over time.
        due = t0 + (index * interval / CONCURRENCY if rate else 0.0)
        for uniqueid in next_id:
            if rate:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                due += interval
            try:
                latencies.append(await _one_session(port, uniqueid))
            except OSError:
                errors += 1

    await asyncio.gather(*(client(i) for i in range(CONCURRENCY)))
    elapsed = time.perf_counter() - t0
    return {"latencies": latencies, "elapsed": elapsed, "errors": errors}


def _load_process(conn: Connection, port: int, sessions: int, rate: float | None) -> None:
    conn.send(asyncio.run(_load(port, sessions, rate)))
    conn.close()


# ------------------------------------------------------------------ the servers


async def _ours(session: AgiSession) -> None:
    await session.answer()
    did = await session.get_variable("HOTLINE_DID")
    await session.stream_file("beep")
    await session.set_variable("HOTLINE_ROUTE", did or "")


async def _panoramisk(request: Any) -> None:
    await request.send_command("ANSWER")
    await request.send_command("GET VARIABLE HOTLINE_DID")
    await request.send_command('STREAM FILE beep ""')
    await request.send_command("SET VARIABLE HOTLINE_ROUTE 95555")


@dataclass
class Result:
    name: str
    load: str
    sessions: int
    errors: int
    per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_us: float  # server process CPU time per session


async def _measure(name: str, load: str, port: int, sessions: int, rate: float | None) -> Result:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_load_process, args=(child, port, sessions, rate), daemon=True)
    cpu0 = time.process_time()
    proc.start()
    child.close()
    loop = asyncio.get_running_loop()
    # The pipe read blocks: do it in a thread so this loop keeps serving the sessions.
    data: dict[str, Any] = await loop.run_in_executor(None, parent.recv)
    cpu = time.process_time() - cpu0
    await loop.run_in_executor(None, proc.join)
    lat = sorted(x * 1000 for x in data["latencies"])
    if not lat:
        raise SystemExit(f"{name}: no session completed")
    return Result(
        name=name,
        load=load,
        sessions=len(lat),
        errors=data["errors"],
        per_s=len(lat) / data["elapsed"],
        p50_ms=statistics.median(lat),
        p99_ms=lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        max_ms=lat[-1],
        cpu_us=cpu / len(lat) * 1e6,
    )


async def _main(sessions: int, rate: float) -> list[Result]:
    logging.basicConfig(level=logging.WARNING)
    ours = AgiServer(AgiSettings(host=HOST, port=0), {"bench": _ours})
    await ours.start()
    from panoramisk.fast_agi import Application

    app = Application()
    app.add_route("bench", _panoramisk)
    theirs = await asyncio.start_server(app.handler, HOST, 0, backlog=1024)
    their_port = theirs.sockets[0].getsockname()[1]
    results: list[Result] = []
    try:
        for name, port in (("hotline", ours.port), ("panoramisk", their_port)):
            await _measure(name, "warmup", port, 500, None)
            results.append(await _measure(name, "paced", port, sessions, rate))
            results.append(await _measure(name, "saturated", port, sessions, None))
    finally:
        theirs.close()
        await theirs.wait_closed()
        await ours.stop()
    if ours.stats.failed:
        raise SystemExit(f"hotline server counted failures: {ours.stats}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions per run")
    parser.add_argument("--rate", type=float, default=1_000.0, help="offered sessions/s (paced)")
    args = parser.parse_args()
    results = asyncio.run(_main(args.sessions, args.rate))
    print(f"{CONCURRENCY} concurrent clients, {args.sessions} sessions per run, 4 commands each")
    print(
        f"{'server':<11} {'load':<10} {'sessions':>8} {'errors':>6} {'sess/s':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cpu us/sess':>11}"
    )
    for r in results:
        print(
            f"{r.name:<11} {r.load:<10} {r.sessions:>8} {r.errors:>6} {r.per_s:>8.0f} "
            f"{r.p50_ms:>7.2f} {r.p99_ms:>7.2f} {r.max_ms:>7.2f} {r.cpu_us:>11.0f}"
        )
    by = {(r.name, r.load): r for r in results}
    print(
        json.dumps(
            {
                "sessions_per_s": round(by["hotline", "paced"].per_s, 1),
                "p99_ms": round(by["hotline", "paced"].p99_ms, 2),
                "panoramisk_sessions_per_s": round(by["panoramisk", "paced"].per_s, 1),
                "panoramisk_p99_ms": round(by["panoramisk", "paced"].p99_ms, 2),
                "saturated_sessions_per_s": round(by["hotline", "saturated"].per_s, 1),
                "saturated_p99_ms": round(by["hotline", "saturated"].p99_ms, 2),
                "panoramisk_saturated_sessions_per_s": round(
                    by["panoramisk", "saturated"].per_s, 1
                ),
                "panoramisk_saturated_p99_ms": round(by["panoramisk", "saturated"].p99_ms, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

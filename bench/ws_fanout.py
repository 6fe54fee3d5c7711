"""WebSocket fan-out: N clients (one asyncio process of their own) subscribed to a queue's
live statistics while the queue changes at 5 Hz; delivery latency (the ``ts`` the hub stamps
when it encodes a message vs. the client's receipt) and server CPU per update.

    .venv/bin/python bench/ws_fanout.py [--clients 1000] [--seconds 20] [--rate 5]

The server is the real app (``create_app``, ``LiveHub``, uvicorn with websockets-sansio and no
per-message deflate, as ``hotline serve`` should run it) in this process; the clients are a
child process. The last line is JSON:
``{"clients": ..., "delivery_p50_ms": ..., "delivery_p99_ms": ..., ...}``. Goal: p99 <= 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "bench-wallboard-token-0123456789"
QUEUE = "cards"


# --- clients (child process) --------------------------------------------------------------------


async def one_client(
    url: str, ready: asyncio.Event, latencies: list[float], go: asyncio.Event
) -> None:
    import orjson
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, max_queue=None, open_timeout=60) as ws:
        await ws.send(orjson.dumps({"op": "auth", "token": TOKEN}).decode())
        await ws.send(orjson.dumps({"op": "subscribe", "streams": [f"queue:{QUEUE}"]}).decode())
        while True:
            message = orjson.loads(await ws.recv())
            if message.get("type") == "snapshot":
                break
        ready.set()
        await go.wait()
        async for raw in ws:
            now = time.time()
            message = orjson.loads(raw)
            if message.get("type") == "delta":
                latencies.append(now - message["ts"])


async def run_clients(url: str, count: int) -> None:
    latencies: list[float] = []
    go = asyncio.Event()
    readies = [asyncio.Event() for _ in range(count)]
    tasks: list[asyncio.Task[None]] = []
    for n in range(count):
        tasks.append(asyncio.create_task(one_client(url, readies[n], latencies, go)))
        if n % 50 == 49:
            await asyncio.sleep(0.05)  # do not flood the accept queue
    for event in readies:
        await event.wait()
    go.set()
    print("READY", flush=True)
    # The server says when it is done (a line on stdin); then report.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.sleep(1.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"received": len(latencies), "latencies_ms": [x * 1000 for x in latencies]}))


# --- server (this process) ----------------------------------------------------------------------


def build_app() -> tuple[object, object]:
    from cti.settings import load_settings
    from hotline.api.app import create_app
    from hotline.api.ports import ApiServices
    from hotline.live.hub import LiveHub
    from hotline.live.model import QueueDefinition
    from hotline.live.stats import LiveStats

    class Pbx:
        connected = True

        async def pbx_info(self) -> object:
            raise NotImplementedError

    class Db:
        async def ping(self) -> bool:
            return True

    settings = load_settings(
        api={"tokens": [{"name": "bench", "role": "wallboard", "token": TOKEN}]},
        live={"ws_buffer": 256},
    )
    queues = [QueueDefinition(QUEUE, "Cards"), *(QueueDefinition(f"q{n}") for n in range(20))]
    hub = LiveHub(LiveStats(settings.live, queues), client_buffer=settings.live.ws_buffer)
    app = create_app(settings, ApiServices(Pbx(), Db(), live=hub))  # type: ignore[arg-type]
    return app, hub


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def run_server(clients: int, seconds: float, rate: float) -> dict[str, object]:
    import logging

    import uvicorn

    from cti.events import CallAnswered, CallQueued
    from hotline.live.hub import LiveHub

    logging.disable(logging.INFO)
    app, hub = build_app()
    assert isinstance(hub, LiveHub)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        backlog=4096,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            serving.result()  # a failed start-up raises here
        await asyncio.sleep(0.01)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--client",
        "--url",
        f"ws://127.0.0.1:{port}/api/v1/ws",
        "--clients",
        str(clients),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    started = time.monotonic()
    line = await asyncio.wait_for(child.stdout.readline(), timeout=180)
    assert line.strip() == b"READY", line
    connect_s = time.monotonic() - started

    updates = int(seconds * rate)
    period = 1.0 / rate
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    next_tick = time.monotonic()
    for n in range(updates):
        # Alternate a caller joining and being answered: every flush changes the stats.
        if n % 2 == 0:
            hub.process(CallQueued(call_id=f"c{n}", queue=QUEUE))
        else:
            hub.process(CallAnswered(call_id=f"c{n - 1}", queue=QUEUE, agent_id="a"))
        hub.flush()
        next_tick += period
        await asyncio.sleep(max(next_tick - time.monotonic(), 0))
    await asyncio.sleep(0.5)  # let the last sends leave
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    child.stdin.write(b"done\n")
    await child.stdin.drain()
    out = await asyncio.wait_for(child.stdout.read(), timeout=60)
    await child.wait()
    report = json.loads(out.decode().strip().splitlines()[-1])
    latencies: list[float] = report["latencies_ms"]
    server.should_exit = True
    await serving
    expected = updates * clients
    return {
        "clients": clients,
        "delivery_p50_ms": round(percentile(latencies, 0.50), 2),
        "delivery_p99_ms": round(percentile(latencies, 0.99), 2),
        "delivery_max_ms": round(max(latencies), 2),
        "delivery_mean_ms": round(statistics.fmean(latencies), 2),
        "updates": updates,
        "rate_hz": rate,
        "delivered": len(latencies),
        "expected": expected,
        "cut_off": hub.cut_offs,
        "server_cpu_ms_per_update": round(cpu_s * 1000 / updates, 2),
        "server_cpu_util": round(cpu_s / (updates * period), 3),
        "connect_s": round(connect_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients + 256)), hard))
    if args.client:
        asyncio.run(run_clients(args.url, args.clients))
        return
    result = asyncio.run(run_server(args.clients, args.seconds, args.rate))
    print(
        f"{result['clients']} clients, {result['updates']} updates at {result['rate_hz']} Hz: "
        f"delivered {result['delivered']}/{result['expected']}, cut off {result['cut_off']}"
    )
    print(
        f"server CPU {result['server_cpu_ms_per_update']} ms per update "
        f"({result['server_cpu_util']:.0%} of one core)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

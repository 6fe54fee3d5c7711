"""The composition root without a PBX: the whole engine (IVR, ACD, recordings, API over the
repository's config/) still comes up, says it is not ready, and shuts down cleanly when
asked."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx

from cti.settings import Settings, load_settings
from hotline.service import build_engine, serve

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _settings(tmp_path: Path, http_port: int, **ami: object) -> Settings:
    return load_settings(
        ami={"port": _free_port(), "secret": "x", **ami},
        agi={"port": 0},
        http={"port": http_port},
        database={"url": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"},
        event_log={"spool_dir": str(tmp_path / "spool")},
        config_dir=str(CONFIG_DIR),
    )


async def test_serves_without_pbx_and_stops_cleanly(tmp_path: Path) -> None:
    http_port = _free_port()
    settings = _settings(
        tmp_path, http_port, connect_timeout_s=0.2, reconnect_min_s=0.05, reconnect_max_s=0.2
    )
    before = asyncio.all_tasks()
    stop = asyncio.Event()
    engine = build_engine(settings)
    task = asyncio.create_task(serve(engine, stop))
    base = f"http://127.0.0.1:{http_port}"
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(100):
            try:
                ready = await client.get("/readyz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("HTTP never came up")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"ami": False, "database": True}
        assert (await client.get("/healthz")).status_code == 200
    stop.set()
    await asyncio.wait_for(task, 10)
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()


async def test_http_port_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = _settings(tmp_path, taken.getsockname()[1], connect_timeout_s=0.1)
        stop = asyncio.Event()
        try:
            await asyncio.wait_for(serve(build_engine(settings), stop), 10)
        except RuntimeError as exc:
            assert "HTTP server could not start" in str(exc)
        else:
            raise AssertionError("serve() should have failed")

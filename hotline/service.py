"""The composition root: builds every part from settings and runs them in one event loop.

``hotline serve`` = FastAGI server + AMI client + HTTP API (+ storage). Shutdown on SIGTERM or
SIGINT is graceful: HTTP stops accepting, FastAGI sessions get their grace period, AMI logs off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass

import uvicorn

from cti.agi.server import AgiServer, Handler
from cti.ami.client import AmiClient
from cti.ami.errors import AmiTimeout
from cti.events import DomainBus
from cti.settings import Settings
from hotline.api.app import create_app
from hotline.api.config_status import config_status_router
from hotline.api.ports import ApiServices
from hotline.pbx_info import AmiPbxInfo
from hotline.routes import IvrParts, build_ivr
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from ivr.publish import publishing_sink

log = logging.getLogger("hotline.service")


class EmbeddedHttpServer(uvicorn.Server):
    """uvicorn inside our event loop: signals belong to ``hotline serve``, not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def run_until_stopped(self) -> AsyncIterator[None]:
        """Start serving; yield once listening; stop when the caller's block ends."""
        # We bind the socket ourselves: uvicorn reports a failed bind with sys.exit(), which
        # inside a task would tear down the whole event loop.
        host, port = self.config.host, self.config.port
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise RuntimeError(
                f"HTTP server could not start on {host}:{port}: {exc.strerror}"
            ) from exc
        task = asyncio.create_task(self.serve(sockets=[sock]), name="http-server")
        try:
            while not self.started:
                if task.done():
                    task.result()
                    raise RuntimeError(f"HTTP server on {host}:{port} stopped at start-up")
                await asyncio.sleep(0.01)
            yield
        finally:
            self.should_exit = True
            await task
            sock.close()


@dataclass
class Engine:
    """Everything ``hotline serve`` runs, built and wired in one place."""

    settings: Settings
    bus: DomainBus
    ami: AmiClient
    agi: AgiServer
    database: Database
    http: EmbeddedHttpServer
    ivr: IvrParts | None  # None when the caller supplies its own FastAGI routes (tests)


def build_engine(settings: Settings, routes: Mapping[str, Handler] | None = None) -> Engine:
    bus = DomainBus()
    pbx_info = AmiPbxInfo()
    ami = AmiClient(settings.ami, on_connect=pbx_info.on_connect)
    pbx_info.bind(ami)
    database = Database(settings.database)
    ivr = build_ivr(settings, events=publishing_sink(bus)) if routes is None else None
    agi = AgiServer(settings.agi, ivr.routes if ivr is not None else routes or {})
    app = create_app(settings, ApiServices(pbx=pbx_info, database=database))
    if ivr is not None:
        app.include_router(config_status_router(ivr.store))
    http = EmbeddedHttpServer(
        uvicorn.Config(
            app,
            host=settings.http.host,
            port=settings.http.port,
            log_config=None,  # our own structured logging
            access_log=False,
            lifespan="off",
        )
    )
    return Engine(settings, bus, ami, agi, database, http, ivr)


async def serve(engine: Engine, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; every part is closed in reverse order of start."""
    settings = engine.settings
    await upgrade_async(settings.database)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.database.dispose)
        # The engine comes up even while the PBX is down or restarting: FastAGI serves, /readyz
        # says not ready, and AMI keeps reconnecting in the background.
        await engine.ami.start(wait=False)
        stack.push_async_callback(engine.ami.close)
        try:
            await engine.ami.wait_connected(timeout=settings.ami.connect_timeout_s)
        except AmiTimeout:
            log.warning(
                "AMI not connected yet; retrying in the background",
                extra={"ami": f"{settings.ami.host}:{settings.ami.port}"},
            )
        if engine.ivr is not None:
            stack.push_async_callback(engine.ivr.webhooks.aclose)
            await stack.enter_async_context(_watching_config(engine.ivr, settings))
        await engine.agi.start()
        stack.push_async_callback(engine.agi.stop)
        await stack.enter_async_context(
            contextlib.asynccontextmanager(engine.http.run_until_stopped)()
        )
        log.info(
            "hotline serving",
            extra={
                "agi": f"{settings.agi.host}:{engine.agi.port}",
                "http": f"{settings.http.host}:{settings.http.port}",
                "ami": f"{settings.ami.host}:{settings.ami.port}",
            },
        )
        await stop.wait()
        log.info("hotline stopping")
    log.info("hotline stopped")


@contextlib.asynccontextmanager
async def _watching_config(ivr: IvrParts, settings: Settings) -> AsyncIterator[None]:
    """Hot reload of config/ for as long as the engine serves."""
    stop = asyncio.Event()
    watch = asyncio.create_task(
        ivr.store.watch(
            debounce_ms=settings.ivr.reload_debounce_ms,
            step_ms=settings.ivr.reload_step_ms,
            stop_event=stop,
        ),
        name="ivr-config-watch",
    )
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(watch, 5)
        except TimeoutError:
            log.warning("config watcher did not stop in time")


def run_service(settings: Settings) -> int:
    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await serve(build_engine(settings), stop)
        except Exception:
            log.exception("hotline failed")
            return 1
        return 0

    return asyncio.run(main())

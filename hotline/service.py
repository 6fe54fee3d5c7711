"""The composition root: builds every part from settings and runs them in one event loop.

``hotline serve`` = FastAGI server + AMI client + HTTP API (+ storage). Shutdown on SIGTERM or
SIGINT is graceful: HTTP stops accepting, FastAGI sessions get their grace period, AMI logs off.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import uvicorn

from acd.service import AcdService
from cti.agi.server import AgiServer
from cti.ami.call_control import AmiCallControl
from cti.ami.client import AmiClient
from cti.ami.errors import AmiTimeout
from cti.events import DomainBus
from cti.settings import Settings
from hotline.acd.announce import announce_handler
from hotline.acd.announce_voice import AnnounceVoice
from hotline.acd.build import build_acd
from hotline.agent_admin import StoredAgentAdmin, load_agents
from hotline.api.app import create_app
from hotline.api.ports import ApiServices, RecordingsApi
from hotline.controls import (
    AcdAgentControl,
    AcdCallControl,
    AcdDirectory,
    AcdTraces,
    SpyControl,
)
from hotline.live.service import LiveService, build_live
from hotline.live.warm_start import warm_up as live_warm_up
from hotline.pbx_info import AmiPbxInfo
from hotline.recordings.build import RecordingParts, build_recordings
from hotline.reports.service import SqlReports
from hotline.routes import IvrParts, asterisk_prompts_dir, build_ivr
from hotline.staffing.service import staffing_planner
from hotline.storage import Database
from hotline.storage.agents import AgentStore
from hotline.storage.event_log import EventLogWriter
from hotline.storage.event_store import EventStore
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
    live: LiveService
    event_log: EventLogWriter
    recordings: RecordingParts
    ivr: IvrParts
    acd: AcdService


def build_engine(settings: Settings) -> Engine:
    """Wire every part from settings."""
    bus = DomainBus()
    pbx_info = AmiPbxInfo()

    async def on_connect(client: AmiClient) -> None:
        # After every (re)connect: log the PBX, then rebuild the ACD's state from Asterisk.
        # (``acd`` is built below, before anything can start AMI.)
        await pbx_info.on_connect(client)
        await acd.resync(client)

    ami = AmiClient(settings.ami, on_connect=on_connect)
    pbx_info.bind(ami)
    # The one call-control port over AMI, for every part that acts on calls.
    call_control = AmiCallControl(ami)
    database = Database(settings.database)
    event_log = EventLogWriter(bus, database, settings.event_log)
    recordings = build_recordings(settings.config_dir, database, call_control, bus.publish)
    # The IVR mutes the recording while it collects a card number (PCI).
    ivr = build_ivr(settings, events=publishing_sink(bus), recording=recordings.service)
    acd = build_acd(settings, ami, call_control, publish=bus.publish)
    directory = AcdDirectory(acd)
    # Position and wait in the caller's language, from the IVR's own voice and numbers.
    voice = AnnounceVoice(asterisk_prompts_dir(settings))
    agi = AgiServer(
        settings.agi,
        {
            **ivr.routes,
            "acd-announce": announce_handler(acd, say_number=voice.say_number, prompt=voice.prompt),
        },
    )
    live = build_live(
        settings, directory.queue_definitions(), queues_of_agent=directory.queues_of_agent
    )
    services = ApiServices(
        pbx=pbx_info,
        database=database,
        live=live.hub,
        directory=directory,
        agents=AcdAgentControl(acd),
        agent_admin=StoredAgentAdmin(AgentStore(database), acd, bus.publish),
        calls=AcdCallControl(call_control, acd),
        supervisor=SpyControl(call_control, acd),
        traces=AcdTraces(acd),
        mqtt=live.mqtt,
        reports=SqlReports(database),
        staffing=staffing_planner(database, settings),
        recordings=RecordingsApi(recordings.service, recordings.store, recordings.forms),
        config_status=ivr.store,
    )
    app = create_app(settings, services)
    http = EmbeddedHttpServer(
        uvicorn.Config(
            app,
            host=settings.http.host,
            port=settings.http.port,
            log_config=None,  # our own structured logging
            access_log=False,
            lifespan="off",
            ws="websockets-sansio",
            # Compression would be per message and per client: it undoes "encode once".
            ws_per_message_deflate=False,
        )
    )
    return Engine(settings, bus, ami, agi, database, http, live, event_log, recordings, ivr, acd)


async def serve(engine: Engine, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; every part is closed in reverse order of start."""
    settings = engine.settings
    await upgrade_async(settings.database)
    # The ACD's agents come from the database (seeded from config/agents.yaml once).
    await load_agents(engine.acd, AgentStore(engine.database))
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.database.dispose)
        # The event log starts first and stops last (before the database): it stores whatever
        # the other parts published, to the database or else to the local spool.
        await engine.event_log.start()
        stack.push_async_callback(engine.event_log.stop)
        # Live state first, so it sees every event from the first call on; today's figures
        # so far come back from the event log meanwhile (calls are served during the replay:
        # their events wait in the hub's subscription).
        warm_up = None
        if settings.live.rebuild_on_start:
            store = EventStore(engine.database)
            warm_up = live_warm_up(engine.live.hub.stats, store, written=engine.event_log.flush)
        await stack.enter_async_context(_running(engine.live.run(engine.bus, warm_up), "live"))
        await asyncio.wait_for(engine.live.hub.subscribed.wait(), 5)  # before any publisher
        stack.callback(engine.live.close)
        # Drain (finish files being written, hash them) after the consumer stops.
        stack.push_async_callback(engine.recordings.service.drain)
        await stack.enter_async_context(
            _running(engine.recordings.service.run(engine.bus), "recordings")
        )
        # Consuming before AMI connects; the AMI on_connect hook rebuilds its state from
        # Asterisk on every connect, the first one included (so exactly once at start-up).
        await engine.acd.start(resync=False)
        stack.push_async_callback(engine.acd.stop)
        # The engine comes up even while the PBX is down or restarting: FastAGI serves, /readyz
        # says not ready, and AMI keeps reconnecting in the background.
        await engine.ami.start(wait=False)
        stack.push_async_callback(engine.ami.close)
        # Before AMI closes: a logout or pause made just before the stop reaches AstDB,
        # or the next start would restore the agent as it was before it.
        stack.push_async_callback(_flush_agents, engine.acd)
        try:
            await engine.ami.wait_connected(timeout=settings.ami.connect_timeout_s)
        except AmiTimeout:
            log.warning(
                "AMI not connected yet; retrying in the background",
                extra={"ami": f"{settings.ami.host}:{settings.ami.port}"},
            )
        stack.push_async_callback(engine.ivr.webhooks.aclose)
        await stack.enter_async_context(_watching_config(engine.ivr, settings))
        await engine.agi.start()
        stack.push_async_callback(engine.agi.stop)
        await stack.enter_async_context(
            contextlib.asynccontextmanager(engine.http.run_until_stopped)()
        )
        # Everything built at start-up lives for the whole run: keep it out of the cyclic GC's
        # scans, whose pauses otherwise show up as routing-latency spikes (tens of ms).
        gc.freeze()
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


async def _flush_agents(acd: AcdService, timeout_s: float = 5.0) -> None:
    try:
        await asyncio.wait_for(acd.flush(), timeout_s)
    except TimeoutError:
        log.warning("agent changes not all saved to Asterisk before the stop")


@contextlib.asynccontextmanager
async def _running(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """A long-lived part as a task, cancelled (and awaited) when the block ends."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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

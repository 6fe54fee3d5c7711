"""FastAGI TCP server: one task per Asterisk connection, routed by script name.

Invariants:
- Every session task is tracked from its first step until it ends; ``stop()`` returns only when
  all of them are done (finished within ``shutdown_grace_s``, or cancelled).
- Nothing a peer does (close at once, send garbage, stay silent, hang up mid-command) and
  nothing a handler raises escapes a session task: it is logged with the call's context and
  counted; other sessions never notice.
- The environment must arrive within ``env_timeout_s``; a handler that sends no command for
  ``idle_timeout_s`` is cancelled (time spent waiting for Asterisk's reply does not count).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from cti.agi.codec import ConnectionClosed, EnvironmentReceived
from cti.agi.environment import AgiEnvironment
from cti.agi.errors import AgiError, AgiHangup, AgiProtocolError
from cti.agi.link import AgiLink
from cti.agi.session import AgiSession
from cti.settings import AgiSettings

Handler = Callable[[AgiSession], Awaitable[None]]

log = logging.getLogger("cti.agi")

# Telling Asterisk why we hang up on an unknown script is a courtesy; never wait long for it.
_UNKNOWN_ROUTE_REPLY_S = 1.0
# The watchdog scans every session this often (at most): deadlines are late by at most that.
_WATCHDOG_MAX_PERIOD_S = 1.0


@dataclass(slots=True)
class AgiServerStats:
    started: int = 0
    completed: int = 0  # handler returned, or the caller hung up
    failed: int = 0  # no/garbage environment, unknown route, handler error, watchdog
    active: int = 0
    hangups: int = 0  # completed sessions in which the caller hung up
    unknown_routes: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True, eq=False)
class _Call:
    """Book-keeping for one connection (one task)."""

    link: AgiLink
    started: float
    task: asyncio.Task[bool] | None = None
    session: AgiSession | None = None
    env: AgiEnvironment | None = None
    expired: str | None = None  # why the watchdog cancelled it

    def log_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {"remote": self.link.peer}
        if self.env is not None:
            env = self.env
            context.update(channel=env.channel, uniqueid=env.uniqueid, script=env.script)
        return context


class AgiServer:
    """``AgiServer(settings, {"ivr": run_ivr})``; ``await start()`` … ``await stop()``."""

    def __init__(self, settings: AgiSettings, routes: Mapping[str, Handler]) -> None:
        self._settings = settings
        self._routes = dict(routes)
        self._server: asyncio.Server | None = None
        self._calls: dict[asyncio.Task[bool], _Call] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._accepting = False
        self.stats = AgiServerStats()

    @property
    def port(self) -> int:
        """The bound port (useful when the settings say 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("AgiServer is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def sessions(self) -> frozenset[asyncio.Task[bool]]:
        """Tasks of the sessions in progress."""
        return frozenset(self._calls)

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("AgiServer already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: AgiLink(self._on_connect),
            self._settings.host,
            self._settings.port,
            reuse_address=True,
            backlog=1024,
        )
        self._accepting = True
        self._watchdog = asyncio.create_task(self._watch(), name="cti.agi.watchdog")
        log.info(
            "FastAGI server listening",
            extra={"host": self._settings.host, "port": self.port, "routes": sorted(self._routes)},
        )

    async def stop(self) -> None:
        """Stop accepting, let sessions finish for ``shutdown_grace_s``, then cancel the rest."""
        server, self._server = self._server, None
        if server is None:
            return
        self._accepting = False
        server.close()
        # An accept already in progress completes on the next loop turns and is closed by
        # _on_connect (not accepting any more); let it, so that no task outlives stop().
        for _ in range(3):
            await asyncio.sleep(0)
        pending: set[asyncio.Task[bool]] = set(self._calls)
        if pending:
            log.info("waiting for AGI sessions to finish", extra={"sessions": len(pending)})
            _, pending = await asyncio.wait(pending, timeout=self._settings.shutdown_grace_s)
        for task in pending:
            task.cancel("AGI server stopping")
        if pending:
            log.warning("cancelling AGI sessions at shutdown", extra={"sessions": len(pending)})
            await asyncio.gather(*pending, return_exceptions=True)
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await server.wait_closed()
        log.info("FastAGI server stopped", extra={"stats": self.stats.as_dict()})

    async def __aenter__(self) -> AgiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ connections

    def _on_connect(self, link: AgiLink) -> None:
        """From ``connection_made``: register the session task synchronously (no window in which
        a connection exists that ``stop()`` would not see)."""
        if not self._accepting:
            link.close()
            return
        loop = asyncio.get_running_loop()
        call = _Call(link=link, started=loop.time())
        task = loop.create_task(self._run(call))
        call.task = task
        self._calls[task] = call
        task.add_done_callback(self._on_done)
        self.stats.started += 1
        self.stats.active += 1

    def _on_done(self, task: asyncio.Task[bool]) -> None:
        call = self._calls.pop(task)
        call.link.close()
        stats = self.stats
        stats.active -= 1
        if not task.cancelled() and task.exception() is None and task.result():
            stats.completed += 1
        else:
            stats.failed += 1

    async def _watch(self) -> None:
        """Cancel sessions past a deadline: a single scan instead of a timer per command."""
        settings = self._settings
        period = min(settings.env_timeout_s, settings.idle_timeout_s, 4 * _WATCHDOG_MAX_PERIOD_S)
        period = max(period / 4, 0.005)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            for call in list(self._calls.values()):
                if call.expired is not None or call.task is None:
                    continue
                session = call.session
                if session is None:
                    if call.env is None and now - call.started > settings.env_timeout_s:
                        call.expired = "environment timeout"
                        call.task.cancel()
                elif (
                    session.idle_since is not None
                    and now - session.idle_since > settings.idle_timeout_s
                ):
                    call.expired = "idle timeout"
                    call.task.cancel()

    async def _run(self, call: _Call) -> bool:
        """One connection; True when it ended normally (handler returned or caller hung up)."""
        try:
            return await self._serve(call)
        except asyncio.CancelledError:
            if call.expired is None:
                log.warning("AGI session cancelled", extra=call.log_context())
                raise
            # Our own watchdog cancelled it: a logged failure, not a cancellation of the task.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            log.warning(
                "AGI session ended by the watchdog: %s",
                call.expired,
                extra={
                    **call.log_context(),
                    "reason": call.expired,
                    "idle_timeout_s": self._settings.idle_timeout_s,
                    "env_timeout_s": self._settings.env_timeout_s,
                },
            )
            return False
        except AgiProtocolError as exc:
            log.warning("AGI protocol error from Asterisk: %s", exc, extra=call.log_context())
            return False
        except Exception:  # a handler bug: log it, never take the server down for it
            log.exception("AGI handler raised", extra=call.log_context())
            return False

    async def _serve(self, call: _Call) -> bool:
        link = call.link
        event = await link.next_event()
        if isinstance(event, ConnectionClosed):
            log.info("AGI client closed before sending an environment", extra=call.log_context())
            return False
        if not isinstance(event, EnvironmentReceived):  # pragma: no cover - codec guarantees
            raise AgiProtocolError(f"unexpected {event!r} before the environment")
        env = call.env = event.env
        session = call.session = AgiSession(env, link)
        handler = self._routes.get(env.script)
        if handler is None:
            self.stats.unknown_routes += 1
            log.warning(
                "no AGI route for script; the dialplan falls back", extra=call.log_context()
            )
            with contextlib.suppress(AgiError):
                await session.command(
                    "VERBOSE",
                    f"hotline: no AGI route for script {env.script!r}",
                    "1",
                    timeout_s=_UNKNOWN_ROUTE_REPLY_S,
                )
            return False
        debug = log.isEnabledFor(logging.DEBUG)
        if debug:
            log.debug("AGI session started", extra=call.log_context())
        try:
            await handler(session)
        except AgiHangup as exc:
            self.stats.hangups += 1
            if debug:
                log.debug("caller hung up", extra={**call.log_context(), "reason": exc.reason})
            return True
        if session.hung_up:  # the handler caught the hangup itself
            self.stats.hangups += 1
        if debug:
            log.debug("AGI session completed", extra=call.log_context())
        return True

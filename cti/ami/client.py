"""Async AMI client: one connection, login, keepalive, reconnect, actions, event fan-out.

Shape (aiomqtt / httpcore): a supervisor task owns the connection life cycle; per connection a
reader task runs one short loop (next message; if none, read and feed the sans-IO codec) and a
keepalive task pings. Replies are matched to actions through ``dict[action_id, Pending]``.

Invariants:
- The reader never awaits anything but the socket: dispatch resolves futures and pushes into
  bounded subscriber queues (Asterisk drops a client that does not read for ~100 ms).
- When a connection ends, every pending action fails with ``AmiConnectionError``.
- ``close()`` leaves no task behind and ends every subscription.
- The secret is never logged; action headers are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Self

from cti.ami.codec import AmiCodec, encode_action
from cti.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiConnectionError,
    AmiError,
    AmiProtocolError,
    AmiTimeout,
)
from cti.ami.link import (
    AmiStats,
    Headers,
    Link,
    ListResult,
    Pending,
    reconnect_delay,
    starts_list,
)
from cti.ami.messages import Event, Greeting, Message, Response
from cti.ami.subscriptions import EventFilter, EventHub, Overflow, Subscription
from cti.settings import AmiSettings

log = logging.getLogger("cti.ami")

OnConnect = Callable[["AmiClient"], Awaitable[None]]
_READ_SIZE = 65536


class AmiClient:
    def __init__(
        self,
        settings: AmiSettings,
        *,
        on_connect: OnConnect | None = None,
        events: str = "on",
        action_id_prefix: str | None = None,
    ) -> None:
        self._settings = settings
        self._on_connect = on_connect
        self._events_mask = events  # the Login ``Events:`` header: "on", "off" or a class list
        self._prefix = action_id_prefix or f"hotline-{secrets.token_hex(3)}"
        self._ids = itertools.count(1)
        self._pending: dict[str, Pending] = {}
        self._pending_lists = 0
        self._hub = EventHub()
        self._stats = AmiStats()
        self._link: Link | None = None
        self._connected = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Future[None] | None = None
        self._closing = False
        self._connected_once_in_session = False  # did the last session get past login?
        self._log_extra = {"host": settings.host, "port": settings.port}

    # -- life cycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self, *, wait: bool = True) -> None:
        """Connect and log in. With ``wait`` the first failure is raised (a wrong secret at
        start-up should be loud); without it the client keeps trying in the background (an
        engine must come up even while the PBX restarts). Once connected, lost connections are
        re-established in the background."""
        if self._runner is not None:
            raise RuntimeError("AmiClient already started")
        self._closing = False
        self._first_attempt = asyncio.get_running_loop().create_future() if wait else None
        self._runner = asyncio.create_task(
            self._supervise(), name=f"ami-supervisor[{self._settings.host}:{self._settings.port}]"
        )
        if self._first_attempt is None:
            return
        try:
            await asyncio.shield(self._first_attempt)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        self._closing = True
        link = self._link
        if link is not None and self.connected:
            with contextlib.suppress(AmiError, OSError):
                await self._request(link, "Logoff", {}, is_list=False, deadline_s=1.0)
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._hub.close()
        self._fail_pending(AmiConnectionError("client closed"))

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise AmiTimeout(f"not connected within {timeout} s") from None

    @property
    def stats(self) -> AmiStats:
        return dataclasses.replace(self._stats, events_dropped=self._hub.dropped)

    # -- public API ------------------------------------------------------------------------

    async def action(
        self,
        name: str,
        headers: Headers | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-action deadline is the API
        check: bool = True,
        **fields: str | Sequence[str],
    ) -> Response:
        """Send one action and return its response; ``Response: Error`` raises AmiActionError
        unless ``check=False``."""
        result = await self._request(
            self._live_link(),
            name,
            {**(headers or {}), **fields},
            is_list=False,
            deadline_s=timeout,
        )
        assert isinstance(result, Response)
        if check and result.response == "Error":
            raise AmiActionError(result)
        return result

    async def list_action(
        self,
        name: str,
        headers: Headers | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-action deadline is the API
        check: bool = True,
        **fields: str | Sequence[str],
    ) -> ListResult:
        """Send a list action (QueueStatus, CoreShowChannels, Status...) and collect its events
        up to the one carrying ``EventList: Complete``."""
        result = await self._request(
            self._live_link(), name, {**(headers or {}), **fields}, is_list=True, deadline_s=timeout
        )
        assert isinstance(result, ListResult)
        if check and result.response.response == "Error":
            raise AmiActionError(result.response)
        return result

    async def command(
        self,
        command: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> str:
        """Run a CLI command; both the ``Output:`` form (Asterisk 14+) and the legacy
        ``Response: Follows`` body are returned as text."""
        response = await self.action("Command", {"Command": command}, timeout=timeout)
        return "\n".join(response.output)

    def subscribe(
        self,
        selector: EventFilter = None,
        *,
        maxsize: int = 1000,
        overflow: Overflow = "drop_oldest",
    ) -> Subscription:
        """Events matching ``selector`` (a set of names, a predicate, or None for all)."""
        return self._hub.subscribe(selector, maxsize=maxsize, overflow=overflow)

    events = subscribe

    # -- requests --------------------------------------------------------------------------

    def _live_link(self) -> Link:
        link = self._link
        if link is None or not self.connected:
            raise AmiConnectionError(
                f"not connected to AMI at {self._settings.host}:{self._settings.port}"
            )
        return link

    async def _request(
        self,
        link: Link,
        name: str,
        headers: Headers,
        *,
        is_list: bool,
        deadline_s: float | None,
    ) -> Response | ListResult:
        action_id = f"{self._prefix}-{next(self._ids)}"
        data = encode_action(name, action_id, headers)  # AmiHeaderError before anything is sent
        future: asyncio.Future[Response | ListResult] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = Pending(future, is_list)
        self._pending_lists += is_list
        deadline = self._settings.action_timeout_s if deadline_s is None else deadline_s
        try:
            link.writer.write(data)
            self._stats.actions_sent += 1
            async with asyncio.timeout(deadline):
                return await future
        except TimeoutError:
            self._stats.action_timeouts += 1
            log.warning(
                "AMI action timed out",
                extra={**self._log_extra, "action": name, "action_id": action_id},
            )
            raise AmiTimeout(f"{name} ({action_id}): no answer within {deadline} s") from None
        finally:
            if self._pending.pop(action_id, None) is not None:
                self._pending_lists -= is_list

    def _fail_pending(self, error: AmiError) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()
        self._pending_lists = 0

    # -- connection life cycle -------------------------------------------------------------

    async def _supervise(self) -> None:
        settings = self._settings
        failures = 0
        while not self._closing:
            try:
                await self._session()
                error: BaseException = AmiConnectionError("connection ended")
            except (AmiError, OSError) as exc:
                error = exc
            first = self._first_attempt
            if first is not None and not first.done():
                first.set_exception(error)
                return
            if self._closing:
                return
            failures = 0 if self._connected_once_in_session else failures + 1
            if isinstance(error, AmiAuthError):
                # A wrong secret does not fix itself: retry slowly, not in a storm.
                delay = settings.reconnect_max_s
            else:
                delay = reconnect_delay(
                    failures, settings.reconnect_min_s, settings.reconnect_max_s
                )
            log.log(
                logging.ERROR if isinstance(error, AmiAuthError) else logging.WARNING,
                "AMI connection lost, reconnecting",
                extra={**self._log_extra, "error": repr(error), "delay_s": round(delay, 3)},
            )
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        settings = self._settings
        self._connected_once_in_session = False
        async with asyncio.timeout(settings.connect_timeout_s):
            reader, writer = await asyncio.open_connection(settings.host, settings.port)
        codec = AmiCodec(settings.max_frame_bytes, settings.ignore_events)
        link = Link(reader, writer, codec)
        self._link = link
        tasks = [asyncio.create_task(self._read_loop(link), name="ami-reader")]
        try:
            try:
                async with asyncio.timeout(settings.connect_timeout_s):
                    greeting = await link.greeting
            except TimeoutError:
                raise AmiConnectionError("no AMI greeting from the peer") from None
            await self._login(link)
            log.info(
                "AMI connected",
                extra={**self._log_extra, "ami_version": greeting.version},
            )
            self._stats.connects += 1
            self._stats.reconnects += self._stats.connects > 1
            self._connected_once_in_session = True
            self._connected.set()
            first = self._first_attempt
            if first is not None and not first.done():
                first.set_result(None)
            tasks.append(asyncio.create_task(self._keepalive(link), name="ami-keepalive"))
            if self._on_connect is not None:
                tasks.append(asyncio.create_task(self._run_on_connect(), name="ami-on-connect"))
            await tasks[0]  # the reader ends only by raising: EOF, protocol error, abort
        finally:
            self._connected.clear()
            self._link = None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.transport.abort()
            self._fail_pending(AmiConnectionError("AMI connection lost"))

    async def _login(self, link: Link) -> None:
        settings = self._settings
        secret = settings.secret.get_secret_value()
        headers: dict[str, str]
        if settings.auth == "md5":
            challenge = await self._request(
                link, "Challenge", {"AuthType": "md5"}, is_list=False, deadline_s=None
            )
            assert isinstance(challenge, Response)
            token = challenge.get("Challenge")
            if challenge.response != "Success" or not token:
                raise AmiAuthError(f"md5 challenge refused: {challenge.message}")
            key = hashlib.md5((token + secret).encode()).hexdigest()
            headers = {"AuthType": "md5", "Username": settings.username, "Key": key}
        else:
            headers = {"Username": settings.username, "Secret": secret}
        headers["Events"] = self._events_mask
        response = await self._request(link, "Login", headers, is_list=False, deadline_s=None)
        assert isinstance(response, Response)
        if response.response != "Success":
            log.error(
                "AMI login refused",
                extra={**self._log_extra, "username": settings.username, "auth": settings.auth},
            )
            raise AmiAuthError(f"login refused for {settings.username!r}: {response.message}")

    async def _run_on_connect(self) -> None:
        assert self._on_connect is not None
        try:
            await self._on_connect(self)
        except Exception:
            # A failed resync must not take the connection down; it runs again next connect.
            log.exception("AMI on_connect hook failed", extra=self._log_extra)

    async def _keepalive(self, link: Link) -> None:
        interval = self._settings.ping_interval_s
        while True:
            await asyncio.sleep(interval)
            try:
                await self._request(
                    link,
                    "Ping",
                    {},
                    is_list=False,
                    deadline_s=min(interval, self._settings.action_timeout_s),
                )
            except AmiTimeout:
                log.warning("AMI ping not answered, dropping the connection", extra=self._log_extra)
                link.writer.transport.abort()
                return

    # -- reading ---------------------------------------------------------------------------

    async def _read_loop(self, link: Link) -> None:
        codec = link.codec
        stats = self._stats
        dispatch = self._dispatch
        try:
            at_eof = False
            while True:
                while (message := codec.next_message()) is not None:
                    dispatch(link, message)
                if at_eof:
                    raise AmiConnectionError("AMI connection closed by the peer")
                data = await link.reader.read(_READ_SIZE)
                at_eof = not data
                malformed = codec.malformed_lines
                codec.receive_data(data)
                if codec.malformed_lines != malformed:
                    log.warning(
                        "AMI malformed lines",
                        extra={**self._log_extra, "line": (codec.last_malformed_line or "")[:200]},
                    )
                stats.malformed_lines += codec.malformed_lines - malformed
        except AmiProtocolError as exc:
            log.error(
                "AMI protocol error, reconnecting", extra={**self._log_extra, "error": str(exc)}
            )
            raise
        except (ConnectionError, OSError) as exc:
            raise AmiConnectionError(f"AMI read failed: {exc}") from exc
        finally:
            stats.events_ignored += codec.events_ignored
            stats.decode_errors += codec.decode_errors
            if not link.greeting.done():
                link.greeting.set_exception(AmiConnectionError("connection closed before greeting"))
                link.greeting.exception()  # retrieved: nobody may be waiting any more

    def _dispatch(self, link: Link, message: Message) -> None:
        if type(message) is Event:
            self._stats.events_received += 1
            if self._pending_lists:
                action_id = message.action_id
                pending = self._pending.get(action_id) if action_id else None
                if pending is not None and pending.is_list:
                    self._collect(pending, message)
                    return
            self._hub.publish(message)
        elif type(message) is Response:
            action_id = message.action_id
            pending = self._pending.get(action_id) if action_id else None
            if pending is None or pending.future.done():
                log.debug(
                    "AMI response to no pending action",
                    extra={**self._log_extra, "action_id": action_id},
                )
                return
            if pending.is_list and message.response == "Success" and starts_list(message):
                pending.response = message  # events follow, up to EventList: Complete
            elif pending.is_list:
                pending.future.set_result(ListResult(message, pending.events, None))
            else:
                pending.future.set_result(message)
        elif type(message) is Greeting and not link.greeting.done():
            link.greeting.set_result(message)

    @staticmethod
    def _collect(pending: Pending, event: Event) -> None:
        if (event.event_list or "").lower() == "complete":
            if pending.response is not None and not pending.future.done():
                pending.future.set_result(ListResult(pending.response, pending.events, event))
            return
        pending.events.append(event)

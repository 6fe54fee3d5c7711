"""The IO shell around the codec: an ``asyncio.Protocol`` that buffers bytes into the codec and
wakes the one coroutine waiting for the next event (httpcore style: next event; if more data
is needed, wait and retry).

Why a Protocol and not StreamReader/StreamWriter: a session reads one short line per command
and the codec already buffers; skipping the stream layer (its own buffer, a future per read,
drain bookkeeping) is a large share of the per-session cost at thousands of sessions/s.

Invariants: only one waiter at a time (the session sends one command at a time); if the peer
sends more than ``max_buffer`` bytes nobody reads, reading is paused until someone does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from cti.agi.codec import NEED_DATA, AgiConnection, Event


class AgiLink(asyncio.Protocol):
    __slots__ = (
        "_conn",
        "_loop",
        "_max_buffer",
        "_on_connect",
        "_paused",
        "_waiter",
        "transport",
    )

    def __init__(
        self,
        on_connect: Callable[[AgiLink], None],
        *,
        max_buffer: int = 256 * 1024,
    ) -> None:
        self._conn = AgiConnection()
        self._loop = asyncio.get_running_loop()
        self._on_connect = on_connect
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._max_buffer = max_buffer
        self.transport: asyncio.Transport | None = None

    @property
    def conn(self) -> AgiConnection:
        return self._conn

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._on_connect(self)

    def data_received(self, data: bytes) -> None:
        self._conn.receive_data(data)
        self._wake()
        if self._waiter is None and self._conn.buffered > self._max_buffer:
            # Nobody is reading (the handler is busy elsewhere): stop the flood at the socket.
            assert self.transport is not None
            self.transport.pause_reading()
            self._paused = True

    def eof_received(self) -> bool:
        self._conn.receive_data(b"")
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._conn.eof:
            self._conn.receive_data(b"")
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- used by the session

    @property
    def peer(self) -> str:
        """``host:port`` of Asterisk, for logs (computed on demand: logs are rare)."""
        if self.transport is None:
            return "?"
        peer = self.transport.get_extra_info("peername")
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def next_event(self) -> Event:
        conn = self._conn
        while True:
            event = conn.next_event()
            if event is not NEED_DATA:
                return cast(Event, event)
            if self._paused:
                assert self.transport is not None
                self._paused = False
                self.transport.resume_reading()
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None

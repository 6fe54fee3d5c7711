"""``/api/v1/ws``: live state over a WebSocket (protocol in ``hotline.live.hub``).

Authentication: the first message ``{"op": "auth", "token": "..."}`` (preferred: the token stays
out of URLs and access logs) or ``?token=...``. Then, from the client:
``{"op": "subscribe", "streams": ["queue:*", "agent:1001"]}``, ``{"op": "unsubscribe", ...}``,
``{"op": "snapshot", "stream": ...}`` after a gap in ``seq``, ``{"op": "ping"}``.

Who may subscribe to what: queue streams, every role; ``agent:<id>``, the agent itself,
supervisors and admins; ``agents`` and ``calls``, supervisors and admins. Close codes: 4401
not authenticated, 4008 cut off for reading too slowly (reconnect and take a snapshot), 1013
live state not available.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from cti.settings import ApiSettings
from hotline.api.auth import Principal, authenticate
from hotline.api.deps import ApiConfig, Services
from hotline.live.hub import (
    AGENT_PREFIX,
    AGENTS,
    ALL_QUEUES,
    CALLS,
    QUEUE_PREFIX,
    LiveClient,
    LiveHub,
    SlowClient,
)

log = logging.getLogger("hotline.api.ws")
router = APIRouter()
AUTH_TIMEOUT_S = 5.0
CLOSE_UNAUTHENTICATED, CLOSE_TOO_SLOW, CLOSE_UNAVAILABLE = 4401, 4008, 1013
MAX_STREAMS = 500


def may_subscribe(principal: Principal, stream: str) -> bool:
    if stream == ALL_QUEUES or stream.startswith(QUEUE_PREFIX):
        return True
    if principal.role in ("supervisor", "admin"):
        return stream in (AGENTS, CALLS) or stream.startswith(AGENT_PREFIX)
    if principal.role == "agent" and principal.agent_id is not None:
        return stream == AGENT_PREFIX + principal.agent_id
    return False


async def _first_message_auth(websocket: WebSocket, settings: ApiSettings) -> Principal | None:
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            message = orjson.loads(await websocket.receive_text())
    except (TimeoutError, orjson.JSONDecodeError, WebSocketDisconnect, KeyError):
        return None
    if not isinstance(message, dict) or message.get("op") != "auth":
        return None
    token = message.get("token")
    return authenticate(settings, token) if isinstance(token, str) else None


def _reply(client: LiveClient, kind: str, **fields: Any) -> None:
    client.offer(orjson.dumps({"type": kind, **fields}).decode())


def _handle(hub: LiveHub, client: LiveClient, principal: Principal, text: str) -> None:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        _reply(client, "error", error="not JSON")
        return
    op = message.get("op") if isinstance(message, dict) else None
    if op in ("subscribe", "unsubscribe"):
        streams = message.get("streams")
        if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
            _reply(client, "error", error="streams must be a list of names")
            return
        if op == "unsubscribe":
            hub.unsubscribe(client, streams)
            return
        allowed = [s for s in streams if may_subscribe(principal, s)]
        for stream in streams:
            if stream not in allowed:
                _reply(client, "error", error="forbidden", stream=stream)
        if len(client.streams) + len(allowed) > MAX_STREAMS:
            _reply(client, "error", error="too many streams")
            return
        try:
            hub.subscribe(client, allowed)
        except KeyError as exc:
            _reply(client, "error", error="no such stream", stream=str(exc.args[0]))
    elif op == "snapshot" and isinstance(message.get("stream"), str):
        hub.resend_snapshot(client, message["stream"])
    elif op == "ping":
        _reply(client, "pong")
    else:
        _reply(client, "error", error="unknown op")


async def _write(websocket: WebSocket, client: LiveClient) -> None:
    with contextlib.suppress(SlowClient, StopAsyncIteration):
        while True:
            for text in await client.next_batch():
                await websocket.send_text(text)


async def _read(websocket: WebSocket, hub: LiveHub, client: LiveClient, who: Principal) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            _handle(hub, client, who, await websocket.receive_text())


@router.websocket("/api/v1/ws")
async def live_socket(
    websocket: WebSocket, services: Services, settings: ApiConfig, token: str | None = None
) -> None:
    await websocket.accept()
    hub = services.live
    if hub is None:
        await websocket.close(CLOSE_UNAVAILABLE, "live state not available")
        return
    principal = (
        authenticate(settings, token)
        if token is not None
        else await _first_message_auth(websocket, settings)
    )
    if principal is None:
        await websocket.close(CLOSE_UNAUTHENTICATED, "not authenticated")
        return
    writer: asyncio.Task[None] | None = None

    def cut_off() -> None:
        # The writer may be stuck on a full socket: cancel it rather than wait.
        if writer is not None:
            writer.cancel()

    client = hub.connect(on_cut_off=cut_off)
    _reply(client, "hello", role=principal.role, agent_id=principal.agent_id)
    writer = asyncio.create_task(_write(websocket, client), name="ws-writer")
    reader = asyncio.create_task(_read(websocket, hub, client, principal), name="ws-reader")
    try:
        await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        too_slow = client.cut_off
        hub.disconnect(client)
        for task in (writer, reader):
            task.cancel()
        for task in (writer, reader):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if too_slow:
        log.info("websocket client cut off: too slow", extra={"who": principal.name})
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await websocket.close(CLOSE_TOO_SLOW, "too slow; reconnect")

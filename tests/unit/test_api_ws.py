"""The live WebSocket on a real server socket: authentication, snapshot then deltas, gap
recovery, what each role may subscribe to, the screen pop, and slow clients cut off."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from cti.events import AgentLoggedIn, CallOffered, CallQueued, CallStarted
from hotline.api.app import create_app
from tests.fakes.live import AGENT_1001, SUPERVISOR, WALLBOARD, World, make_world, serve_app


@pytest.fixture
async def world() -> AsyncIterator[tuple[World, str]]:
    world = make_world(ws_buffer=8)
    async with serve_app(create_app(world.settings, world.services)) as address:
        yield world, f"ws://{address}/api/v1/ws"


async def receive(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(3):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def login(ws: ClientConnection, token: str) -> dict[str, Any]:
    await ws.send(json.dumps({"op": "auth", "token": token}))
    return await receive(ws)


async def test_first_message_auth_and_query_token(world: tuple[World, str]) -> None:
    _, url = world
    async with connect(url) as ws:
        hello = await login(ws, WALLBOARD)
        assert (hello["type"], hello["role"]) == ("hello", "wallboard")
    async with connect(f"{url}?token={AGENT_1001}") as ws:
        hello = await receive(ws)
        assert (hello["role"], hello["agent_id"]) == ("agent", "1001")


@pytest.mark.parametrize(
    "first", [{"op": "auth", "token": "wrong-token-0123456789"}, {"op": "ping"}]
)
async def test_bad_auth_closes_4401(world: tuple[World, str], first: dict[str, str]) -> None:
    _, url = world
    async with connect(url) as ws:
        await ws.send(json.dumps(first))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_snapshot_deltas_and_gap_recovery(world: tuple[World, str]) -> None:
    w, url = world
    async with connect(url) as ws:
        await login(ws, WALLBOARD)
        await ws.send(json.dumps({"op": "subscribe", "streams": ["queue:cards"]}))
        snapshot = await receive(ws)
        assert (snapshot["type"], snapshot["stream"], snapshot["data"]["waiting"]) == (
            "snapshot",
            "queue:cards",
            0,
        )
        base = snapshot["seq"]
        for n in range(3):
            w.hub.process(CallQueued(call_id=f"c{n}", queue="cards"))
            w.hub.flush()
        deltas = [await receive(ws) for _ in range(3)]
        assert [d["seq"] for d in deltas] == [base + 1, base + 2, base + 3]
        assert [d["data"]["waiting"] for d in deltas] == [1, 2, 3]
        # The client noticed a jump (say it lost base+2): it asks for the state again.
        await ws.send(json.dumps({"op": "snapshot", "stream": "queue:cards"}))
        fresh = await receive(ws)
        assert (fresh["type"], fresh["seq"], fresh["data"]["waiting"]) == ("snapshot", base + 3, 3)


async def test_roles_limit_subscriptions(world: tuple[World, str]) -> None:
    _, url = world
    async with connect(url) as ws:
        await login(ws, AGENT_1001)
        await ws.send(
            json.dumps({"op": "subscribe", "streams": ["agent:1002", "calls", "agent:1001"]})
        )
        replies = [await receive(ws) for _ in range(3)]
    errors = {r["stream"] for r in replies if r["type"] == "error"}
    assert errors == {"agent:1002", "calls"}
    assert [r["stream"] for r in replies if r["type"] == "snapshot"] == ["agent:1001"]
    async with connect(url) as ws:
        await login(ws, WALLBOARD)
        await ws.send(json.dumps({"op": "subscribe", "streams": ["agents"]}))
        assert (await receive(ws))["error"] == "forbidden"
    async with connect(url) as ws:
        await login(ws, SUPERVISOR)
        await ws.send(json.dumps({"op": "subscribe", "streams": ["agents", "calls", "agent:1002"]}))
        assert {(await receive(ws))["type"] for _ in range(3)} == {"snapshot"}


async def test_screen_pop_on_the_agents_own_channel(world: tuple[World, str]) -> None:
    w, url = world
    async with connect(url) as ws:
        await login(ws, AGENT_1001)
        await ws.send(json.dumps({"op": "subscribe", "streams": ["agent:1001"]}))
        await receive(ws)
        w.hub.process(AgentLoggedIn(agent_id="1001"))
        w.hub.process(CallStarted(call_id="c1", caller="13800138000"))
        w.hub.process(
            CallQueued(call_id="c1", queue="cards", language="zh", fields={"pin": "1234"})
        )
        w.hub.process(
            CallOffered(
                call_id="c1", queue="cards", agent_id="1001", decision=1, device="PJSIP/1001",
                ring_timeout_s=15,
            )
        )  # fmt: skip
        while True:
            message = await receive(ws)
            if message["data"].get("call"):
                break
    call = message["data"]["call"]
    assert message["data"]["agent"]["state"] == "reserved"
    assert (call["caller"], call["language"], call["fields"]) == (
        "13800138000",
        "zh",
        {"pin": "****"},
    )


async def test_a_slow_client_is_cut_off_and_a_fast_one_is_not(world: tuple[World, str]) -> None:
    w, url = world
    # The slow client never reads: its socket fills, then its outbox (8 messages), and it is
    # closed with 4008. Big call data makes the socket fill quickly.
    # A small receive window on the slow side, so the server's socket fills within a few MB.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", int(url.split(":")[2].split("/")[0])))
    async with connect(url, sock=raw, compression=None) as slow, connect(url) as fast:
        for ws in (slow, fast):
            await login(ws, SUPERVISOR)
            await ws.send(json.dumps({"op": "subscribe", "streams": ["calls"]}))
            await receive(ws)
        slow.transport.pause_reading()  # the TCP window closes: the server's sends pile up
        for n in range(2000):
            w.hub.process(CallStarted(call_id=f"c{n}", caller="x" * 16000))
            await receive(fast)  # the fast client reads every one, so it is never behind
            if w.hub.cut_offs or any(c.cut_off for c in w.hub.clients):
                break
        assert any(c.cut_off for c in w.hub.clients) or w.hub.cut_offs
        slow.transport.resume_reading()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                while True:
                    await slow.recv()
        assert closed.value.rcvd is None or closed.value.rcvd.code == 4008
        await fast.send(json.dumps({"op": "ping"}))
        assert (await receive(fast))["type"] == "pong"
    assert w.hub.cut_offs == 1

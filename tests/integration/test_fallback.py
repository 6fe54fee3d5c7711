"""The dialplan's safety net on the real Asterisk: callers reach the native queue when
Hotline's FastAGI server is unreachable, dies mid-session, or writes no usable route."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from tests.integration.pbx import PbxUnderTest

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_env(reader: asyncio.StreamReader) -> dict[str, str]:
    env: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\n", b""):
        key, _, value = line.decode().rstrip("\n").partition(": ")
        env[key] = value
    return env


def _waiting_callers(pbx: PbxUnderTest) -> int:
    out = pbx.cli("queue show hotline-fallback")
    match = re.search(r"has (\d+) calls", out)
    assert match, out
    return int(match.group(1))


async def _fake_agi(behaviour: Behaviour, port: int) -> asyncio.Server:
    return await asyncio.start_server(behaviour, "127.0.0.1", port)


def _originate(pbx: PbxUnderTest, did: str = "95555") -> None:
    pbx.cli(f"channel originate Local/{did}@hotline-entry application Wait 20")


async def test_unreachable_fastagi_falls_back_to_native_queue(clean_pbx: PbxUnderTest) -> None:
    # Nothing listens on the FastAGI port: AGI() sets AGISTATUS=FAILURE.
    await asyncio.to_thread(_originate, clean_pbx)
    await clean_pbx.cli_until("queue show hotline-fallback", r"has 1 calls")


async def test_fastagi_dying_mid_session_falls_back(clean_pbx: PbxUnderTest) -> None:
    seen: list[dict[str, str]] = []

    async def die_after_env(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_env(reader))
        writer.write(b"ANSWER\n")
        await writer.drain()
        await reader.readline()
        writer.close()  # the CTI crashes: AGISTATUS stays SUCCESS, no route was written

    server = await _fake_agi(die_after_env, clean_pbx.agi_port)
    async with server:
        await asyncio.to_thread(_originate, clean_pbx)
        await clean_pbx.cli_until("queue show hotline-fallback", r"has 1 calls")
    assert seen and seen[0]["agi_network_script"] == "ivr?did=95555"
    assert seen[0]["agi_extension"] == "95555"


async def test_route_written_by_cti_is_followed(clean_pbx: PbxUnderTest) -> None:
    routed = asyncio.Event()

    async def route_hangup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_env(reader)
        writer.write(b'SET VARIABLE HOTLINE_ROUTE "hangup"\n')
        await writer.drain()
        if (await reader.readline()).startswith(b"200 result=1"):
            routed.set()
        writer.close()

    server = await _fake_agi(route_hangup, clean_pbx.agi_port)
    async with server:
        await asyncio.to_thread(_originate, clean_pbx)
        await asyncio.wait_for(routed.wait(), 8)
        await clean_pbx.cli_until("core show channels count", r"\b0 active channels")
    assert _waiting_callers(clean_pbx) == 0


async def test_unknown_route_falls_back(clean_pbx: PbxUnderTest) -> None:
    async def route_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_env(reader)
        writer.write(b'SET VARIABLE HOTLINE_ROUTE "no-such-route"\n')
        await writer.drain()
        await reader.readline()
        writer.close()

    server = await _fake_agi(route_garbage, clean_pbx.agi_port)
    async with server:
        await asyncio.to_thread(_originate, clean_pbx)
        await clean_pbx.cli_until("queue show hotline-fallback", r"has 1 calls")

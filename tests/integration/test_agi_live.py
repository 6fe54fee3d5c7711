"""Our FastAGI server against the real Asterisk 22 (Local channels, no SIP).

``channel originate Local/95555@hotline-entry application SendDTMF ...``: leg ;2 runs the
hotline-entry dialplan, whose AGI() reaches us on ``pbx.agi_port``; leg ;1 sends the DTMF once
we answer, then hangs up, which hangs up our leg.

Set ``HOTLINE_RECORD_AGI_FIXTURE=1`` to (re)write the recorded transcript in tests/fixtures/agi.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from cti.agi import (
    AgiCommandFailed,
    AgiConnection,
    AgiHangup,
    AgiServer,
    AgiSession,
    ConnectionClosed,
    EnvironmentReceived,
    HangupReceived,
    NeedData,
    ReplyReceived,
)
from cti.agi.codec import State
from cti.settings import AgiSettings
from tests.integration.pbx import PbxUnderTest

pytestmark = pytest.mark.pbx

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "agi" / "live_asterisk22_ivr.json"
Handler = Callable[[AgiSession], Awaitable[None]]


class Recorder:
    """A transparent TCP proxy on the dialplan's FastAGI port that keeps Asterisk's bytes."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.from_asterisk: list[bytes] = []
        self.to_asterisk: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, log: list[bytes]
        ) -> None:
            while data := await src.read(65536):
                log.append(data)
                dst.write(data)
            dst.close()

        await asyncio.gather(
            pipe(reader, up_writer, self.from_asterisk),
            pipe(up_reader, writer, self.to_asterisk),
            return_exceptions=True,
        )


@asynccontextmanager
async def agi_server(
    pbx: PbxUnderTest, handler: Handler, recorder: bool = False
) -> AsyncIterator[tuple[AgiServer, Recorder | None]]:
    settings = AgiSettings.model_validate(
        {"host": "127.0.0.1", "port": pbx.agi_port, "idle_timeout_s": 20}
    )
    proxy: asyncio.Server | None = None
    rec: Recorder | None = None
    if recorder:
        settings = settings.model_copy(update={"port": 0})
    server = AgiServer(settings, {"ivr": handler})
    await server.start()
    if recorder:
        rec = Recorder(server.port)
        proxy = await asyncio.start_server(rec.handle, "127.0.0.1", pbx.agi_port)
    try:
        yield server, rec
    finally:
        if proxy is not None:
            proxy.close()
        await server.stop()
        if proxy is not None:
            await proxy.wait_closed()


def originate(pbx: PbxUnderTest, application: str) -> None:
    pbx.cli(f"channel originate Local/95555@hotline-entry application {application}")


async def test_real_call_environment_dtmf_variables_prompt_and_hangup(
    clean_pbx: PbxUnderTest,
) -> None:
    seen: dict[str, Any] = {}
    done = asyncio.Event()

    async def ivr(session: AgiSession) -> None:
        try:
            seen["env"] = session.env
            seen["script"], seen["args"] = session.script, session.args
            await session.answer()
            await session.set_variable("HOTLINE_TEST", 'a "quoted" value \\ ok')
            seen["var"] = await session.get_variable("HOTLINE_TEST")
            seen["unset"] = await session.get_variable("HOTLINE_NEVER_SET")
            seen["did"] = await session.get_full_variable("${HOTLINE_DID}")
            seen["beep"] = await session.stream_file("beep")
            seen["digits"] = await session.get_data("silence/1", 3000, 4)
            seen["digit"] = await session.wait_for_digit(3000)
            try:
                for _ in range(20):  # leg ;1 hangs up once SendDTMF is done
                    await session.wait_for_digit(1000)
            except AgiHangup as exc:
                seen["hangup"] = exc
            # Known dead: refused at once, without a round trip.
            try:
                await session.verbose("never sent")
            except AgiHangup:
                seen["refused"] = True
        except Exception as exc:  # surfaced by the assertions below
            seen["error"] = exc
        finally:
            done.set()

    record = bool(os.environ.get("HOTLINE_RECORD_AGI_FIXTURE"))
    async with agi_server(clean_pbx, ivr, recorder=record) as (server, rec):
        await asyncio.to_thread(originate, clean_pbx, "SendDTMF wwww1234w9")
        await asyncio.wait_for(done.wait(), 20)
        await clean_pbx.cli_until("core show channels count", r"\b0 active channels")

    assert "error" not in seen, seen.get("error")
    env = seen["env"]
    assert env.extension == "95555"
    assert env.context == "hotline-entry"
    assert env.network_script == "ivr?did=95555"
    assert env.channel.startswith("Local/95555@hotline-entry-")
    assert env.raw["network"] == "yes"
    assert (seen["script"], seen["args"]) == ("ivr", {"did": "95555"})
    assert seen["var"] == 'a "quoted" value \\ ok'
    assert seen["unset"] is None
    assert seen["did"] == "95555"
    digit, endpos = seen["beep"]
    assert digit is None and endpos > 0
    assert seen["digits"] == ("1234", False)
    assert seen["digit"] == "9"
    assert isinstance(seen["hangup"], AgiHangup)
    assert seen["refused"] is True
    assert server.stats.hangups == 1 and server.stats.failed == 0
    if rec is not None:
        _write_fixture(rec)


@pytest.mark.parametrize("play_missing_sound", [False, True])
async def test_missing_sound_is_a_failure_not_a_hangup(
    clean_pbx: PbxUnderTest, play_missing_sound: bool
) -> None:
    seen: dict[str, Any] = {}
    done = asyncio.Event()

    async def ivr(session: AgiSession) -> None:
        try:
            await session.answer()
            if play_missing_sound:
                try:
                    await session.stream_file("hotline-no-such-sound")
                except AgiCommandFailed as exc:
                    seen["failed"] = exc
            seen["status"] = await session.channel_status()  # still alive and usable
            await session.set_variable("HOTLINE_ROUTE", "hangup")
        except Exception as exc:
            seen["error"] = exc
        finally:
            done.set()

    async with agi_server(clean_pbx, ivr):
        await asyncio.to_thread(originate, clean_pbx, "Wait 10")
        await asyncio.wait_for(done.wait(), 15)
        if play_missing_sound:
            # res_agi.c: a command that returns RESULT_FAILURE on a live channel makes the
            # whole AGI() end with AGISTATUS=FAILURE, so the dialplan takes its safety net
            # even though a route was written.
            await clean_pbx.cli_until("queue show hotline-fallback", r"has 1 calls")
        else:
            # The route we wrote is followed: the dialplan hangs up (before the 10 s Wait).
            await clean_pbx.cli_until("core show channels count", r"\b0 active channels")
    assert "error" not in seen, seen.get("error")
    assert seen["status"] == 6  # AST_STATE_UP
    if play_missing_sound:
        assert isinstance(seen["failed"], AgiCommandFailed)
        assert seen["failed"].reply.result == "-1"


async def test_caller_hangup_during_a_prompt(clean_pbx: PbxUnderTest) -> None:
    seen: dict[str, Any] = {}
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def ivr(session: AgiSession) -> None:
        try:
            await session.answer()
            seen["t0"] = loop.time()
            for _ in range(30):  # the other leg's Wait(1) ends, then it hangs up
                await session.stream_file("silence/1")
        except AgiHangup as exc:
            seen["hangup"] = exc
            seen["after_s"] = loop.time() - seen["t0"]
        except Exception as exc:
            seen["error"] = exc
        finally:
            done.set()

    async with agi_server(clean_pbx, ivr):
        await asyncio.to_thread(originate, clean_pbx, "Wait 1")
        await asyncio.wait_for(done.wait(), 15)
    assert "error" not in seen, seen.get("error")
    assert isinstance(seen["hangup"], AgiHangup)
    assert seen["after_s"] < 5


def _write_fixture(rec: Recorder) -> None:
    """Store Asterisk's bytes line by line with what our codec makes of them (hand-checked)."""
    stream = b"".join(rec.from_asterisk)
    conn = AgiConnection()
    conn.receive_data(stream)
    conn.receive_data(b"")
    expected: list[list[Any]] = []
    while True:
        if conn.state is State.IDLE:
            conn.send_command(["NOOP"])
        event = conn.next_event()
        if isinstance(event, NeedData):
            break
        if isinstance(event, EnvironmentReceived):
            env = event.env
            expected.append(
                [
                    "env",
                    {
                        "context": env.context,
                        "extension": env.extension,
                        "script": env.script,
                        "query": env.query,
                        "args": env.args,
                    },
                ]
            )
        elif isinstance(event, ReplyReceived):
            reply = event.reply
            entry: dict[str, Any] = {"code": reply.code}
            if reply.result is not None:
                entry["result"] = reply.result
            if reply.data is not None:
                entry["data"] = reply.data
            expected.append(["reply", entry])
        elif isinstance(event, HangupReceived):
            expected.append(["hangup", {}])
        elif isinstance(event, ConnectionClosed):
            expected.append(["closed", {}])
    commands = b"".join(rec.to_asterisk).decode().splitlines()
    document = {
        "source": "recorded from Asterisk 22 by tests/integration/test_agi_live.py",
        "commands": commands,
        "from_asterisk": stream.decode().splitlines(keepends=True),
        "expected": expected,
    }
    FIXTURE.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")

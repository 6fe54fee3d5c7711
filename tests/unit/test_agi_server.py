"""AgiServer and AgiSession against real TCP clients on 127.0.0.1 that play Asterisk, on a
loop whose clock jumps (``tests.fakes.virtual_time``): watchdogs, deadlines and grace periods
fire in order without the test waiting for them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cti.agi import (
    AgiCommandFailed,
    AgiDeadChannel,
    AgiHangup,
    AgiInvalidCommand,
    AgiServer,
    AgiSession,
    AgiTimeoutError,
    AgiUsageError,
)
from cti.settings import AgiSettings
from tests.fakes.virtual_time import in_virtual_time

Handler = Callable[[AgiSession], Awaitable[None]]


class FakeAsterisk:
    """The Asterisk end of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def call(
        cls, port: int, script: str = "ivr?did=95555", *, send_env: bool = True, **env: str
    ) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = cls(reader, writer)
        if send_env:
            fields = {
                "network": "yes",
                "network_script": script,
                "request": f"agi://127.0.0.1:{port}/{script}",
                "channel": "Local/95555@hotline-entry-00000001;2",
                "uniqueid": "1732820000.1",
                "context": "hotline-entry",
                "extension": "95555",
                "priority": "2",
                **env,
            }
            writer.write("".join(f"agi_{k}: {v}\n" for k, v in fields.items()).encode() + b"\n")
        return peer

    async def command(self) -> str:
        line = await asyncio.wait_for(self.reader.readline(), 5)
        assert line.endswith(b"\n"), f"connection closed, got {line!r}"
        return line[:-1].decode()

    def send(self, *lines: str) -> None:
        self.writer.write("".join(line + "\n" for line in lines).encode())

    async def expect(self, command: str, *reply: str) -> None:
        assert await self.command() == command
        self.send(*reply)

    async def closed(self, within_s: float = 5) -> bool:
        """True when the server closed the connection (EOF), without unread commands."""
        data = await asyncio.wait_for(self.reader.read(), within_s)
        return data == b""

    def close(self) -> None:
        self.writer.close()


class Recorder:
    """Collects what handlers saw, for assertions after the session."""

    def __init__(self) -> None:
        self.results: list[Any] = []
        self.done = asyncio.Event()


def settings(**overrides: Any) -> AgiSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "idle_timeout_s": 5.0,
        "env_timeout_s": 2.0,
        "shutdown_grace_s": 1.0,
    }
    values.update(overrides)
    return AgiSettings(**values)


async def serve(routes: dict[str, Handler], **overrides: Any) -> AgiServer:
    server = AgiServer(settings(**overrides), routes)
    await server.start()
    return server


async def wait_until(predicate: Callable[[], bool], within_s: float = 5) -> None:
    """Poll server counters (they have no event to wait on; a test helper only)."""
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


# ---------------------------------------------------------------------------- happy path


@in_virtual_time
async def test_happy_path_session() -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        seen.results.append((session.script, session.args, session.env.extension))
        await session.answer()
        seen.results.append(await session.stream_file("welcome", "12"))
        seen.results.append(await session.get_data("silence/1", 3000, 4))
        seen.results.append(await session.get_data("menu", 3000, 4))
        seen.results.append(await session.wait_for_digit(2000))
        seen.results.append(await session.wait_for_digit(2000))
        await session.set_variable("HOTLINE_ROUTE", "hold queue")
        seen.results.append(await session.get_variable("HOTLINE_ROUTE"))
        seen.results.append(await session.get_variable("UNSET"))
        seen.results.append(await session.get_full_variable("${CALLERID(num)}"))
        seen.results.append(await session.exec("Playback", "beep", "noanswer"))
        seen.results.append(await session.channel_status())
        await session.say_digits("123")
        await session.say_number(42)
        await session.say_alpha("abc")
        await session.set_music(True, "default")
        await session.verbose('hello "world"', 3)
        await session.set_context("hotline-route")
        await session.set_extension("hold")
        await session.set_priority(1)
        seen.results.append(await session.record_file("/tmp/r", "wav", "#", 5000, beep=True))
        await session.hangup()

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port, "ivr?did=95555&lang=zh")
        await peer.expect("ANSWER", "200 result=0")
        await peer.expect("STREAM FILE welcome 12", "200 result=50 endpos=4000")
        await peer.expect("GET DATA silence/1 3000 4", "200 result=1234")
        await peer.expect("GET DATA menu 3000 4", "200 result= (timeout)")
        await peer.expect("WAIT FOR DIGIT 2000", "200 result=57")
        await peer.expect("WAIT FOR DIGIT 2000", "200 result=0")
        await peer.expect('SET VARIABLE HOTLINE_ROUTE "hold queue"', "200 result=1")
        await peer.expect("GET VARIABLE HOTLINE_ROUTE", "200 result=1 (hold queue)")
        await peer.expect("GET VARIABLE UNSET", "200 result=0")
        await peer.expect("GET FULL VARIABLE ${CALLERID(num)}", "200 result=1 (13800138000)")
        await peer.expect("EXEC Playback beep,noanswer", "200 result=0")
        await peer.expect("CHANNEL STATUS", "200 result=6")
        await peer.expect('SAY DIGITS 123 ""', "200 result=0")
        await peer.expect('SAY NUMBER 42 ""', "200 result=0")
        await peer.expect('SAY ALPHA abc ""', "200 result=0")
        await peer.expect("SET MUSIC ON default", "200 result=0")
        await peer.expect('VERBOSE "hello \\"world\\"" 3', "200 result=1")
        await peer.expect("SET CONTEXT hotline-route", "200 result=0")
        await peer.expect("SET EXTENSION hold", "200 result=0")
        await peer.expect("SET PRIORITY 1", "200 result=0")
        await peer.expect("RECORD FILE /tmp/r wav # 5000 BEEP", "200 result=35 (dtmf) endpos=800")
        await peer.expect("HANGUP", "200 result=1", "HANGUP")
        assert await peer.closed()
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()

    assert seen.results[0] == ("ivr", {"did": "95555", "lang": "zh"}, "95555")
    assert seen.results[1:] == [
        ("2", 4000),
        ("1234", False),
        ("", True),
        "9",
        None,
        "hold queue",
        None,
        "13800138000",
        0,
        6,
        seen.results[-1],
    ]
    record = seen.results[-1]
    assert (record.digit, record.endpos, record.reason) == ("#", 800, "dtmf")
    stats = server.stats
    assert (stats.started, stats.completed, stats.failed, stats.active) == (1, 1, 0, 0)


@in_virtual_time
async def test_typed_errors_for_510_511_520() -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        for words in (("FOO",), ("GET", "DATA")):
            try:
                await session.command(*words)
            except (AgiInvalidCommand, AgiUsageError) as exc:
                seen.results.append(exc)
        try:
            await session.answer()
        except AgiDeadChannel as exc:
            seen.results.append(exc)
        try:
            await session.verbose("after")
        except AgiHangup as exc:
            seen.results.append(exc)

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port)
        await peer.expect("FOO", "510 Invalid or unknown command")
        await peer.expect(
            "GET DATA",
            "520-Invalid command syntax.  Proper usage follows:",
            " Usage: GET DATA <file to be streamed> [timeout] [max digits]",
            "520 End of proper usage.",
        )
        await peer.expect("ANSWER", "511 Command Not Permitted on a dead channel")
        assert await peer.closed()  # VERBOSE never sent: the channel is known dead
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    invalid, usage, dead, after = seen.results
    assert isinstance(invalid, AgiInvalidCommand) and invalid.code == 510
    assert isinstance(usage, AgiUsageError) and "Usage: GET DATA" in usage.usage
    assert isinstance(dead, AgiDeadChannel) and isinstance(dead, AgiHangup)
    assert isinstance(after, AgiHangup)
    assert server.stats.completed == 1


# ---------------------------------------------------------------------------- hangups


@in_virtual_time
async def test_hangup_line_before_the_reply() -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        try:
            await session.get_data("menu", 3000, 4)
        except AgiHangup as exc:
            seen.results.append(exc.reason)
        seen.results.append(session.hung_up)
        try:
            await session.set_variable("A", "1")  # must not reach the wire
        except AgiHangup:
            seen.results.append("refused")
        await session.hangup()  # no-op on a dead channel

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port)
        await peer.expect("GET DATA menu 3000 4", "HANGUP", "200 result=-1")
        assert await peer.closed()
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert seen.results == ["HANGUP received", True, "refused"]


@pytest.mark.parametrize(
    ("probe_reply", "expected"),
    [
        (["HANGUP", "511 Command Not Permitted on a dead channel or intercept routine"], AgiHangup),
        (["200 result=6"], AgiCommandFailed),
    ],
)
@in_virtual_time
async def test_minus_one_is_told_apart_by_channel_status(
    probe_reply: list[str],
    expected: type[Exception],
) -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        try:
            await session.stream_file("maybe-missing")
        except Exception as exc:
            seen.results.append(exc)

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port)
        await peer.expect('STREAM FILE maybe-missing ""', "200 result=-1 endpos=0")
        await peer.expect("CHANNEL STATUS", *probe_reply)
        assert await peer.closed()
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert isinstance(seen.results[0], expected)


@in_virtual_time
async def test_peer_closes_mid_command(caplog: pytest.LogCaptureFixture) -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        try:
            await session.stream_file("long-prompt")
        except AgiHangup as exc:
            seen.results.append(exc.reason)
            raise

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port)
        assert await peer.command() == 'STREAM FILE long-prompt ""'
        peer.writer.write(b"200 resu")  # half a reply, then the line drops
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    # Half a line then EOF: a protocol error, logged with the call's context; not a crash.
    assert server.stats.failed == 1
    record = next(r for r in caplog.records if "protocol error" in r.getMessage())
    assert record.__dict__["channel"] == "Local/95555@hotline-entry-00000001;2"
    assert record.__dict__["script"] == "ivr"


@in_virtual_time
async def test_peer_closes_between_lines() -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        try:
            await session.answer()
        except AgiHangup as exc:
            seen.results.append(exc.reason)

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port)
        assert await peer.command() == "ANSWER"
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert seen.results == ["connection closed by Asterisk"]
    assert server.stats.completed == 1


# ---------------------------------------------------------------------------- misbehaving peers


@in_virtual_time
async def test_unknown_route_says_why_and_closes(caplog: pytest.LogCaptureFixture) -> None:
    server = await serve({"ivr": _never_called})
    try:
        peer = await FakeAsterisk.call(server.port, "nope?x=1")
        line = await peer.command()
        assert line.startswith("VERBOSE ") and "nope" in line
        peer.send("200 result=1")
        assert await peer.closed()
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert server.stats.unknown_routes == 1
    assert any(r.__dict__.get("script") == "nope" for r in caplog.records)


async def _never_called(session: AgiSession) -> None:  # pragma: no cover
    raise AssertionError("not routed here")


@in_virtual_time
async def test_misbehaving_clients_do_not_disturb_a_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="cti.agi")
    release = asyncio.Event()
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        await session.answer()
        await release.wait()
        seen.results.append(await session.get_variable("X"))

    server = await serve({"ivr": ivr}, env_timeout_s=0.2)
    try:
        good = await FakeAsterisk.call(server.port)
        await good.expect("ANSWER", "200 result=0")
        # Closes at once; sends garbage; sends nothing at all; half an environment.
        (await FakeAsterisk.call(server.port, send_env=False)).close()
        garbage = await FakeAsterisk.call(server.port, send_env=False)
        garbage.writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        silent = await FakeAsterisk.call(server.port, send_env=False)
        half = await FakeAsterisk.call(server.port, send_env=False)
        half.writer.write(b"agi_channel: x\n")
        assert await garbage.closed()
        assert await silent.closed()
        assert await half.closed()
        for peer in (garbage, silent, half):
            peer.close()
        release.set()
        await good.expect("GET VARIABLE X", "200 result=1 (fine)")
        assert await good.closed()
        good.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert seen.results == ["fine"]
    assert (server.stats.completed, server.stats.failed) == (1, 4)
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "closed before sending an environment" in messages
    assert "bad AGI environment" in messages or "protocol error" in messages
    assert "environment timeout" in messages
    assert all("remote" in r.__dict__ for r in caplog.records if r.levelno >= logging.WARNING)


@in_virtual_time
async def test_handler_exception_is_logged_and_server_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def ivr(session: AgiSession) -> None:
        nonlocal calls
        calls += 1
        await session.answer()
        if calls == 1:
            raise RuntimeError("bug in the IVR")

    server = await serve({"ivr": ivr})
    try:
        for _ in range(2):
            peer = await FakeAsterisk.call(server.port)
            await peer.expect("ANSWER", "200 result=0")
            assert await peer.closed()
            peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert (server.stats.completed, server.stats.failed) == (1, 1)
    record = next(r for r in caplog.records if r.getMessage() == "AGI handler raised")
    assert record.exc_info is not None and "bug in the IVR" in str(record.exc_info[1])
    assert record.__dict__["uniqueid"] == "1732820000.1"


@in_virtual_time
async def test_idle_watchdog_ends_a_stuck_handler(caplog: pytest.LogCaptureFixture) -> None:
    cancelled = asyncio.Event()

    async def ivr(session: AgiSession) -> None:
        await session.answer()
        try:
            await asyncio.sleep(3600)  # a handler stuck on something that is not AGI
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = await serve({"ivr": ivr}, idle_timeout_s=0.2)
    try:
        peer = await FakeAsterisk.call(server.port)
        await peer.expect("ANSWER", "200 result=0")
        assert await peer.closed(within_s=3)
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert cancelled.is_set()
    assert server.stats.failed == 1
    assert any("idle timeout" in r.getMessage() for r in caplog.records)


@in_virtual_time
async def test_waiting_for_asterisk_is_not_idleness() -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        seen.results.append(await session.get_data("long", 10000, 4))

    server = await serve({"ivr": ivr}, idle_timeout_s=0.1)
    try:
        peer = await FakeAsterisk.call(server.port)
        assert await peer.command() == "GET DATA long 10000 4"
        await asyncio.sleep(0.4)  # Asterisk is playing a long prompt
        peer.send("200 result=42")
        assert await peer.closed()
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert seen.results == [("42", False)]
    assert server.stats.completed == 1


@in_virtual_time
async def test_reply_timeout() -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        try:
            await session.command("NOOP", timeout_s=0.05)
        except AgiTimeoutError as exc:
            seen.results.append(exc)

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port)
        assert await peer.command() == "NOOP"
        assert await peer.closed()
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert isinstance(seen.results[0], TimeoutError)


@in_virtual_time
async def test_concurrent_commands_on_one_session_are_refused() -> None:
    seen = Recorder()

    async def ivr(session: AgiSession) -> None:
        first = asyncio.create_task(session.answer())
        await asyncio.sleep(0.01)
        try:
            await session.verbose("second")
        except Exception as exc:
            seen.results.append(type(exc).__name__)
        seen.done.set()
        await first

    server = await serve({"ivr": ivr})
    try:
        peer = await FakeAsterisk.call(server.port)
        assert await peer.command() == "ANSWER"
        await seen.done.wait()  # reply only once the second command was tried
        peer.send("200 result=0")
        assert await peer.closed()
        peer.close()
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert seen.results == ["AgiLocalProtocolError"]


# ---------------------------------------------------------------------------- shutdown


@in_virtual_time
async def test_graceful_stop_lets_sessions_finish_then_cancels() -> None:
    finished: list[str] = []

    async def quick(session: AgiSession) -> None:
        await asyncio.sleep(0.1)
        await session.answer()
        finished.append("quick")

    async def stuck(session: AgiSession) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            finished.append("stuck cancelled")
            raise

    server = await serve({"quick": quick, "stuck": stuck}, shutdown_grace_s=0.5)
    port = server.port
    peer_quick = await FakeAsterisk.call(server.port, "quick")
    peer_stuck = await FakeAsterisk.call(server.port, "stuck")
    await wait_until(lambda: server.stats.active == 2)

    async def answer_quick() -> None:
        await peer_quick.expect("ANSWER", "200 result=0")

    answering = asyncio.create_task(answer_quick())
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await server.stop()
    elapsed = loop.time() - t0
    await answering
    assert finished == ["quick", "stuck cancelled"]
    assert 0.4 < elapsed < 2.0
    # Not accepting any more.
    with pytest.raises(OSError):
        await FakeAsterisk.call(port, "quick")
    for peer in (peer_quick, peer_stuck):
        assert await peer.closed()
        peer.close()
    assert server.stats.active == 0
    assert server.sessions == frozenset()


@in_virtual_time
async def test_start_stop_leaves_no_tasks() -> None:
    async with AgiServer(settings(), {}) as server:
        assert server.port > 0
    assert asyncio.all_tasks() == {asyncio.current_task()}


@in_virtual_time
async def test_many_concurrent_sessions() -> None:
    async def ivr(session: AgiSession) -> None:
        await session.answer()
        value = await session.get_variable("N")
        await session.set_variable("ECHO", value or "")

    server = await serve({"ivr": ivr})

    async def one(n: int) -> None:
        peer = await FakeAsterisk.call(server.port)
        await peer.expect("ANSWER", "200 result=0")
        await peer.expect("GET VARIABLE N", f"200 result=1 ({n})")
        await peer.expect(f"SET VARIABLE ECHO {n}", "200 result=1")
        assert await peer.closed()
        peer.close()

    try:
        await asyncio.gather(*(one(n) for n in range(200)))
        await wait_until(lambda: server.stats.active == 0)
    finally:
        await server.stop()
    assert (server.stats.started, server.stats.completed) == (200, 200)

"""One FastAGI session: typed AGI commands over the sans-IO codec.

Invariants:
- One command at a time, by construction: the codec refuses a second ``send_command`` while
  a reply is pending (:class:`AgiLocalProtocolError`).
- Once the channel is known to be gone (``HANGUP`` line, 511, EOF, a ``result=-1`` confirmed
  as a hangup), every later command raises :class:`AgiHangup` without touching the socket;
  ``hangup()`` becomes a no-op.
- The idle watchdog (owned by the server) only runs while the handler is between commands:
  waiting for Asterisk (a long prompt, a ``Dial``) is not idleness.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from cti.agi.codec import ConnectionClosed, HangupReceived, ReplyReceived
from cti.agi.environment import AgiEnvironment
from cti.agi.errors import (
    AgiCommandError,
    AgiCommandFailed,
    AgiDeadChannel,
    AgiHangup,
    AgiInvalidCommand,
    AgiProtocolError,
    AgiReply,
    AgiTimeoutError,
    AgiUsageError,
)
from cti.agi.link import AgiLink

_ERRORS: dict[int, type[AgiCommandError]] = {
    510: AgiInvalidCommand,
    511: AgiDeadChannel,
    520: AgiUsageError,
}


@dataclass(frozen=True, slots=True)
class RecordResult:
    """Outcome of RECORD FILE: ``reason`` is "dtmf", "timeout" or "" (silence / max length)."""

    digit: str | None
    endpos: int
    reason: str


class AgiSession:
    """What a route handler gets: the call's environment and the AGI commands."""

    __slots__ = ("_hung_up", "_link", "_loop", "env", "idle_since")

    def __init__(self, env: AgiEnvironment, link: AgiLink) -> None:
        self.env = env
        self._link = link
        self._loop = asyncio.get_running_loop()
        self._hung_up = False
        # Monotonic time since the handler has been "between commands"; None while a command
        # is in flight. The server's watchdog reads it (no timer per command: cheaper).
        self.idle_since: float | None = self._loop.time()

    @property
    def script(self) -> str:
        return self.env.script

    @property
    def args(self) -> dict[str, str]:
        """Query arguments of the AGI URL (``ivr?did=95555`` → ``{"did": "95555"}``)."""
        return self.env.query

    @property
    def hung_up(self) -> bool:
        return self._hung_up

    # ------------------------------------------------------------------ the generic command

    async def command(self, *words: str, timeout_s: float | None = None) -> AgiReply:
        """Send one command (each word is one argv entry on Asterisk's side); return the reply.

        Raises the typed errors for 510/511/520 and :class:`AgiHangup` when the channel hung up
        before the reply came (the reply is still consumed, so the stream stays in step).
        """
        if self._hung_up:
            raise AgiHangup("channel already hung up")
        data = self._link.conn.send_command(words)
        self.idle_since = None
        try:
            self._link.write(data)
            if timeout_s is None:
                reply, hangup_seen = await self._read_reply()
            else:
                try:
                    async with asyncio.timeout(timeout_s):
                        reply, hangup_seen = await self._read_reply()
                except TimeoutError:
                    raise AgiTimeoutError(f"no reply to {words[0]} within {timeout_s}s") from None
        finally:
            # Even on errors: a handler that catches them must not escape the watchdog.
            self.idle_since = self._loop.time()
        if reply.code != 200:
            error = _ERRORS.get(reply.code, AgiCommandError)
            if error is AgiDeadChannel:
                self._hung_up = True
            raise error(reply)
        if hangup_seen and words[0].upper() != "HANGUP":
            raise AgiHangup("HANGUP received")
        return reply

    async def _read_reply(self) -> tuple[AgiReply, bool]:
        next_event = self._link.next_event
        hangup_seen = False
        while True:
            event = await next_event()
            if isinstance(event, ReplyReceived):
                return event.reply, hangup_seen
            if isinstance(event, HangupReceived):
                hangup_seen = self._hung_up = True
                continue
            if isinstance(event, ConnectionClosed):
                self._hung_up = True
                raise AgiHangup("connection closed by Asterisk")
            raise AgiProtocolError(f"unexpected event {event!r}")  # pragma: no cover

    async def _media(self, *words: str) -> AgiReply:
        """A command whose ``result=-1`` means "hangup or failure": ask which one.

        Asterisk answers -1 both when the caller hung up mid-prompt and when e.g. the sound file
        does not exist. ``CHANNEL STATUS`` is not allowed on a dead channel, so 511 (or a
        ``HANGUP`` line) tells us the caller is gone; a status reply means a real failure.
        """
        reply = await self.command(*words)
        if reply.result != "-1":
            return reply
        if reply.data == "hangup":
            self._hung_up = True
            raise AgiHangup("hangup during " + words[0])
        await self.command("CHANNEL", "STATUS")  # raises AgiHangup when the caller is gone
        raise AgiCommandFailed(" ".join(words[:2]), reply)

    # ------------------------------------------------------------------ typed commands

    async def answer(self) -> None:
        await self._media("ANSWER")

    async def hangup(self, channel: str | None = None) -> None:
        """Hang up this channel (or ``channel``). A no-op once the caller is gone."""
        if self._hung_up and channel is None:
            return
        words = ("HANGUP",) if channel is None else ("HANGUP", channel)
        with contextlib.suppress(AgiHangup):
            await self.command(*words)
        if channel is None:
            self._hung_up = True

    async def stream_file(
        self, file: str, escape_digits: str = "", sample_offset: int | None = None
    ) -> tuple[str | None, int]:
        """Play ``file``; return (digit pressed or None, end position in samples)."""
        words = ["STREAM", "FILE", file, escape_digits]
        if sample_offset is not None:
            words.append(str(sample_offset))
        reply = await self._media(*words)
        return _digit(reply), reply.endpos

    async def get_data(
        self, file: str, timeout_ms: int | None = None, max_digits: int | None = None
    ) -> tuple[str, bool]:
        """Play ``file`` and collect digits; return (digits, timed_out)."""
        words = ["GET", "DATA", file]
        if timeout_ms is not None:
            words.append(str(timeout_ms))
            if max_digits is not None:
                words.append(str(max_digits))
        elif max_digits is not None:
            # GET DATA's timeout is positional; 0 means Asterisk's default.
            words += ["0", str(max_digits)]
        reply = await self._media(*words)
        return reply.result or "", reply.data == "timeout"

    async def wait_for_digit(self, timeout_ms: int = -1) -> str | None:
        """Wait for one DTMF digit; None on timeout (-1 waits forever)."""
        reply = await self._media("WAIT", "FOR", "DIGIT", str(timeout_ms))
        return _digit(reply)

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None:
        return _digit(await self._media("SAY", "DIGITS", digits, escape_digits))

    async def say_number(
        self, number: int, escape_digits: str = "", gender: str | None = None
    ) -> str | None:
        words = ["SAY", "NUMBER", str(number), escape_digits]
        if gender is not None:
            words.append(gender)
        return _digit(await self._media(*words))

    async def say_alpha(self, text: str, escape_digits: str = "") -> str | None:
        return _digit(await self._media("SAY", "ALPHA", text, escape_digits))

    async def set_variable(self, name: str, value: str) -> None:
        await self.command("SET", "VARIABLE", name, value)

    async def get_variable(self, name: str) -> str | None:
        """``200 result=0`` means unset (None); ``200 result=1 (value)`` gives the value."""
        reply = await self.command("GET", "VARIABLE", name)
        return reply.data if reply.result == "1" else None

    async def get_full_variable(self, expression: str, channel: str | None = None) -> str | None:
        """Evaluate ``${...}`` expressions (functions, several variables) on the channel."""
        words = ["GET", "FULL", "VARIABLE", expression]
        if channel is not None:
            words.append(channel)
        reply = await self.command(*words)
        return reply.data if reply.result == "1" else None

    async def exec(self, application: str, *args: str) -> int:
        """Run a dialplan application; return its result (-1 after a hangup raises AgiHangup).

        Arguments are joined with "," (the dialplan's separator) into one AGI word.
        """
        words = ("EXEC", application, ",".join(args)) if args else ("EXEC", application)
        reply = await self.command(*words)
        result = reply.result_int
        if result == -2:
            raise AgiCommandFailed(f"EXEC {application}", reply)
        if result == -1:
            # Most applications return -1 only because the caller hung up; CHANNEL STATUS
            # tells (it raises AgiHangup on a dead channel).
            await self.command("CHANNEL", "STATUS")
        return result

    async def set_music(self, on: bool, music_class: str | None = None) -> None:
        words = ["SET", "MUSIC", "ON" if on else "OFF"]
        if music_class is not None:
            words.append(music_class)
        await self.command(*words)

    async def record_file(
        self,
        file: str,
        format: str = "wav",
        escape_digits: str = "#",
        timeout_ms: int = -1,
        *,
        offset_samples: int | None = None,
        beep: bool = False,
        silence_s: int | None = None,
    ) -> RecordResult:
        words = ["RECORD", "FILE", file, format, escape_digits, str(timeout_ms)]
        if offset_samples is not None:
            words.append(str(offset_samples))
        if beep:
            words.append("BEEP")
        if silence_s is not None:
            words.append(f"s={silence_s}")
        reply = await self._media(*words)
        reason = reply.data or ""
        digit = _digit(reply) if reason == "dtmf" else None
        return RecordResult(digit=digit, endpos=reply.endpos, reason=reason)

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command("VERBOSE", message, str(level))

    async def channel_status(self, channel: str | None = None) -> int:
        """Asterisk channel state (0 down … 6 up); see ``AST_STATE_*``."""
        words = ("CHANNEL", "STATUS") if channel is None else ("CHANNEL", "STATUS", channel)
        reply = await self.command(*words)
        if reply.result == "-1":
            raise AgiCommandFailed("CHANNEL STATUS", reply)
        return reply.result_int

    async def set_context(self, context: str) -> None:
        await self.command("SET", "CONTEXT", context)

    async def set_extension(self, extension: str) -> None:
        await self.command("SET", "EXTENSION", extension)

    async def set_priority(self, priority: int | str) -> None:
        await self.command("SET", "PRIORITY", str(priority))


def _digit(reply: AgiReply) -> str | None:
    """Commands that return "the ASCII code of the digit pressed, or 0"."""
    code = reply.result_int
    if code <= 0:
        return None
    try:
        return chr(code)
    except (ValueError, OverflowError):
        raise AgiProtocolError(f"bad digit code in {reply.raw!r}") from None

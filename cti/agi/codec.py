"""Sans-IO FastAGI codec, server side (h11 style: bytes in, events out, bytes to send).

Invariants:
- No IO here. Feed bytes with :meth:`AgiConnection.receive_data` (``b""`` means EOF), then call
  :meth:`AgiConnection.next_event` until it returns :data:`NEED_DATA`.
- One command in flight at a time: :meth:`AgiConnection.send_command` is only legal in
  ``IDLE``; the reply moves the state back to ``IDLE``.
- ``HANGUP`` may arrive in any state after the environment (before a reply, or between
  commands); it becomes a :class:`HangupReceived` event and does not change the state, because
  Asterisk still answers the command in flight.
- A line longer than ``max_line_bytes`` is a protocol error, so a peer cannot make us buffer
  without bound.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from cti.agi.environment import AgiEnvironment
from cti.agi.errors import (
    AgiInvalidArgument,
    AgiLocalProtocolError,
    AgiProtocolError,
    AgiReply,
)

# res_agi.c reads a command into char buf[AGI_BUF_LEN] (2048): longer lines would be split
# into two commands, so we refuse them.
MAX_COMMAND_BYTES: Final = 2047
# parse_args keeps MAX_ARGS - 1 = 127 words and drops the rest.
MAX_ARGS: Final = 127
DEFAULT_MAX_LINE_BYTES: Final = 16 * 1024
DEFAULT_MAX_ENV_LINES: Final = 512


class State(enum.Enum):
    ENVIRONMENT = "environment"  # reading agi_* lines
    IDLE = "idle"  # ready for a command
    AWAITING_REPLY = "awaiting_reply"
    READING_USAGE = "reading_usage"  # inside a 520- ... 520 block
    CLOSED = "closed"  # EOF seen


class NeedData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()


@dataclass(frozen=True, slots=True)
class EnvironmentReceived:
    env: AgiEnvironment


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    reply: AgiReply


@dataclass(frozen=True, slots=True)
class HangupReceived:
    """Asterisk's out-of-band ``HANGUP`` line: the channel is gone."""


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """EOF from Asterisk."""


Event = EnvironmentReceived | ReplyReceived | HangupReceived | ConnectionClosed
_HANGUP_EVENT: Final = HangupReceived()
_CLOSED_EVENT: Final = ConnectionClosed()

# ---------------------------------------------------------------------------- commands

_BARE = re.compile(r'[^ \t"\\\r\n\x00]+')  # a word that needs no quoting (the usual case)
_FORBIDDEN = re.compile(r"[\r\n\x00]")


def quote_arg(arg: str) -> str:
    """Quote one argument so that res_agi.c ``parse_args`` yields it unchanged.

    ``parse_args``: double quotes group (and may start a word), a backslash makes the next
    character literal, unquoted space/tab end a word. A bare word stays bare (readable traces);
    anything empty or containing space, tab, quote or backslash is quoted and escaped.
    """
    if _BARE.fullmatch(arg):
        return arg
    if _FORBIDDEN.search(arg):
        raise AgiInvalidArgument(f"CR, LF or NUL in AGI argument {arg!r}")
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(words: Iterable[str]) -> bytes:
    """``("STREAM", "FILE", "beep", "")`` → ``b'STREAM FILE beep ""\\n'``; each word one argv."""
    quoted = [quote_arg(word) for word in words]
    if len(quoted) > MAX_ARGS:
        raise AgiInvalidArgument(f"{len(quoted)} AGI words exceed {MAX_ARGS}")
    line = " ".join(quoted).encode("utf-8") + b"\n"
    if len(line) > MAX_COMMAND_BYTES:
        raise AgiInvalidArgument(f"AGI command of {len(line)} bytes exceeds {MAX_COMMAND_BYTES}")
    if line == b"\n":
        raise AgiInvalidArgument("empty AGI command")
    return line


def split_args(line: str) -> list[str]:
    """A Python transcription of res_agi.c ``parse_args`` (for tests and fake Asterisks)."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and current is None:
                current = []
                args.append("")
            continue
        if char in " \t" and not quoted and not escaped:
            if current is not None:
                args[-1] = "".join(current)
                current = None
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if current is None:
            current = []
            args.append("")
        current.append(char)
        escaped = False
    if current is not None:
        args[-1] = "".join(current)
    return args


# ---------------------------------------------------------------------------- replies

# Greedy: the value of GET VARIABLE may itself contain ")"; the last ")" that is followed only
# by key=value pairs (or nothing) closes it. Failing that, the first ")" closes it.
_DATA = re.compile(r"\((.*)\)((?:\s+[A-Za-z_][\w-]*=\S*)*)\s*$", re.DOTALL)
_DATA_THEN_TEXT = re.compile(r"\(([^)]*)\)(.*)$", re.DOTALL)
_EMPTY_FIELDS: Final[dict[str, str]] = {}


def parse_reply(line: str) -> AgiReply:
    """Parse one single-line reply (``200 result=1 (dtmf) endpos=8000``, ``510 ...``)."""
    if len(line) < 3 or not line[:3].isdigit() or (len(line) > 3 and line[3] != " "):
        raise AgiProtocolError(f"malformed AGI reply {line[:200]!r}")
    code = int(line[:3])
    rest = line[4:]
    if not rest.startswith("result="):
        return AgiReply(code, text=rest, raw=line)
    body = rest[7:]
    space = body.find(" ")
    if space < 0:  # the common case: "200 result=0"
        return AgiReply(code, result=body, fields=_EMPTY_FIELDS, raw=line)
    result = body[:space]
    tail = body[space + 1 :].lstrip(" ")
    data: str | None = None
    if tail.startswith("("):
        match = _DATA.match(tail) or _DATA_THEN_TEXT.match(tail)
        if match is not None:
            data, tail = match.group(1), match.group(2)
    fields: dict[str, str] = {}
    text: list[str] = []
    for word in tail.split():
        key, eq, value = word.partition("=")
        if eq and key:
            fields[key] = value
        else:
            text.append(word)
    return AgiReply(code, result=result, data=data, fields=fields, text=" ".join(text), raw=line)


# ---------------------------------------------------------------------------- connection

_USAGE_END = "520 End of proper usage."


class AgiConnection:
    """The protocol state of one FastAGI connection, seen from the server (our) side."""

    __slots__ = (
        "_buffer",
        "_env",
        "_eof",
        "_handlers",
        "_max_env_lines",
        "_max_line",
        "_on_line",
        "_pos",
        "_usage",
        "state",
    )

    def __init__(
        self,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_env_lines: int = DEFAULT_MAX_ENV_LINES,
    ) -> None:
        self._buffer = bytearray()
        self._pos = 0
        self._eof = False
        self._max_line = max_line_bytes
        self._max_env_lines = max_env_lines
        self._env: dict[str, str] = {}
        self._usage: list[str] = []
        # The transition table: what a complete line means in each state.
        self._handlers: dict[State, Callable[[str], Event | None]] = {
            State.ENVIRONMENT: self._on_env_line,
            State.IDLE: self._on_idle_line,
            State.AWAITING_REPLY: self._on_reply_line,
            State.READING_USAGE: self._on_usage_line,
            State.CLOSED: self._on_closed_line,
        }
        self.state = State.ENVIRONMENT
        self._on_line: Callable[[str], Event | None] = self._on_env_line

    def _to(self, state: State) -> None:
        self.state = state
        self._on_line = self._handlers[state]

    @property
    def buffered(self) -> int:
        """Bytes received and not yet parsed."""
        return len(self._buffer) - self._pos

    @property
    def eof(self) -> bool:
        return self._eof

    # -- input

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the socket; ``b""`` means the peer closed the connection."""
        if data:
            if self._eof:
                raise AgiLocalProtocolError("data received after EOF")
            self._buffer += data
        else:
            self._eof = True

    def next_event(self) -> Event | NeedData:
        buffer = self._buffer
        if self.state is State.ENVIRONMENT and buffer.startswith(b"agi_", self._pos):
            event = self._whole_environment()
            if event is not None:
                return event
        while True:
            end = buffer.find(b"\n", self._pos)
            if end < 0:
                return self._at_buffer_end()
            raw = buffer[self._pos : end]
            self._pos = end + 1
            if self._pos == len(buffer):
                buffer.clear()
                self._pos = 0
            if len(raw) > self._max_line:
                raise AgiProtocolError(f"AGI line of {len(raw)} bytes exceeds {self._max_line}")
            # Asterisk ends lines with "\n"; tolerate "\r\n" from other peers.
            line = raw.decode("utf-8", "replace").removesuffix("\r")
            event = self._on_line(line)
            if event is not None:
                return event

    def _whole_environment(self) -> Event | None:
        """Fast path: the whole block is buffered (the usual case), parse it in one go."""
        buffer = self._buffer
        end = buffer.find(b"\n\n", self._pos)
        if end < 0:
            return None  # incomplete: the line-by-line path consumes what is there
        block = buffer[self._pos : end].decode("utf-8", "replace")
        self._pos = end + 2
        if self._pos == len(buffer):
            buffer.clear()
            self._pos = 0
        lines = block.split("\n")
        if len(lines) + len(self._env) > self._max_env_lines:
            raise AgiProtocolError(f"AGI environment longer than {self._max_env_lines} lines")
        env = self._env
        max_line = self._max_line
        for line in lines:
            # Inlined _on_env_line: this loop runs ~25 times per call.
            key, sep, value = line.partition(":")
            if not sep or not key.startswith("agi_") or " " in key or len(line) > max_line:
                return self._on_env_line(line)  # raises the precise error
            if value.endswith("\r"):
                value = value[:-1]
            env[key[4:]] = value[1:] if value.startswith(" ") else value
        return self._on_env_line("")

    def _at_buffer_end(self) -> Event | NeedData:
        pending = len(self._buffer) - self._pos
        if pending > self._max_line:
            raise AgiProtocolError(f"AGI line longer than {self._max_line} bytes")
        if self._pos > 65536:  # compact rarely: keeps next_event O(line)
            del self._buffer[: self._pos]
            self._pos = 0
        if not self._eof:
            return NEED_DATA
        if self.state is State.CLOSED:
            return NEED_DATA
        previous = self.state
        self._to(State.CLOSED)
        if pending:
            raise AgiProtocolError("connection closed in the middle of a line")
        if previous is State.ENVIRONMENT and self._env:
            raise AgiProtocolError("connection closed in the middle of the environment")
        return _CLOSED_EVENT

    # -- output

    def send_command(self, words: Iterable[str]) -> bytes:
        """Bytes for one command; moves to ``AWAITING_REPLY``."""
        if self.state is not State.IDLE:
            raise AgiLocalProtocolError(f"cannot send a command in state {self.state.value}")
        data = format_command(words)
        self._to(State.AWAITING_REPLY)
        return data

    # -- per-state line handlers

    def _on_env_line(self, line: str) -> Event | None:
        if not line:
            if not self._env:
                raise AgiProtocolError("empty AGI environment")
            self._to(State.IDLE)
            env, self._env = self._env, {}
            return EnvironmentReceived(AgiEnvironment.from_lines(env))
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_") or " " in key:
            raise AgiProtocolError(f"malformed AGI environment line {line[:200]!r}")
        if len(self._env) >= self._max_env_lines:
            raise AgiProtocolError(f"AGI environment longer than {self._max_env_lines} lines")
        self._env[key[4:]] = value[1:] if value.startswith(" ") else value
        return None

    def _on_idle_line(self, line: str) -> Event | None:
        if line == "HANGUP":
            return _HANGUP_EVENT
        raise AgiProtocolError(f"unsolicited AGI line {line[:200]!r}")

    def _on_reply_line(self, line: str) -> Event | None:
        if line == "HANGUP":
            return _HANGUP_EVENT
        if line.startswith("520-"):
            self._to(State.READING_USAGE)
            self._usage = []
            return None
        reply = parse_reply(line)
        if reply.code == 100:  # "100 result=0 Trying...": the real reply follows
            return None
        self._to(State.IDLE)
        return ReplyReceived(reply)

    def _on_usage_line(self, line: str) -> Event | None:
        # Some Asterisk versions print the usage without a final newline, so the end marker
        # may be glued to the last usage line.
        if line.startswith("520 ") or line.endswith(_USAGE_END):
            if not line.startswith("520 "):
                self._usage.append(line[: -len(_USAGE_END)])
            text = "\n".join(self._usage).strip("\n")
            self._usage = []
            self._to(State.IDLE)
            return ReplyReceived(AgiReply(520, text=text, raw="520-Invalid command syntax."))
        if len(self._usage) >= self._max_env_lines:
            raise AgiProtocolError("AGI usage text too long")
        self._usage.append(line)
        return None

    def _on_closed_line(self, line: str) -> Event | None:
        raise AgiProtocolError("line after EOF")

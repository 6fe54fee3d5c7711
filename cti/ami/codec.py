"""Sans-IO AMI codec (h11 style): bytes in, messages out; actions in, bytes out. No IO here.

Framing rules:
- The connection opens with one greeting line ``Asterisk Call Manager/X.Y.Z\\r\\n``.
- Then every message is a block of ``Key: Value`` lines ending with an empty line. Asterisk
  writes ``\\r\\n``; bare ``\\n`` line ends and a ``\\n\\n`` terminator are tolerated too. The
  earliest terminator in the stream ends a frame, so framing never depends on read sizes.
- A legacy ``Response: Follows`` block (Asterisk < 14 ``Command``) carries free text that may hold
  empty lines; it ends only at ``--END COMMAND--`` plus the terminator. Once one is seen, the
  codec switches for good to a slower frame-by-frame path that understands it.
- Text is decoded as UTF-8 only once complete frames are in hand, so a multi-byte character
  split across reads arrives intact; invalid UTF-8 is replaced and counted, never fatal.
- A frame longer than ``max_frame_bytes`` raises ``AmiFrameTooLarge`` whatever the chunking,
  after the messages before it; after any error the codec stays broken (drop the connection).

Speed: the fast path cuts every complete frame out of the buffer with one ``rfind``, decodes them
with one ``decode`` and splits them with one ``str.split``; per frame there is one line split,
one ``partition`` comprehension and one ``zip``. Ignored events are dropped on their first line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Final

from cti.ami.errors import AmiFrameTooLarge, AmiHeaderError, AmiProtocolError
from cti.ami.messages import Event, Greeting, Message, Response

_CRLF2: Final = b"\r\n\r\n"
_LF2: Final = b"\n\n"
_FOLLOWS: Final = b"Response: Follows"
_END_COMMAND: Final = b"--END COMMAND--"
_MAX_GREETING: Final = 1024
_RESERVED_HEADERS: Final = frozenset({"action", "actionid"})
_SEPARATOR: Final = itemgetter(1)


class AmiCodec:
    """Incremental AMI parser. ``receive_data(b"")`` marks EOF; ``next_message()`` returns the
    next ``Greeting | Response | Event`` or ``None`` when more data is needed."""

    def __init__(
        self,
        max_frame_bytes: int = 1 << 20,
        ignore_events: Iterable[str] = frozenset(),
        *,
        expect_greeting: bool = True,
    ) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.ignore_events = frozenset(ignore_events)
        self._buf = bytearray()
        self._scan = 0  # no terminator starts before _scan - 3 in _buf (keeps 1-byte feeds linear)
        self._ready: deque[str | AmiProtocolError] = deque()  # framed, not yet parsed
        self._need_greeting = expect_greeting
        self._legacy = False  # a Response: Follows was seen: frame one by one from now on
        self._eof = False
        self._error: AmiProtocolError | None = None
        # Counters: the client turns them into stats and logs.
        self.events_ignored = 0
        self.malformed_lines = 0
        self.decode_errors = 0
        self.last_malformed_line: str | None = None

    @property
    def eof(self) -> bool:
        """True once EOF was fed and ``next_message()`` has nothing more to return. An unfinished
        frame left at EOF is not a message (``trailing_bytes`` says how much was lost)."""
        return self._eof and not self._ready

    @property
    def trailing_bytes(self) -> int:
        return len(self._buf.strip())

    def receive_data(self, data: bytes) -> None:
        if self._eof and data:
            raise AmiProtocolError("data received after EOF")
        if not data:
            self._eof = True
        else:
            self._buf += data

    def next_message(self) -> Message | None:
        ready = self._ready
        parse = self._parse
        while True:
            if ready:
                item = ready.popleft()
                if type(item) is not str:
                    self._error = item  # type: ignore[assignment]
                    raise item  # type: ignore[misc]
                message = parse(item)
                if message is not None:
                    return message
                continue
            if self._error is not None:
                raise self._error
            if self._need_greeting:
                return self._greeting()
            if not self._frame():
                return None

    # -- framing ---------------------------------------------------------------------------

    def _frame(self) -> bool:
        """Move complete frames from the byte buffer to ``_ready``; False if there were none."""
        buf = self._buf
        low = self._scan - 3 if self._scan > 3 else 0
        if not self._legacy and buf.find(_FOLLOWS, max(0, low - len(_FOLLOWS))) >= 0:
            self._legacy = True
            self._scan = 0
        if self._legacy:
            return self._frame_one_by_one()
        crlf = buf.rfind(_CRLF2, low)
        lf = buf.rfind(_LF2, low)
        cut = max(crlf + 4 if crlf >= 0 else 0, lf + 2 if lf >= 0 else 0)
        if not cut:
            self._scan = len(buf)
            self._check_incomplete(len(buf))
            return False
        if cut > self.max_frame_bytes:
            return self._frame_one_by_one()  # may hold an oversized frame: check each one
        region = bytes(buf[:cut])
        del buf[:cut]
        self._scan = len(buf)  # the tail holds no terminator: rfind found the last one
        try:
            pieces = region.decode().split("\r\n\r\n")
        except UnicodeDecodeError:
            pieces = [self._decode(raw) for raw in region.split(_CRLF2)]
        if pieces[-1] == "":
            pieces.pop()
        text_has_bare_lf = region.count(b"\n") != region.count(b"\r\n")
        if text_has_bare_lf:
            for piece in pieces:
                self._ready.extend(_split_bare_lf(piece))
        else:
            self._ready.extend(pieces)
        self._check_incomplete(len(buf))
        return True

    def _frame_one_by_one(self) -> bool:
        buf = self._buf
        start = 0
        found = False
        while True:
            end, after = self._find_frame(buf, start)
            if end < 0:
                break
            found = True
            if end - start > self.max_frame_bytes:
                self._ready.append(AmiFrameTooLarge(f"frame of {end - start} bytes"))
                return True
            text = self._decode(buf[start:end])
            start = self._scan = after
            if text.startswith("Response: Follows"):
                self._ready.append(text)
            else:
                self._ready.extend(_split_bare_lf(text))
        del buf[:start]
        self._scan = max(0, self._scan - start)
        self._check_incomplete(len(buf))
        return found

    def _find_frame(self, buf: bytearray, start: int) -> tuple[int, int]:
        """(end of frame, start of next) or (-1, -1) when incomplete."""
        scan = max(self._scan - 3, start)
        if buf.startswith(_FOLLOWS, start):
            marker = buf.find(_END_COMMAND, max(scan - len(_END_COMMAND), start))
            if marker < 0:
                self._scan = len(buf)
                return -1, -1
            scan = marker
        end = buf.find(_CRLF2, scan)
        # A bare \n\n can only hide before the first \r\n\r\n; look there only.
        lf = buf.find(_LF2, scan, len(buf) if end < 0 else end)
        if lf >= 0:
            return lf, lf + 2
        if end >= 0:
            return end, end + 4
        self._scan = len(buf)
        return -1, -1

    def _check_incomplete(self, pending: int) -> None:
        # The last 3 bytes may still be part of a terminator, so allow for them: the verdict
        # must not depend on how the stream was chunked.
        if pending > self.max_frame_bytes + 3 and not self._ready_has_error():
            self._ready.append(
                AmiFrameTooLarge(
                    f"more than {self.max_frame_bytes} bytes buffered without a frame terminator"
                )
            )

    def _ready_has_error(self) -> bool:
        return bool(self._ready) and isinstance(self._ready[-1], AmiProtocolError)

    def _greeting(self) -> Greeting | None:
        buf = self._buf
        nl = buf.find(b"\n")
        if nl < 0:
            if len(buf) > _MAX_GREETING:
                self._error = AmiFrameTooLarge("greeting line too long")
                raise self._error
            return None
        line = self._decode(buf[:nl]).strip()
        del buf[: nl + 1]
        product, slash, version = line.partition("/")
        if not slash or not product.endswith("Call Manager"):
            self._error = AmiProtocolError(f"expected an AMI greeting, got {line[:80]!r}")
            raise self._error
        self._need_greeting = False
        return Greeting(product, version)

    def _decode(self, raw: bytes | bytearray) -> str:
        try:
            return raw.decode()
        except UnicodeDecodeError:
            self.decode_errors += 1
            return raw.decode(errors="replace")

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self, text: str) -> Message | None:
        ignore = self.ignore_events
        if ignore and text.startswith("Event: "):
            # Cheap drop by name before splitting the rest of the frame.
            nl = text.find("\r\n")
            if (text[7:nl] if nl >= 0 else text[7:]) in ignore:
                self.events_ignored += 1
                return None
        body: tuple[str, ...] = ()
        if self._legacy and text.startswith("Response: Follows"):
            lines, body = _split_follows(text)
        else:
            lines = text.split("\r\n")
        parts = [line.partition(": ") for line in lines]
        if "" in map(_SEPARATOR, parts):  # C-speed scan: some line has no ": "
            parts = self._salvage(parts)
            if not parts:
                return None
        first, _, name = parts[0]
        if first == "Event":
            return Event(name, parts)
        if first == "Response":
            return Response(name, parts, body)
        # Asterisk always leads with Event or Response; tolerate reordering, else it is noise.
        for key, _, value in parts:
            lowered = key.lower()
            if lowered == "event":
                return Event(value, parts)
            if lowered == "response":
                return Response(value, parts, body)
        self.malformed_lines += len(parts)
        self.last_malformed_line = f"{first}: {name}"
        return None

    def _salvage(self, parts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        """Slow path for frames with empty lines, ``Key:Value`` without a space, or garbage."""
        kept: list[tuple[str, str, str]] = []
        for key, sep, value in parts:
            if not sep:
                line = key
                key, sep, value = line.partition(":")
                if not sep:
                    if line and not line.isspace():
                        self.malformed_lines += 1
                        self.last_malformed_line = line
                    continue
                value = value.removeprefix(" ")
            kept.append((key, sep, value))
        return kept


def _split_bare_lf(text: str) -> list[str]:
    """Normalise a piece holding bare ``\\n`` line ends into CRLF frames split at empty lines."""
    if text.count("\n") == text.count("\r\n"):
        return [text]
    frames: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if line:
            lines.append(line)
        elif lines:
            frames.append("\r\n".join(lines))
            lines = []
    if lines:
        frames.append("\r\n".join(lines))
    return frames


def _split_follows(text: str) -> tuple[list[str], tuple[str, ...]]:
    """Split a legacy ``Response: Follows`` block into header lines and the command body.

    Asterisk ends header lines with CRLF and body lines with a bare LF, so the body starts at the
    first CRLF segment holding a LF (or the last segment, which carries ``--END COMMAND--``).
    """
    crlf = "\r\n" in text
    segments = text.split("\r\n") if crlf else text.split("\n")
    headers: list[str] = []
    index = len(segments) - 1
    for index, segment in enumerate(segments):
        key, sep, _ = segment.partition(": ")
        last = index == len(segments) - 1
        if (crlf and ("\n" in segment or last)) or not sep or not key or " " in key:
            break
        headers.append(segment)
    rest = "\n".join(segments[index:]) if not crlf else "\r\n".join(segments[index:])
    body = [line.removesuffix("\r") for line in rest.split("\n")]
    while body and body[-1].strip() in ("", "--END COMMAND--"):
        body.pop()
    if body and body[-1].endswith("--END COMMAND--"):
        body[-1] = body[-1].removesuffix("--END COMMAND--")
    return headers, tuple(body)


def encode_action(
    action: str, action_id: str, headers: Mapping[str, str | Sequence[str]] | None = None
) -> bytes:
    """Serialise one action. A sequence value repeats the header (``Variable: a=1``, ...)."""
    parts = [f"Action: {_checked(action)}\r\nActionID: {_checked(action_id)}\r\n"]
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not name or ":" in name or name != name.strip():
            raise AmiHeaderError(f"illegal header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise AmiHeaderError(f"{name} is set by the client, not by headers")
        _checked(name)
        values = (value,) if isinstance(value, str) else value
        for item in values:
            parts.append(f"{name}: {_checked(item)}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode()


def _checked(text: object) -> str:
    if not isinstance(text, str):
        raise AmiHeaderError(f"header values must be str, got {type(text).__name__}")
    if "\r" in text or "\n" in text:
        raise AmiHeaderError(f"CR/LF in header {text[:40]!r} (header injection)")
    return text

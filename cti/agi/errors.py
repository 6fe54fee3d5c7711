"""Typed AGI errors, named after who is at fault (cf. h11 ``_util.py``).

- The peer (Asterisk) said no: :class:`AgiCommandError` and its 510/511/520 subclasses.
- The caller went away: :class:`AgiHangup` (``HANGUP`` line, 511, ``result=-1`` that means a
  hangup, or the connection closed). :class:`AgiDeadChannel` is both, so a handler that only
  cares about "the caller is gone" catches ``AgiHangup``.
- The peer sent garbage: :class:`AgiProtocolError`.
- We tried to send something illegal: :class:`AgiLocalProtocolError` / :class:`AgiInvalidArgument`.

:class:`AgiReply` lives here, not in the codec: a command error carries the reply that caused
it, and the reply's own accessors raise :class:`AgiProtocolError`. The codec parses replies and
imports both from here, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class AgiError(Exception):
    """Base of every error raised by ``cti.agi``."""


class AgiProtocolError(AgiError):
    """The peer broke the protocol: a malformed line, an over-long line, an unsolicited reply."""


class AgiLocalProtocolError(AgiError):
    """We broke the protocol: e.g. a second command while one is in flight."""


class AgiInvalidArgument(AgiLocalProtocolError, ValueError):
    """An argument cannot be sent: CR, LF or NUL inside, or the command line is too long."""


class AgiTimeoutError(AgiError, TimeoutError):
    """No environment, or no reply, within the allowed time."""


class AgiHangup(AgiError):
    """The caller hung up (or the channel is gone); further commands are pointless."""

    def __init__(self, reason: str = "hangup") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One reply. ``result`` is the raw text after ``result=`` (digits may include * and #)."""

    code: int
    result: str | None = None
    # The parenthesised part: "timeout", "dtmf", a variable's value.
    data: str | None = None
    # Other key=value pairs, e.g. endpos.
    fields: dict[str, str] = field(default_factory=dict)
    # Free text: the message of 5xx replies, the usage text of 520, "Trying..." of 100.
    text: str = ""
    raw: str = ""

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise AgiProtocolError(f"non-numeric result in {self.raw!r}") from None

    @property
    def endpos(self) -> int:
        value = self.fields.get("endpos", "0")
        try:
            return int(value)
        except ValueError:
            raise AgiProtocolError(f"non-numeric endpos in {self.raw!r}") from None


class AgiCommandError(AgiError):
    """Asterisk answered a command with an error status (5xx)."""

    def __init__(self, reply: AgiReply) -> None:
        super().__init__(f"{reply.code} {reply.text}".rstrip())
        self.reply = reply

    @property
    def code(self) -> int:
        return self.reply.code


class AgiInvalidCommand(AgiCommandError):
    """510: Asterisk does not know this command."""


class AgiDeadChannel(AgiCommandError, AgiHangup):
    """511: the command is not permitted on a dead channel (the caller hung up)."""

    def __init__(self, reply: AgiReply) -> None:
        AgiCommandError.__init__(self, reply)
        self.reason = "dead channel"


class AgiUsageError(AgiCommandError):
    """520: wrong arguments; ``usage`` holds the usage text Asterisk sent."""

    @property
    def usage(self) -> str:
        return self.reply.text


class AgiCommandFailed(AgiError):
    """``200 result=-1`` (or -2) that is not a hangup: e.g. a missing sound file or application."""

    def __init__(self, command: str, reply: AgiReply) -> None:
        super().__init__(f"{command}: {reply.raw}")
        self.command = command
        self.reply = reply

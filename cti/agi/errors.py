"""Typed AGI errors, named after who is at fault (cf. h11 ``_util.py``).

- The peer (Asterisk) said no: :class:`AgiCommandError` and its 510/511/520 subclasses.
- The caller went away: :class:`AgiHangup` (``HANGUP`` line, 511, ``result=-1`` that means a
  hangup, or the connection closed). :class:`AgiDeadChannel` is both, so a handler that only
  cares about "the caller is gone" catches ``AgiHangup``.
- The peer sent garbage: :class:`AgiProtocolError`.
- We tried to send something illegal: :class:`AgiLocalProtocolError` / :class:`AgiInvalidArgument`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cti.agi.codec import AgiReply


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

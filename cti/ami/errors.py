"""Typed AMI errors. Each says who is at fault: the peer (protocol), us (header), or the link.

AmiError
├── AmiConnectionError   link down, refused, closed by peer, closed by us
├── AmiAuthError         login refused (bad user/secret, or md5 challenge failed)
├── AmiActionError       Asterisk answered ``Response: Error`` (carries the Response)
├── AmiTimeout           no answer within the action deadline (also a TimeoutError)
├── AmiHeaderError       we were asked to send an illegal header (CR/LF injection)
└── AmiProtocolError     the peer sent something we cannot frame
    └── AmiFrameTooLarge a frame grew past ``max_frame_bytes`` without a terminator
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cti.ami.messages import Response


class AmiError(Exception):
    """Base of every error raised by ``cti.ami``."""


class AmiConnectionError(AmiError):
    """The AMI link is not usable (never opened, lost, or closed)."""


class AmiAuthError(AmiError):
    """Asterisk refused the login. Retrying at once will not help: the client backs off."""


class AmiActionError(AmiError):
    """Asterisk answered an action with ``Response: Error``."""

    def __init__(self, response: Response) -> None:
        self.response = response
        action_id = response.action_id or "?"
        super().__init__(f"action {action_id} failed: {response.message or 'no message'}")


class AmiTimeout(AmiError, TimeoutError):
    """No (complete) answer arrived before the deadline."""


class AmiHeaderError(AmiError, ValueError):
    """A header name or value we were asked to send is illegal (CR/LF would inject headers)."""


class AmiProtocolError(AmiError):
    """The peer sent bytes that are not AMI; the connection cannot be trusted any more."""


class AmiFrameTooLarge(AmiProtocolError):
    """A frame exceeded ``max_frame_bytes`` (runaway or hostile peer)."""

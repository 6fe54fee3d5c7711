"""Asterisk Manager Interface: a sans-IO codec and an asyncio client built on it."""

from cti.ami.client import AmiClient
from cti.ami.codec import AmiCodec, encode_action
from cti.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiConnectionError,
    AmiError,
    AmiFrameTooLarge,
    AmiHeaderError,
    AmiProtocolError,
    AmiTimeout,
)
from cti.ami.link import AmiStats, ListResult
from cti.ami.messages import Event, Greeting, Message, Response
from cti.ami.subscriptions import Subscription

__all__ = [
    "AmiActionError",
    "AmiAuthError",
    "AmiClient",
    "AmiCodec",
    "AmiConnectionError",
    "AmiError",
    "AmiFrameTooLarge",
    "AmiHeaderError",
    "AmiProtocolError",
    "AmiStats",
    "AmiTimeout",
    "Event",
    "Greeting",
    "ListResult",
    "Message",
    "Response",
    "Subscription",
    "encode_action",
]

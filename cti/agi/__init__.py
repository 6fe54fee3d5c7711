"""FastAGI for Hotline: a sans-IO codec, a typed session API and an asyncio TCP server."""

from cti.agi.codec import (
    NEED_DATA,
    AgiConnection,
    AgiReply,
    ConnectionClosed,
    EnvironmentReceived,
    HangupReceived,
    ReplyReceived,
    format_command,
    parse_reply,
    quote_arg,
    split_args,
)
from cti.agi.environment import AgiEnvironment, script_from_request, split_script
from cti.agi.errors import (
    AgiCommandError,
    AgiCommandFailed,
    AgiDeadChannel,
    AgiError,
    AgiHangup,
    AgiInvalidArgument,
    AgiInvalidCommand,
    AgiLocalProtocolError,
    AgiProtocolError,
    AgiTimeoutError,
    AgiUsageError,
)
from cti.agi.server import AgiServer, AgiServerStats, Handler
from cti.agi.session import AgiSession, RecordResult

__all__ = [
    "NEED_DATA",
    "AgiCommandError",
    "AgiCommandFailed",
    "AgiConnection",
    "AgiDeadChannel",
    "AgiEnvironment",
    "AgiError",
    "AgiHangup",
    "AgiInvalidArgument",
    "AgiInvalidCommand",
    "AgiLocalProtocolError",
    "AgiProtocolError",
    "AgiReply",
    "AgiServer",
    "AgiServerStats",
    "AgiSession",
    "AgiTimeoutError",
    "AgiUsageError",
    "ConnectionClosed",
    "EnvironmentReceived",
    "Handler",
    "HangupReceived",
    "RecordResult",
    "ReplyReceived",
    "format_command",
    "parse_reply",
    "quote_arg",
    "script_from_request",
    "split_args",
    "split_script",
]

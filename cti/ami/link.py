"""What one AMI connection is made of, apart from the client that drives it: the link (socket
and codec), the actions waiting for their answers, the counters, and the reconnect backoff."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence

from cti.ami.codec import AmiCodec
from cti.ami.messages import Event, Greeting, Response

Headers = Mapping[str, str | Sequence[str]]


@dataclasses.dataclass
class AmiStats:
    events_received: int = 0
    events_ignored: int = 0  # dropped by name in the codec (settings.ignore_events)
    events_dropped: int = 0  # lost by slow subscribers
    malformed_lines: int = 0
    decode_errors: int = 0
    actions_sent: int = 0
    action_timeouts: int = 0
    connects: int = 0
    reconnects: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class ListResult:
    """A list action's response, its events, and the ``EventList: Complete`` event."""

    response: Response
    events: list[Event]
    complete: Event | None


class Pending:
    __slots__ = ("events", "future", "is_list", "response")

    def __init__(self, future: asyncio.Future[Response | ListResult], is_list: bool) -> None:
        self.future = future
        self.is_list = is_list
        self.response: Response | None = None
        self.events: list[Event] = []


class Link:
    """One TCP connection and its codec."""

    __slots__ = ("codec", "greeting", "reader", "writer")

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, codec: AmiCodec
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.codec = codec
        self.greeting: asyncio.Future[Greeting] = asyncio.get_running_loop().create_future()


def reconnect_delay(
    failures: int, min_s: float, max_s: float, rand: Callable[[], float] = random.random
) -> float:
    """Capped exponential backoff with jitter: in [ceiling/2, ceiling], ceiling = min_s * 2^(n-1)
    capped at max_s. Jitter keeps many clients from reconnecting in lockstep after a restart."""
    ceiling = min(max_s, min_s * 2.0 ** max(0, failures - 1))
    return ceiling / 2 + rand() * ceiling / 2


def starts_list(response: Response) -> bool:
    return (response.event_list or "").lower() == "start"

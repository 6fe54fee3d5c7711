"""Event fan-out to subscribers with bounded queues.

Invariant: ``publish`` never awaits and never blocks. Asterisk drops an AMI client that does not
read for ~100 ms, so a slow consumer loses its own events (counted, warned about), never the
connection. Delivery to one subscriber is in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Literal, Self

from cti.ami.messages import Event

log = logging.getLogger("cti.ami")

EventFilter = Collection[str] | Callable[[Event], bool] | None
Overflow = Literal["drop_oldest", "drop_newest"]


class Subscription:
    """An async iterator of events; ends when unsubscribed or when the client closes.

    Use as ``async with client.subscribe({"Hangup"}) as events: async for event in events``.
    """

    def __init__(
        self,
        hub: EventHub,
        selector: EventFilter,
        maxsize: int,
        overflow: Overflow,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._names: frozenset[str] | None = None
        self._predicate: Callable[[Event], bool] | None = None
        if callable(selector):
            self._predicate = selector
        elif selector is not None:
            self._names = frozenset(selector)
        self.maxsize = maxsize
        self.overflow = overflow
        self.dropped = 0
        self._queue: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def wants(self, event: Event) -> bool:
        if self._names is not None:
            return event.name in self._names
        if self._predicate is not None:
            return self._predicate(event)
        return True

    def _push(self, event: Event) -> None:
        queue = self._queue
        if len(queue) >= self.maxsize:
            self.dropped += 1
            self._hub.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "AMI subscriber too slow, dropping events",
                    extra={"dropped": self.dropped, "policy": self.overflow, "event": event.name},
                )
            if self.overflow == "drop_newest":
                return
            queue.popleft()
        queue.append(event)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _close(self) -> None:
        self._closed = True
        self._wake()

    def unsubscribe(self) -> None:
        """Stop receiving; the iterator ends after the events already queued."""
        self._hub.remove(self)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def get_nowait(self) -> Event | None:
        return self._queue.popleft() if self._queue else None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unsubscribe()


class EventHub:
    """The set of live subscriptions of one client."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self.dropped = 0

    def subscribe(
        self,
        selector: EventFilter = None,
        *,
        maxsize: int = 1000,
        overflow: Overflow = "drop_oldest",
    ) -> Subscription:
        subscription = Subscription(self, selector, maxsize, overflow)
        self._subscriptions.append(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        subscription._close()

    def publish(self, event: Event) -> None:
        for subscription in self._subscriptions:
            try:
                wanted = subscription.wants(event)
            except Exception:
                # A broken predicate must not kill the reader (and with it the connection).
                log.exception("AMI subscriber predicate failed", extra={"event": event.name})
                continue
            if wanted:
                subscription._push(event)

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            self.remove(subscription)

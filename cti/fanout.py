"""Fan-out of events to subscribers with bounded queues (AMI events, domain events).

Invariant: ``publish`` never awaits and never blocks. Asterisk drops an AMI client that does not
read for ~100 ms, and routing must not wait for a wallboard: a slow consumer loses its own
events (counted, warned about), never the publisher's progress. Delivery to one subscriber is in
arrival order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Generic, Literal, Self, TypeVar

log = logging.getLogger("cti.fanout")

T = TypeVar("T")
Selector = Collection[str] | Callable[[T], bool] | None
Overflow = Literal["drop_oldest", "drop_newest"]


class Subscription(Generic[T]):
    """An async iterator of events; ends when unsubscribed or when the client closes.

    Use as ``async with hub.subscribe({"Hangup"}) as events: async for event in events``.
    """

    def __init__(
        self,
        hub: Fanout[T],
        selector: Selector[T],
        maxsize: int,
        overflow: Overflow,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._names: frozenset[str] | None = None
        self._predicate: Callable[[T], bool] | None = None
        if callable(selector):
            self._predicate = selector
        elif selector is not None:
            self._names = frozenset(selector)
        self.maxsize = maxsize
        self.overflow = overflow
        self.dropped = 0
        self._queue: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def wants(self, event: T) -> bool:
        if self._names is not None:
            return self._hub.key(event) in self._names
        if self._predicate is not None:
            return self._predicate(event)
        return True

    def _push(self, event: T) -> None:
        queue = self._queue
        if len(queue) >= self.maxsize:
            self.dropped += 1
            self._hub.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "%s subscriber too slow, dropping events",
                    self._hub.label,
                    extra={
                        "dropped": self.dropped,
                        "policy": self.overflow,
                        "event": self._hub.key(event),
                    },
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

    async def __anext__(self) -> T:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def get_nowait(self) -> T | None:
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


class Fanout(Generic[T]):
    """The set of live subscriptions of one publisher; ``key`` names an event for selectors."""

    def __init__(self, key: Callable[[T], str], label: str) -> None:
        self.key = key
        self.label = label
        self._subscriptions: list[Subscription[T]] = []
        self.dropped = 0

    def subscribe(
        self,
        selector: Selector[T] = None,
        *,
        maxsize: int = 1000,
        overflow: Overflow = "drop_oldest",
    ) -> Subscription[T]:
        subscription = Subscription(self, selector, maxsize, overflow)
        self._subscriptions.append(subscription)
        return subscription

    def remove(self, subscription: Subscription[T]) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        subscription._close()

    def publish(self, event: T) -> None:
        for subscription in self._subscriptions:
            try:
                wanted = subscription.wants(event)
            except Exception:
                # A broken predicate must not kill the publisher (for AMI: the connection).
                log.exception(
                    "%s subscriber predicate failed", self.label, extra={"event": self.key(event)}
                )
                continue
            if wanted:
                subscription._push(event)

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            self.remove(subscription)

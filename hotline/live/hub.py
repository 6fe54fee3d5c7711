"""The live hub: domain events in, numbered streams of snapshots and deltas out, to WebSocket
clients (each with a bounded outbox) and to observers such as the MQTT publisher.

Streams: ``queue:<id>`` (QueueStats), ``agent:<id>`` (the agent and its current call: the
screen pop), ``agents`` (every agent, keyed by id) and ``calls`` (active calls, keyed by id).
A message is ``{"type": "snapshot"|"delta", "stream", "seq", "ts", "data"}``; a delta carries
the changed top-level keys of ``data`` (``null``: the key is gone). ``seq`` grows by one per
delta of a stream, for every client alike, so a client that sees ``seq`` jump asks for a fresh
snapshot (``{"op": "snapshot", "stream": ...}``); a snapshot carries the current ``seq``.

Invariants:
- ``process`` and ``flush`` never await: a slow client cannot slow the hub, the bus, or
  another client. Each message is encoded once, whatever the number of clients.
- A client whose outbox is full is cut off (``SlowClient``), not skipped: a skipped delta
  would leave its view wrong without it knowing.
- Queue statistics are coalesced (``publish_interval_s``) and refreshed each second while
  calls wait (the longest wait grows); agent and call changes go out at once (a screen pop
  must not wait for a timer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any, Protocol

import orjson

from acd.agent_state import AgentState
from cti.events import EVENT_CLASSES, DomainBus, DomainEvent
from hotline.live.stats import LiveStats

log = logging.getLogger("hotline.live.hub")

WarmUp = Callable[[datetime], Awaitable[object]]  # called with the moment the hub subscribed

QUEUE_PREFIX, AGENT_PREFIX = "queue:", "agent:"
AGENTS, CALLS = "agents", "calls"
ALL_QUEUES = "queue:*"
LOGGED_OUT = AgentState.LOGGED_OUT.value  # an agent the statistics have not seen yet
QUEUE_REFRESH_S = 1.0
# What observers hear as call events: every ``call.*`` kind.
CALL_EVENTS = frozenset(
    cls for kind, cls in EVENT_CLASSES.items() if kind.value.startswith("call.")
)


class LiveObserver(Protocol):
    """Someone who wants whole states, not deltas (MQTT retained messages)."""

    def queue_stats(self, queue_id: str, stats: Mapping[str, Any]) -> None: ...

    def agent_state(self, agent_id: str, state: Mapping[str, Any]) -> None: ...

    def call_event(self, event: DomainEvent) -> None: ...


class SlowClient(Exception):
    """The client's outbox overflowed: it was cut off."""


class LiveClient:
    """One client's subscriptions and bounded outbox of encoded messages."""

    def __init__(self, maxsize: int, on_cut_off: Callable[[], None] | None = None) -> None:
        self.maxsize = maxsize
        self.streams: set[str] = set()
        self.all_queues = False
        self.cut_off = False
        self.closed = False
        self._outbox: deque[str] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._on_cut_off = on_cut_off

    def offer(self, text: str) -> None:
        if self.cut_off or self.closed:
            return
        if len(self._outbox) >= self.maxsize:
            self.cut_off = True
            self._outbox.clear()
            self._wake()
            if self._on_cut_off is not None:
                self._on_cut_off()  # e.g. cancel a send stuck on a full socket
            return
        self._outbox.append(text)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        self.closed = True
        self._wake()

    def pending(self) -> int:
        return len(self._outbox)

    async def next_batch(self) -> list[str]:
        """Everything queued so far (at least one message); raises SlowClient once cut off,
        StopAsyncIteration once closed."""
        while not self._outbox:
            if self.cut_off:
                raise SlowClient
            if self.closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.cut_off:
            raise SlowClient
        batch = list(self._outbox)
        self._outbox.clear()
        return batch


class _Stream:
    __slots__ = ("data", "name", "seq", "subscribers")

    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name = name
        self.seq = 0
        self.data = data
        self.subscribers: set[LiveClient] = set()


def _encode(kind: str, stream: _Stream, data: Mapping[str, Any]) -> str:
    message = {"type": kind, "stream": stream.name, "seq": stream.seq, "ts": time.time()}
    message["data"] = data
    return orjson.dumps(message).decode()


class LiveHub:
    def __init__(self, stats: LiveStats, *, client_buffer: int = 256) -> None:
        self.stats = stats
        self.publish_interval_s = stats.settings.publish_interval_s
        self.client_buffer = client_buffer
        self.observers: list[LiveObserver] = []
        self.clients: set[LiveClient] = set()
        self.cut_offs = 0
        self.deltas = 0
        self._streams: dict[str, _Stream] = {}
        self._dirty_queues: set[str] = set()
        self._last_refresh = 0.0
        self.subscribed = asyncio.Event()  # ``run`` sees every event published from now on

    @property
    def rebuilding(self) -> bool:
        """Today's figures are being replayed from the event log: not complete yet."""
        return self.stats.rebuilding

    # --- clients ------------------------------------------------------------------------------

    def connect(self, on_cut_off: Callable[[], None] | None = None) -> LiveClient:
        client = LiveClient(self.client_buffer, on_cut_off)
        self.clients.add(client)
        return client

    def disconnect(self, client: LiveClient) -> None:
        if client.cut_off:
            self.cut_offs += 1
        self.clients.discard(client)
        for name in client.streams:
            stream = self._streams.get(name)
            if stream is not None:
                stream.subscribers.discard(client)
        client.streams.clear()
        client.close()

    def subscribe(self, client: LiveClient, names: Iterable[str]) -> None:
        """Subscribe and queue a snapshot of each stream (names already authorised)."""
        for name in names:
            if name == ALL_QUEUES:
                client.all_queues = True
                for queue_id in self.stats.queue_ids():
                    self._subscribe_one(client, QUEUE_PREFIX + queue_id)
            else:
                self._subscribe_one(client, name)

    def _subscribe_one(self, client: LiveClient, name: str) -> None:
        stream = self._stream(name)
        client.streams.add(name)
        stream.subscribers.add(client)
        client.offer(_encode("snapshot", stream, stream.data))

    def unsubscribe(self, client: LiveClient, names: Iterable[str]) -> None:
        for name in names:
            if name == ALL_QUEUES:
                client.all_queues = False
                continue
            client.streams.discard(name)
            stream = self._streams.get(name)
            if stream is not None:
                stream.subscribers.discard(client)

    def resend_snapshot(self, client: LiveClient, name: str) -> None:
        """A client saw a gap in ``seq``: send the whole current state again."""
        if name in client.streams:
            stream = self._stream(name)
            client.offer(_encode("snapshot", stream, stream.data))

    def snapshot(self, name: str) -> dict[str, Any]:
        return self._stream(name).data

    # --- streams ------------------------------------------------------------------------------

    def _stream(self, name: str) -> _Stream:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = _Stream(name, self._current(name))
            if name.startswith(QUEUE_PREFIX):
                for client in [c for c in self.clients if c.all_queues]:
                    self._subscribe_one(client, name)
        return stream

    def _current(self, name: str) -> dict[str, Any]:
        stats = self.stats
        if name.startswith(QUEUE_PREFIX):
            figures = stats.queue_stats(name.removeprefix(QUEUE_PREFIX))
            return asdict(figures) if figures is not None else {}
        if name.startswith(AGENT_PREFIX):
            return self._agent_channel(name.removeprefix(AGENT_PREFIX), None)
        if name == AGENTS:
            return {view.agent_id: asdict(view) for view in stats.agent_views()}
        if name == CALLS:
            return {view.call_id: asdict(view) for view in stats.call_views()}
        raise KeyError(name)

    def _agent_channel(self, agent_id: str, previous: Mapping[str, Any] | None) -> dict[str, Any]:
        view = self.stats.agent_view(agent_id)
        agent = asdict(view) if view is not None else {"agent_id": agent_id, "state": LOGGED_OUT}
        call_id = agent.get("call_id")
        call_view = self.stats.call_view(call_id) if call_id else None
        call: dict[str, Any] | None = asdict(call_view) if call_view is not None else None
        if call is None and call_id and previous is not None:
            # The caller hung up but the agent is still in wrap-up on it: keep what the pop
            # showed, so the disposition is set against the right call.
            last = previous.get("call")
            if isinstance(last, dict) and last.get("call_id") == call_id:
                call = last
        return {"agent": agent, "call": call}

    def _publish_state(self, name: str, state: dict[str, Any]) -> None:
        stream = self._streams.get(name)
        if stream is None:
            return  # nobody ever asked; built on first subscription
        old = stream.data
        delta = {key: value for key, value in state.items() if old.get(key) != value}
        delta.update({key: None for key in old if key not in state})
        stream.data = state
        self._send_delta(stream, delta)

    def _publish_patch(self, name: str, patch: dict[str, Any]) -> None:
        stream = self._streams.get(name)
        if stream is None:
            return  # nobody ever asked; built on first subscription
        for key, value in patch.items():
            if value is None:
                stream.data.pop(key, None)
            else:
                stream.data[key] = value
        self._send_delta(stream, patch)

    def _send_delta(self, stream: _Stream, delta: Mapping[str, Any]) -> None:
        if not delta:
            return
        stream.seq += 1
        self.deltas += 1
        if not stream.subscribers:
            return
        text = _encode("delta", stream, delta)
        for client in list(stream.subscribers):
            client.offer(text)

    # --- feeding ------------------------------------------------------------------------------

    def process(self, event: DomainEvent) -> None:
        stats = self.stats
        stats.apply(event)
        agents, calls = set(stats.dirty_agents), set(stats.dirty_calls)
        self._dirty_queues |= stats.dirty_queues
        stats.dirty_agents.clear()
        stats.dirty_calls.clear()
        stats.dirty_queues.clear()
        call_patch: dict[str, Any] = {}
        for call_id in calls:
            view = stats.call_view(call_id)
            call_patch[call_id] = asdict(view) if view is not None else None
            if view is not None and view.agent_id is not None:
                agents.add(view.agent_id)
        if call_patch:
            self._publish_patch(CALLS, call_patch)
        agent_patch: dict[str, Any] = {}
        for agent_id in agents:
            agent_view = stats.agent_view(agent_id)
            if agent_view is None:
                continue
            agent_patch[agent_id] = asdict(agent_view)
            for observer in self.observers:
                observer.agent_state(agent_id, agent_patch[agent_id])
            name = AGENT_PREFIX + agent_id
            stream = self._streams.get(name)
            if stream is not None:
                self._publish_state(name, self._agent_channel(agent_id, stream.data))
        if agent_patch:
            self._publish_patch(AGENTS, agent_patch)
        if type(event) in CALL_EVENTS:
            for observer in self.observers:
                observer.call_event(event)

    def flush(self, now: float | None = None) -> None:
        """Send queue statistics that changed; every ``QUEUE_REFRESH_S`` also those with calls
        waiting (their longest wait grew without an event)."""
        now = time.monotonic() if now is None else now
        dirty = self._dirty_queues
        self._dirty_queues = set()
        if now - self._last_refresh >= QUEUE_REFRESH_S:
            self._last_refresh = now
            self.stats.tick()
            dirty |= self.stats.dirty_queues
            self.stats.dirty_queues.clear()
            dirty.update(self.stats.queues_with_waiting_calls())
        for queue_id in sorted(dirty):
            figures = self.stats.queue_stats(queue_id)
            if figures is None:
                continue
            state = asdict(figures)
            name = QUEUE_PREFIX + queue_id
            if name in self._streams:
                self._publish_state(name, state)
            else:
                self._stream(name)  # new queue: wildcard subscribers get its snapshot
            for observer in self.observers:
                observer.queue_stats(queue_id, state)
        self.stats.dirty_queues.clear()

    async def run(self, bus: DomainBus, warm_up: WarmUp | None = None) -> None:
        """Consume the bus until cancelled; flush queue statistics on their interval.

        ``warm_up`` (today's event log replayed into the statistics) runs once subscribed,
        with the moment of subscription: it reads what happened before that, while what
        happens from then on waits in the subscription. Nothing is flushed before it ends, so
        no period rolls in the middle of the replay."""
        async with bus.subscribe(maxsize=100_000) as events:
            self.subscribed.set()
            if warm_up is not None:
                self.stats.rebuilding = True  # in every queue's figures meanwhile
                try:
                    await warm_up(self.stats.clock.wall())
                except Exception:
                    # The figures then count from now: worse, never a hub that stops.
                    log.exception("live statistics could not be rebuilt from the event log")
                finally:
                    self.stats.rebuilding = False
                    self._dirty_queues.update(self.stats.queue_ids())  # boards hear it is over
            flusher = asyncio.create_task(self._flush_loop(), name="live-flush")
            try:
                async for event in events:
                    try:
                        self.process(event)
                    except Exception:
                        # One bad event must not freeze every wallboard.
                        log.exception("live hub failed on an event", extra={"kind": event.kind})
            finally:
                flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flusher

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.publish_interval_s)
            try:
                self.flush()
            except Exception:
                log.exception("live hub flush failed")

    def close(self) -> None:
        for client in list(self.clients):
            self.disconnect(client)

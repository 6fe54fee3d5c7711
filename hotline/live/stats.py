"""Live statistics per queue and the live state of agents and calls, pure: fed domain events,
read through views. No IO, no timers; time comes from the events (``ts`` for period
boundaries, ``mono`` for durations) and, for reads, from an injected clock.

``LiveStats`` is the front: it opens and rolls the periods and hands each event to its
handler (``hotline.live.handlers``), which changes the queue counters
(``hotline.live.queues``), the agents (``hotline.live.agents``) and the calls
(``hotline.live.calls``); figures are assembled on reading (``hotline.live.figures``).
Nothing outside reads those parts: the hub and the API use the views below.

Invariants:
- one event is applied fully or not at all, in arrival order; the handlers' rules (waiting
  calls, agent states inferred from call events, one count per queue visit, handle time)
  are stated in ``hotline.live.handlers``;
- occupancy accrues agent time at each state change and at period boundaries, so an agent on
  a call across 10:15 counts in both intervals for the part in each;
- the recent pace (calls offered, handle time) slides over the last 30 minutes on the
  monotonic clock, apart from the periods; it feeds ``staffing_now`` (agents needed next);
- ``dirty_queues``, ``dirty_agents`` and ``dirty_calls`` name what changed since the hub
  last emptied them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from cti.events import DomainEvent
from cti.settings import LiveSettings
from hotline.live import figures
from hotline.live.agents import Agents
from hotline.live.calls import Calls, CallStage
from hotline.live.handlers import HANDLERS, LiveState, drop
from hotline.live.model import AgentView, CallView, QueueDefinition, QueueStats
from hotline.live.periods import day_bounds, interval_bounds
from hotline.live.queues import Queues


class LiveClock(Protocol):
    def wall(self) -> datetime: ...

    def mono(self) -> float: ...


class SystemClock:
    def wall(self) -> datetime:
        return datetime.now(UTC)

    def mono(self) -> float:
        return time.monotonic()


class LiveStats:
    def __init__(
        self,
        settings: LiveSettings,
        queues: Iterable[QueueDefinition] = (),
        *,
        queues_of_agent: Callable[[str], Collection[str]] | None = None,
        ewt: Callable[[str], float | None] | None = None,
        clock: LiveClock | None = None,
    ) -> None:
        self.settings = settings
        self._zone = ZoneInfo(settings.timezone)
        self._clock = clock or SystemClock()
        self._queues_of_agent = queues_of_agent
        self._ewt = ewt
        self._masked = frozenset(settings.masked_fields)
        self.rebuilding = False  # set by the hub while today's event log is replayed
        self._start_empty(queues)

    def _start_empty(self, definitions: Iterable[QueueDefinition]) -> None:
        wall, mono = self._clock.wall(), self._clock.mono()
        queues = Queues(self.settings, wall, wall)  # periods opened by ``rewind`` below
        self._live = LiveState(
            self.settings, queues, Agents(queues, self._queues_of_agent), Calls()
        )
        self.rewind(wall, mono)
        for definition in definitions:
            queues.queue(definition.id, definition)

    # --- feeding ------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        self._roll(event.ts, event.mono)
        handler = HANDLERS.get(type(event))
        if handler is not None:  # the classes in ``handlers.IGNORED``
            handler(self._live, event)

    # --- what changed since the hub last looked (it coalesces and publishes) ----------------

    @property
    def dirty_queues(self) -> set[str]:
        return self._live.queues.dirty

    @property
    def dirty_agents(self) -> set[str]:
        return self._live.agents.dirty

    @property
    def dirty_calls(self) -> set[str]:
        return self._live.calls.dirty

    # --- a rebuild from the event log (``hotline.live.warm_start``) ----------------------------

    @property
    def clock(self) -> LiveClock:
        return self._clock

    @property
    def day_start(self) -> datetime:
        return self._day_start

    def rewind(self, ts: datetime, mono: float) -> None:
        """Open the periods that hold ``ts`` (``mono`` on this process's clock), before any
        event is applied: a rebuild replays the day from its start, so every event counts in
        its own interval, and the recent pace is observed from there."""
        self._started_mono = mono
        self._interval_start, self._interval_end = interval_bounds(
            ts, self._zone, self.settings.interval_min
        )
        self._day_start, self._day_end = day_bounds(ts, self._zone)
        self._live.queues.open(self._interval_start, self._day_start)

    def reset(self) -> None:
        """Empty again, from now (a rebuild that failed half-way); queue definitions stay."""
        self._start_empty(self.queue_definitions())

    def replayed(self) -> None:
        """The replay is over: calls still in the IVR were the old process's FastAGI sessions
        (Asterisk has sent them to its native queue), so they are gone from our view; the
        periods roll on to now. Waiting and connected calls stay until the ACD's resync says
        which it still holds (``AcdResynced``)."""
        for call in [c for c in self._live.calls if c.stage is CallStage.IVR]:
            drop(self._live, call)
        self.tick()

    def tick(self) -> None:
        """Roll periods at their boundaries even when no event arrives, and let calls older
        than the recent window drop out of the pace."""
        self._roll(self._clock.wall(), self._clock.mono())
        self._live.queues.prune_recent(self._clock.mono())

    def _roll(self, ts: datetime, mono: float) -> None:
        if ts < self._interval_end:
            return
        # Close the old interval (and day) at the boundary: agents' time up to it goes there.
        boundary_mono = mono - (ts - self._interval_end).total_seconds()
        self._live.agents.accrue_all(boundary_mono)
        new_day = ts >= self._day_end
        self._interval_start, self._interval_end = interval_bounds(
            ts, self._zone, self.settings.interval_min
        )
        if new_day:
            self._day_start, self._day_end = day_bounds(ts, self._zone)
            self._live.agents.new_day()
        self._live.queues.open(self._interval_start, self._day_start if new_day else None)
        self._live.queues.touch_all()

    # --- views --------------------------------------------------------------------------------

    def queue_ids(self) -> list[str]:
        return self._live.queues.ids()

    def queue_definitions(self) -> list[QueueDefinition]:
        """Every queue known, configured or first seen in an event, by id."""
        return self._live.queues.definitions()

    def queues_with_waiting_calls(self) -> list[str]:
        return self._live.queues.with_waiting_calls()

    def queue_stats(self, queue_id: str) -> QueueStats | None:
        queue = self._live.queues.get(queue_id)
        if queue is None:
            return None
        self.tick()
        now = self._clock.mono()
        queue.prune_recent(now)
        # The ACD's estimate when wired; otherwise the last one a queued call carried, which
        # says nothing once the queue is empty.
        if self._ewt is not None:
            ewt = self._ewt(queue_id)
        else:
            ewt = queue.ewt_s if queue.waiting else None
        return figures.queue_stats(
            queue,
            self._live.agents.members(queue_id),
            self.settings,
            now=now,
            observed_s=now - self._started_mono,
            ewt_s=ewt,
            rebuilding=self.rebuilding,
        )

    def agent_ids(self) -> list[str]:
        return self._live.agents.ids()

    def agent_view(self, agent_id: str) -> AgentView | None:
        agent = self._live.agents.get(agent_id)
        return agent.view() if agent is not None else None

    def agent_views(self) -> list[AgentView]:
        """Every agent known, by id."""
        return [agent.view() for agent in sorted(self._live.agents, key=lambda a: a.agent_id)]

    def call_ids(self) -> list[str]:
        return self._live.calls.ids()

    def call_view(self, call_id: str) -> CallView | None:
        call = self._live.calls.get(call_id)
        return call.view(self._masked) if call is not None else None

    def call_views(self) -> list[CallView]:
        """Every active call, in the order first seen."""
        return [call.view(self._masked) for call in self._live.calls]

    def agent_of_call(self, call_id: str) -> str | None:
        call = self._live.calls.get(call_id)
        return call.agent_id if call is not None else None

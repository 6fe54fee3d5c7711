"""Live statistics per queue and the live state of agents and calls, pure: fed domain events,
read through views. No IO, no timers; time comes from the events (``ts`` for period
boundaries, ``mono`` for durations) and, for reads, from an injected clock.

Invariants:
- one event is applied fully or not at all, in arrival order; an event about an unknown call
  or agent creates what it needs (the bus may drop events, the engine may restart);
- a call is *waiting* in one queue at most, from ``call.queued`` until it is answered,
  abandoned, overflowed, falls back or ends; a call that ends while waiting without an abandon
  event is counted as abandoned (never left as a ghost that inflates the longest wait);
- agents' states are taken from ``agent.*`` events and also inferred from call events (offered
  → reserved, answered → on_call, completed → wrap_up), so statistics hold when a publisher
  emits only one of the two;
- a call is counted once per queue visit, as the event log's legs (``call_legs``) store it: a
  call overflowed or transferred into another queue is offered in both; one that leaves a
  queue for another target before an answer (overflow, transfer, or queued elsewhere without
  either event) counts as overflowed there; an answered call's talk ends once, at
  ``call.completed`` or, failing that, when its agent's transfer queues it again; a
  ``resync`` ``call.queued`` (the ACD rebuilt a waiting call) is not offered again;
- AHT is (talk + hold + wrap-up) ÷ talks ended: ``talk_s`` excludes hold, which is summed from
  ``call.unheld`` (its ``hold_s``, else measured from ``call.held``);
- occupancy accrues agent time at each state change and at period boundaries, so an agent on
  a call across 10:15 counts in both intervals for the part in each;
- the recent pace (calls offered, handle time) slides over the last 30 minutes on the
  monotonic clock, apart from the periods; it feeds ``staffing_now`` (agents needed next).

Consumed data keys are documented in ``cti.events``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from cti.events import DomainEvent, EventKind, Scalar
from cti.settings import LiveSettings
from hotline.live.model import (
    AgentCounts,
    AgentView,
    CallView,
    PeriodStats,
    QueueDefinition,
    QueueStats,
    StaffingNow,
)
from hotline.live.periods import Counters, day_bounds, interval_bounds
from hotline.live.staffing_now import RecentWindow, staffing_now
from ivr.digits import mask
from staffing.kpi import service_level

K = EventKind
BUSY = frozenset({"on_call", "wrap_up"})
STAFFED = frozenset({"available", "reserved", "on_call", "wrap_up"})
FIELD_PREFIX = "field."  # IVR-collected fields travel as ``field.<name>`` data keys
CALL_INFO_KEYS = ("caller", "caller_name", "hotline", "product", "language", "vip", "path")


class LiveClock(Protocol):
    def wall(self) -> datetime: ...

    def mono(self) -> float: ...


class SystemClock:
    def wall(self) -> datetime:
        return datetime.now(UTC)

    def mono(self) -> float:
        return time.monotonic()


@dataclass
class _Queue:
    definition: QueueDefinition
    interval: Counters
    today: Counters
    waiting: dict[str, float] = field(default_factory=dict)  # call id → enqueue mono, in order
    ewt_s: float | None = None
    recent_offered: RecentWindow = field(default_factory=RecentWindow)
    recent_completed: RecentWindow = field(default_factory=RecentWindow)
    recent_handle_s: RecentWindow = field(default_factory=RecentWindow)  # talk, hold, wrap-up

    def prune_recent(self, now: float) -> bool:
        windows = (self.recent_offered, self.recent_completed, self.recent_handle_s)
        return any([window.prune(now) for window in windows])  # a list: prune every one


@dataclass
class _Agent:
    agent_id: str
    state: str = "logged_out"
    reason: str | None = None
    since_ts: datetime | None = None
    since_mono: float = 0.0
    accrued_mono: float = 0.0  # occupancy time is counted up to here
    device: str | None = None
    queues: tuple[str, ...] = ()
    call_id: str | None = None
    last_queue: str | None = None  # where the wrap-up time goes
    answered_today: int = 0


@dataclass
class _Call:
    call_id: str
    started: datetime
    state: str = "ivr"
    queue: str | None = None
    agent_id: str | None = None
    queued_ts: datetime | None = None
    queued_mono: float | None = None
    answered_mono: float | None = None
    talk_ended: bool = False  # completed (or requeued) since the last answer
    held_mono: float | None = None
    hold_s: float = 0.0  # held since the last answer
    info: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


def _num(data: Mapping[str, Scalar], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _ids(value: Scalar) -> frozenset[str]:
    """A comma-separated list of ids (``queues``, ``calls``, ``agents`` in event data)."""
    return (
        frozenset(part for part in value.split(",") if part)
        if isinstance(value, str)
        else frozenset()
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator > 0 else None


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
        self.rebuilding = False  # set by the hub while today's event log is replayed
        self._start_empty(queues)

    def _start_empty(self, queues: Iterable[QueueDefinition]) -> None:
        self.queues: dict[str, _Queue] = {}
        self.agents: dict[str, _Agent] = {}
        self.calls: dict[str, _Call] = {}
        self._members: dict[str, set[str]] = {}
        # What changed since the hub last looked (it coalesces and publishes).
        self.dirty_queues: set[str] = set()
        self.dirty_agents: set[str] = set()
        self.dirty_calls: set[str] = set()
        self.rewind(self._clock.wall(), self._clock.mono())
        for definition in queues:
            self._queue(definition.id, definition)

    # --- feeding ------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        self._roll(event.ts, event.mono)
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(self, event)

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
        for queue in self.queues.values():
            queue.interval = Counters(self._interval_start)
            queue.today = Counters(self._day_start)

    def reset(self) -> None:
        """Empty again, from now (a rebuild that failed half-way); queue definitions stay."""
        self._start_empty([queue.definition for queue in self.queues.values()])

    def replayed(self) -> None:
        """The replay is over: calls still in the IVR were the old process's FastAGI sessions
        (Asterisk has sent them to its native queue), so they are gone from our view; the
        periods roll on to now. Waiting and connected calls stay until the ACD's resync says
        which it still holds (``acd.resynced``)."""
        for call in [c for c in self.calls.values() if c.state == "ivr"]:
            self._drop(call)
        self.tick()

    def _drop(self, call: _Call) -> None:
        """Out of our view with no outcome: the event log has none either (its leg stays
        open), so it is counted as nothing, the way reports count it."""
        self._leave_queue(call)
        self._forget(call)
        self.dirty_calls.add(call.call_id)

    def tick(self) -> None:
        """Roll periods at their boundaries even when no event arrives, and let calls older
        than the recent window drop out of the pace."""
        self._roll(self._clock.wall(), self._clock.mono())
        now = self._clock.mono()
        for queue_id, queue in self.queues.items():
            if queue.prune_recent(now):
                self.dirty_queues.add(queue_id)

    def _roll(self, ts: datetime, mono: float) -> None:
        if ts < self._interval_end:
            return
        # Close the old interval (and day) at the boundary: agents' time up to it goes there.
        boundary = self._interval_end
        boundary_mono = mono - (ts - boundary).total_seconds()
        for agent in self.agents.values():
            self._accrue(agent, boundary_mono)
        new_day = ts >= self._day_end
        self._interval_start, self._interval_end = interval_bounds(
            ts, self._zone, self.settings.interval_min
        )
        if new_day:
            self._day_start, self._day_end = day_bounds(ts, self._zone)
            for agent in self.agents.values():
                agent.answered_today = 0
        for queue in self.queues.values():
            queue.interval = Counters(self._interval_start)
            if new_day:
                queue.today = Counters(self._day_start)
        self.dirty_queues.update(self.queues)

    # --- calls --------------------------------------------------------------------------------

    def _call(self, event: DomainEvent) -> _Call | None:
        if event.call_id is None:
            return None
        call = self.calls.get(event.call_id)
        if call is None:
            call = self.calls[event.call_id] = _Call(event.call_id, event.ts)
        self.dirty_calls.add(event.call_id)
        return call

    def _learn(self, call: _Call, data: Mapping[str, Scalar]) -> None:
        for key in CALL_INFO_KEYS:
            value = data.get(key)
            if value is None or value is False:  # the IVR says ``vip: false`` for most callers
                continue
            call.info[key] = "yes" if value is True else str(value)
        for key, value in data.items():
            if key.startswith(FIELD_PREFIX) and value is not None:
                call.fields[key.removeprefix(FIELD_PREFIX)] = str(value)

    def _on_call_info(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is not None:
            self._learn(call, event.data)

    def _on_queued(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None or event.queue is None:
            return
        self._learn(call, event.data)
        resync = event.data.get("resync") is True
        if resync and call.queue == event.queue and call.call_id in self._queue(call.queue).waiting:
            return  # the ACD rebuilt a call it had already queued: offered once
        if call.state in ("connected", "held") and not call.talk_ended:
            # Requeued by its agent's transfer before (or without) call.completed.
            self._end_talk(call, event, {})
        self._exit(call, event)  # queued elsewhere with no exit event: it left all the same
        queue = self._queue(event.queue)
        if "product" not in call.info and queue.definition.product:
            # Publishers do not name the product today: the queue's is what the agent needs.
            call.info["product"] = queue.definition.product
        call.queue, call.state, call.agent_id = event.queue, "waiting", None
        call.queued_ts, call.queued_mono = event.ts, event.mono
        if resync:
            call.queued_mono = event.mono - (_num(event.data, "wait_s") or 0.0)
        queue.waiting[call.call_id] = call.queued_mono
        ewt = _num(event.data, "ewt_s")
        if ewt is not None:
            queue.ewt_s = ewt
        for counters in (queue.interval, queue.today):
            counters.queued += 1
        queue.recent_offered.add(event.mono)

    def _leave_queue(self, call: _Call) -> _Queue | None:
        if call.queue is None:
            return None
        queue = self.queues.get(call.queue)
        if queue is None or queue.waiting.pop(call.call_id, None) is None:
            return None
        self.dirty_queues.add(call.queue)
        return queue

    def _waited(self, call: _Call, event: DomainEvent) -> float:
        given = _num(event.data, "wait_s")
        if given is not None:
            return given
        return max(event.mono - call.queued_mono, 0.0) if call.queued_mono is not None else 0.0

    def _on_offered(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        call.state, call.agent_id = "ringing", event.agent_id
        if event.agent_id is not None:
            agent = self._agent(event.agent_id, event)
            agent.call_id = call.call_id
            self._set_state(agent, "reserved", None, event)

    def _on_ring_no_answer(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        agent_id = event.agent_id or call.agent_id
        call.state, call.agent_id = "waiting", None
        if agent_id is not None:
            agent = self._agent(agent_id, event)
            if agent.state == "reserved" and agent.call_id == call.call_id:
                agent.call_id = None
                self._set_state(agent, "available", None, event)

    def _on_answered(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        if event.data.get("taken_over") is True:
            self._taken_over(call, event)
            return
        queue = self._leave_queue(call)
        call.state, call.answered_mono = "connected", event.mono
        call.talk_ended, call.held_mono, call.hold_s = False, None, 0.0
        call.agent_id = event.agent_id or call.agent_id
        if queue is not None:
            wait = self._waited(call, event)
            within = wait <= self._threshold(queue)
            for counters in (queue.interval, queue.today):
                counters.answered += 1
                counters.answered_within_t += within
                counters.answered_wait_s += wait
        if call.agent_id is not None:
            agent = self._agent(call.agent_id, event)
            agent.call_id, agent.last_queue = call.call_id, call.queue
            agent.answered_today += 1
            self._set_state(agent, "on_call", None, event)

    def _taken_over(self, call: _Call, event: DomainEvent) -> None:
        """A consulted agent has the caller (attended transfer): its answered call, not the
        queue's (the first agent's talk was the queue's handled call, as in reports)."""
        call.state, call.answered_mono = "connected", event.mono
        call.talk_ended, call.held_mono, call.hold_s = True, None, 0.0
        call.agent_id = event.agent_id or call.agent_id
        if call.agent_id is not None:
            agent = self._agent(call.agent_id, event)
            agent.call_id = call.call_id
            agent.answered_today += 1
            self._set_state(agent, "on_call", None, event)

    def _on_completed(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        if not call.talk_ended and call.state != "waiting":
            self._end_talk(call, event, event.data)  # once: not after a requeue ended it
        agent_id = event.agent_id or call.agent_id
        if agent_id is not None:
            agent = self._agent(agent_id, event)
            if agent.state == "on_call":
                self._set_state(agent, "wrap_up", None, event)
        call.state = "completed"

    def _end_talk(self, call: _Call, event: DomainEvent, data: Mapping[str, Scalar]) -> None:
        """The agent's talk is over: one call completed in its queue, with its talk (given,
        else measured without the holds) and the hold not yet counted when the publisher
        totals it (``call.completed``'s ``hold_s``)."""
        call.talk_ended = True
        talk = _num(data, "talk_s")
        if talk is None:
            measured = event.mono - call.answered_mono if call.answered_mono is not None else 0.0
            talk = max(measured - call.hold_s, 0.0)
        total_hold = _num(data, "hold_s")
        extra_hold = max(total_hold - call.hold_s, 0.0) if total_hold is not None else 0.0
        call.hold_s += extra_hold
        if call.queue is None:
            return
        queue = self._queue(call.queue)
        for counters in (queue.interval, queue.today):
            counters.completed += 1
            counters.talk_s += talk
            counters.hold_s += extra_hold
        queue.recent_completed.add(event.mono)
        queue.recent_handle_s.add(event.mono, talk + extra_hold)

    def _on_abandoned(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is not None:
            self._abandon(call, event)
            self._forget(call)

    def _abandon(self, call: _Call, event: DomainEvent) -> None:
        queue = self._leave_queue(call)
        if queue is None:
            return
        wait = self._waited(call, event)
        short = wait < self.settings.short_abandon_s
        within = wait <= self._threshold(queue)
        for counters in (queue.interval, queue.today):
            if short:
                counters.short_abandoned += 1
            else:
                counters.abandoned += 1
                counters.abandoned_within_t += within

    def _on_overflowed(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        self._exit(call, event)
        call.state, call.queue = "overflowed", None

    def _exit(self, call: _Call, event: DomainEvent) -> None:
        """Left its queue unanswered for another target: overflowed there."""
        queue = self._leave_queue(call)
        if queue is not None:
            within = self._waited(call, event) <= self._threshold(queue)
            for counters in (queue.interval, queue.today):
                counters.overflowed += 1
                counters.overflowed_within_t += within

    def _on_transferred(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        self._learn(call, event.data)
        if call.queue is not None and call.call_id in self._queue(call.queue).waiting:
            self._exit(call, event)  # sent elsewhere before an answer
            call.state, call.queue = "transferred", None
        # After an answer (the agent's blind transfer) the talk ends at the call.completed
        # that follows, or when the call is queued again.

    def _on_fallback(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is not None:
            self._leave_queue(call)  # Asterisk's native queue has it now; not ours to count
            call.state, call.queue = "fallback", None

    def _on_hold(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        if event.kind == K.CALL_HELD:
            if call.held_mono is None:
                call.held_mono = event.mono
            if call.state == "connected":
                call.state = "held"
            return
        hold = _num(event.data, "hold_s")
        if hold is None:
            hold = max(event.mono - call.held_mono, 0.0) if call.held_mono is not None else 0.0
        call.held_mono = None
        if call.state == "held":
            call.state = "connected"
        if call.talk_ended:
            return  # after the talk's end: not part of a handled call's time
        call.hold_s += hold
        if call.queue is not None and hold:
            queue = self._queue(call.queue)
            for counters in (queue.interval, queue.today):
                counters.hold_s += hold
            queue.recent_handle_s.add(event.mono, hold)

    def _on_ended(self, event: DomainEvent) -> None:
        call = self._call(event)
        if call is None:
            return
        if call.queue is not None and call.call_id in self.queues[call.queue].waiting:
            self._abandon(call, event)
        agent_id = call.agent_id
        if agent_id is not None and call.state in ("connected", "held"):
            agent = self._agent(agent_id, event)
            if agent.state == "on_call":
                self._set_state(agent, "wrap_up", None, event)
        self._forget(call)

    def _forget(self, call: _Call) -> None:
        self.calls.pop(call.call_id, None)

    def _on_resynced(self, event: DomainEvent) -> None:
        """What the ACD holds after rebuilding from Asterisk: calls it no longer has ended
        while nobody watched (Hotline down, or their events dropped), and agents it has not
        logged in are logged out. Calls still in the IVR are not the ACD's to name."""
        calls = _ids(event.data.get("calls"))
        agents = _ids(event.data.get("agents"))
        for call in [c for c in self.calls.values() if c.state != "ivr"]:
            if call.call_id not in calls:
                self._drop(call)
        for agent in self.agents.values():
            if agent.state != "logged_out" and agent.agent_id not in agents:
                self._set_state(agent, "logged_out", None, event)

    # --- agents -------------------------------------------------------------------------------

    def _agent(self, agent_id: str, event: DomainEvent) -> _Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = self.agents[agent_id] = _Agent(agent_id, since_mono=event.mono)
            agent.accrued_mono = event.mono
            if self._queues_of_agent is not None:
                self._set_queues(agent, self._queues_of_agent(agent_id))
        self.dirty_agents.add(agent_id)
        return agent

    def _set_queues(self, agent: _Agent, queues: Iterable[str]) -> None:
        for queue_id in agent.queues:
            self._members.get(queue_id, set()).discard(agent.agent_id)
            self.dirty_queues.add(queue_id)
        agent.queues = tuple(sorted(set(queues)))
        for queue_id in agent.queues:
            self._queue(queue_id)
            self._members.setdefault(queue_id, set()).add(agent.agent_id)
            self.dirty_queues.add(queue_id)

    def _set_state(self, agent: _Agent, state: str, reason: str | None, event: DomainEvent) -> None:
        if agent.state == state and agent.reason == reason:
            return
        self._accrue(agent, event.mono)
        if agent.state == "wrap_up" and agent.last_queue is not None:
            queue = self._queue(agent.last_queue)
            wrap = max(event.mono - agent.since_mono, 0.0)
            for counters in (queue.interval, queue.today):
                counters.wrap_s += wrap
            queue.recent_handle_s.add(event.mono, wrap)
        if state in ("available", "paused", "logged_out"):
            agent.call_id = None
        agent.state, agent.reason = state, reason
        agent.since_ts, agent.since_mono = event.ts, event.mono
        self.dirty_agents.add(agent.agent_id)
        self.dirty_queues.update(agent.queues)

    def _accrue(self, agent: _Agent, upto: float) -> None:
        elapsed = upto - agent.accrued_mono
        if elapsed <= 0:
            return
        agent.accrued_mono = upto
        if agent.state not in STAFFED:
            return
        busy = agent.state in BUSY
        for queue_id in agent.queues:
            queue = self._queue(queue_id)
            for counters in (queue.interval, queue.today):
                counters.staffed_s += elapsed
                counters.busy_s += elapsed if busy else 0.0

    def _on_logged_in(self, event: DomainEvent) -> None:
        if event.agent_id is None:
            return
        agent = self._agent(event.agent_id, event)
        device = event.data.get("device")
        agent.device = str(device) if device is not None else agent.device
        queues = event.data.get("queues")
        if isinstance(queues, str):
            self._set_queues(agent, _ids(queues))
        self._set_state(agent, "available", None, event)

    def _on_agent_state(self, event: DomainEvent) -> None:
        if event.agent_id is None:
            return
        agent = self._agent(event.agent_id, event)
        reason_value = event.data.get("reason")
        reason = str(reason_value) if reason_value is not None else None
        match event.kind:
            case K.AGENT_LOGGED_OUT:
                self._set_state(agent, "logged_out", None, event)
            case K.AGENT_PAUSED:
                self._set_state(agent, "paused", reason or "break", event)
            case K.AGENT_UNPAUSED:
                self._set_state(agent, "available", None, event)
            case K.AGENT_STATE:
                state = str(event.data.get("state", agent.state))
                self._set_state(agent, state, reason if state == "paused" else None, event)

    # --- reading ------------------------------------------------------------------------------

    def _queue(self, queue_id: str, definition: QueueDefinition | None = None) -> _Queue:
        queue = self.queues.get(queue_id)
        if queue is None:
            queue = self.queues[queue_id] = _Queue(
                definition or QueueDefinition(queue_id),
                Counters(self._interval_start),
                Counters(self._day_start),
            )
            self._members.setdefault(queue_id, set())
        elif definition is not None:
            queue.definition = definition
        self.dirty_queues.add(queue_id)
        return queue

    def _threshold(self, queue: _Queue) -> float:
        return queue.definition.sl_threshold_s or self.settings.sl_threshold_s

    def queue_ids(self) -> list[str]:
        return sorted(self.queues)

    def queue_stats(self, queue_id: str) -> QueueStats | None:
        queue = self.queues.get(queue_id)
        if queue is None:
            return None
        self.tick()
        now = self._clock.mono()
        settings, definition = self.settings, queue.definition
        members = [self.agents[a] for a in sorted(self._members.get(queue_id, ()))]
        # Time in the current state that has not been accrued yet counts too.
        pending_busy = pending_staffed = 0.0
        for agent in members:
            if agent.state in STAFFED:
                elapsed = max(now - agent.accrued_mono, 0.0)
                pending_staffed += elapsed
                pending_busy += elapsed if agent.state in BUSY else 0.0
        oldest = next(iter(queue.waiting.values()), None)
        # The ACD's estimate when wired; otherwise the last one a queued call carried, which
        # says nothing once the queue is empty.
        if self._ewt is not None:
            ewt = self._ewt(queue_id)
        else:
            ewt = queue.ewt_s if queue.waiting else None
        agents = _agent_counts(members)
        today = self._period(queue.today, pending_busy, pending_staffed)
        return QueueStats(
            queue=queue_id,
            name=definition.name or queue_id,
            sl_formula=settings.sl_formula,
            sl_threshold_s=self._threshold(queue),
            sl_target=definition.sl_target or settings.sl_target,
            short_abandon_s=settings.short_abandon_s,
            waiting=len(queue.waiting),
            longest_wait_s=int(now - oldest) if oldest is not None else 0,
            ewt_s=round(ewt) if ewt is not None else None,
            agents=agents,
            interval=self._period(queue.interval, pending_busy, pending_staffed),
            today=today,
            staffing=self._staffing_now(queue, now, agents.logged_in, today.aht_s),
            rebuilding=self.rebuilding,
        )

    def _staffing_now(
        self, queue: _Queue, now: float, logged_in: int, today_aht_s: float | None
    ) -> StaffingNow:
        queue.prune_recent(now)
        completed = queue.recent_completed.count()
        handle = queue.recent_handle_s.total() / completed if completed else today_aht_s
        definition = queue.definition
        return staffing_now(
            offered=queue.recent_offered.count(),
            observed_s=now - self._started_mono,
            handle_s=handle,
            logged_in=logged_in,
            sl_target=definition.sl_target or self.settings.sl_target,
            sl_threshold_s=self._threshold(queue),
        )

    def _period(self, c: Counters, pending_busy: float, pending_staffed: float) -> PeriodStats:
        return PeriodStats(
            start=c.start.isoformat(),
            offered=c.queued,
            answered=c.answered,
            answered_within_t=c.answered_within_t,
            abandoned=c.abandoned,
            abandoned_within_t=c.abandoned_within_t,
            short_abandoned=c.short_abandoned,
            overflowed=c.overflowed,
            service_level=_rounded(service_level(self.settings.sl_formula, c.sl_counts())),
            asa_s=_ratio(c.answered_wait_s, c.answered),
            aht_s=_ratio(c.talk_s + c.hold_s + c.wrap_s, c.completed),
            abandon_rate=_ratio(c.abandoned, c.answered + c.abandoned),
            occupancy=_ratio(c.busy_s + pending_busy, c.staffed_s + pending_staffed),
        )

    def agent_view(self, agent_id: str) -> AgentView | None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return None
        return AgentView(
            agent_id=agent.agent_id,
            state=agent.state,
            reason=agent.reason,
            since=agent.since_ts.isoformat() if agent.since_ts else None,
            device=agent.device,
            queues=list(agent.queues),
            call_id=agent.call_id,
            answered_today=agent.answered_today,
        )

    def call_view(self, call_id: str) -> CallView | None:
        call = self.calls.get(call_id)
        if call is None:
            return None
        masked = set(self.settings.masked_fields)
        info = call.info
        return CallView(
            call_id=call.call_id,
            state=call.state,
            queue=call.queue,
            agent_id=call.agent_id,
            caller=info.get("caller"),
            caller_name=info.get("caller_name"),
            hotline=info.get("hotline"),
            product=info.get("product"),
            language=info.get("language"),
            vip=info.get("vip"),
            ivr_path=info.get("path"),
            fields={
                # Publishers mask already; this is the second lock on the same door.
                name: mask(value) if name in masked and "*" not in value else value
                for name, value in sorted(call.fields.items())
            },
            started=call.started.isoformat(),
            queued=call.queued_ts.isoformat() if call.queued_ts else None,
        )

    def agent_of_call(self, call_id: str) -> str | None:
        call = self.calls.get(call_id)
        return call.agent_id if call is not None else None


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _agent_counts(agents: Iterable[_Agent]) -> AgentCounts:
    counts = dict.fromkeys(("available", "reserved", "on_call", "wrap_up", "paused"), 0)
    logged_in = 0
    reasons: dict[str, int] = {}
    for agent in agents:
        if agent.state == "logged_out":
            continue
        logged_in += 1
        counts[agent.state] = counts.get(agent.state, 0) + 1
        if agent.state == "paused":
            reason = agent.reason or "break"
            reasons[reason] = reasons.get(reason, 0) + 1
    return AgentCounts(
        logged_in=logged_in,
        available=counts["available"],
        ringing=counts["reserved"],
        on_call=counts["on_call"],
        wrap_up=counts["wrap_up"],
        paused=counts["paused"],
        paused_by_reason=dict(sorted(reasons.items())),
    )


# What live statistics consume, in one place.
_HANDLERS: dict[EventKind, Callable[[LiveStats, DomainEvent], None]] = {
    K.CALL_STARTED: LiveStats._on_call_info,
    K.IVR_ENDED: LiveStats._on_call_info,
    K.CALL_TRANSFERRED: LiveStats._on_transferred,
    K.CALL_QUEUED: LiveStats._on_queued,
    K.CALL_OFFERED: LiveStats._on_offered,
    K.CALL_RING_NO_ANSWER: LiveStats._on_ring_no_answer,
    K.CALL_ANSWERED: LiveStats._on_answered,
    K.CALL_COMPLETED: LiveStats._on_completed,
    K.CALL_ABANDONED: LiveStats._on_abandoned,
    K.CALL_OVERFLOWED: LiveStats._on_overflowed,
    K.CALL_FALLBACK: LiveStats._on_fallback,
    K.CALL_HELD: LiveStats._on_hold,
    K.CALL_UNHELD: LiveStats._on_hold,
    K.CALL_ENDED: LiveStats._on_ended,
    K.AGENT_LOGGED_IN: LiveStats._on_logged_in,
    K.AGENT_LOGGED_OUT: LiveStats._on_agent_state,
    K.AGENT_PAUSED: LiveStats._on_agent_state,
    K.AGENT_UNPAUSED: LiveStats._on_agent_state,
    K.AGENT_STATE: LiveStats._on_agent_state,
    K.ACD_RESYNCED: LiveStats._on_resynced,
}

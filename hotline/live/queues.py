"""Queue counters of live statistics: per queue, what it did in the current interval and today,
the calls waiting in it, and the recent pace (``hotline.live.staffing_now``). Pure.

Invariants:
- every count goes to both periods (the interval and today) at once, in the period open when
  the event happened; ``open`` starts new counters and is the only thing that empties them;
- ``waiting`` keeps the calls in the order they were queued (the first is the longest wait);
- a queue is created the first time anything names it, and marked dirty whenever a count,
  its waiting calls or its definition change (the hub republishes dirty queues).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from cti.settings import LiveSettings
from hotline.live.model import QueueDefinition
from hotline.live.periods import Counters
from hotline.live.staffing_now import RecentWindow


@dataclass
class QueueCounters:
    definition: QueueDefinition
    interval: Counters
    today: Counters
    waiting: dict[str, float] = field(default_factory=dict)  # call id → enqueue mono, in order
    ewt_s: float | None = None  # the last estimate a queued call carried
    recent_offered: RecentWindow = field(default_factory=RecentWindow)
    recent_completed: RecentWindow = field(default_factory=RecentWindow)
    recent_handle_s: RecentWindow = field(default_factory=RecentWindow)  # talk, hold, wrap-up

    def threshold(self, settings: LiveSettings) -> float:
        """The service-level threshold T of the queue: its own, else the centre's."""
        return self.definition.sl_threshold_s or settings.sl_threshold_s

    def target(self, settings: LiveSettings) -> float:
        """The service-level target of the queue: its own, else the centre's."""
        return self.definition.sl_target or settings.sl_target

    def prune_recent(self, now: float) -> bool:
        windows = (self.recent_offered, self.recent_completed, self.recent_handle_s)
        return any([window.prune(now) for window in windows])  # a list: prune every one

    def count_queued(self, mono: float) -> None:
        self.interval.queued += 1
        self.today.queued += 1
        self.recent_offered.add(mono)

    def count_answered(self, wait: float, within: bool) -> None:
        for counters in (self.interval, self.today):
            counters.answered += 1
            counters.answered_within_t += within
            counters.answered_wait_s += wait

    def count_abandoned(self, short: bool, within: bool) -> None:
        for counters in (self.interval, self.today):
            if short:
                counters.short_abandoned += 1
            else:
                counters.abandoned += 1
                counters.abandoned_within_t += within

    def count_overflowed(self, within: bool) -> None:
        for counters in (self.interval, self.today):
            counters.overflowed += 1
            counters.overflowed_within_t += within

    def count_completed(self, mono: float, talk: float) -> None:
        for counters in (self.interval, self.today):
            counters.completed += 1
            counters.talk_s += talk
        self.recent_completed.add(mono)
        self.recent_handle_s.add(mono, talk)

    def count_hold(self, mono: float, hold: float) -> None:
        for counters in (self.interval, self.today):
            counters.hold_s += hold
        self.recent_handle_s.add(mono, hold)

    def count_wrap_up(self, mono: float, wrap: float) -> None:
        for counters in (self.interval, self.today):
            counters.wrap_s += wrap
        self.recent_handle_s.add(mono, wrap)

    def count_agent_time(self, staffed: float, busy: float) -> None:
        for counters in (self.interval, self.today):
            counters.staffed_s += staffed
            counters.busy_s += busy


class Queues:
    """Every queue live statistics know, keyed by id, and which changed since the hub looked."""

    def __init__(self, settings: LiveSettings, interval_start: datetime, day_start: datetime):
        self.settings = settings
        self.interval_start = interval_start
        self.day_start = day_start
        self._queues: dict[str, QueueCounters] = {}
        self.dirty: set[str] = set()

    def __iter__(self) -> Iterator[QueueCounters]:
        return iter(self._queues.values())

    def ids(self) -> list[str]:
        return sorted(self._queues)

    def definitions(self) -> list[QueueDefinition]:
        return [self._queues[queue_id].definition for queue_id in self.ids()]

    def get(self, queue_id: str) -> QueueCounters | None:
        return self._queues.get(queue_id)

    def queue(self, queue_id: str, definition: QueueDefinition | None = None) -> QueueCounters:
        """The queue, made on first sight; ``definition`` replaces the one it has."""
        queue = self._queues.get(queue_id)
        if queue is None:
            queue = self._queues[queue_id] = QueueCounters(
                definition or QueueDefinition(queue_id),
                Counters(self.interval_start),
                Counters(self.day_start),
            )
        elif definition is not None:
            queue.definition = definition
        self.dirty.add(queue_id)
        return queue

    def open(self, interval_start: datetime, day_start: datetime | None = None) -> None:
        """New counters from ``interval_start`` (and a new day from ``day_start``)."""
        self.interval_start = interval_start
        if day_start is not None:
            self.day_start = day_start
        for queue in self._queues.values():
            queue.interval = Counters(interval_start)
            if day_start is not None:
                queue.today = Counters(day_start)

    def touch_all(self) -> None:
        self.dirty.update(self._queues)

    def threshold(self, queue: QueueCounters) -> float:
        return queue.threshold(self.settings)

    def is_waiting(self, call_id: str, queue_id: str | None) -> bool:
        if queue_id is None:
            return False
        queue = self._queues.get(queue_id)
        return queue is not None and call_id in queue.waiting

    def leave(self, call_id: str, queue_id: str | None) -> QueueCounters | None:
        """The call no longer waits in ``queue_id``: that queue, or None if it did not wait."""
        if queue_id is None:
            return None
        queue = self._queues.get(queue_id)
        if queue is None or queue.waiting.pop(call_id, None) is None:
            return None
        self.dirty.add(queue_id)
        return queue

    def with_waiting_calls(self) -> list[str]:
        return [queue_id for queue_id, queue in self._queues.items() if queue.waiting]

    def prune_recent(self, now: float) -> None:
        for queue_id, queue in self._queues.items():
            if queue.prune_recent(now):
                self.dirty.add(queue_id)

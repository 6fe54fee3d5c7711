"""The ACD service's timers: the engine's wake-up (one, replaced each time) and one wrap-up
timer per agent, on a ``Scheduler`` (the running loop, or a fake clock in tests).

A timer fires as an input of its own: ``fire(generation, at, step)`` runs ``step`` no earlier
than ``at`` under the service's lock, and does nothing when the generation has moved on (a
rebuild since: an old engine's timer must not act on the new one).
"""

from __future__ import annotations

from collections.abc import Callable

from acd.clock import Clock
from acd.effects import Effect
from acd.ports import Cancellable, Scheduler

Step = Callable[[float], list[Effect]]
Fire = Callable[[int, float, Step], None]


class Timers:
    def __init__(self, scheduler: Scheduler, clock: Clock, fire: Fire) -> None:
        self._scheduler = scheduler
        self._clock = clock
        self._fire = fire
        self.generation = 0
        self._wakeup: Cancellable | None = None
        self._wrap_ups: dict[str, Cancellable] = {}

    def wake_up_at(self, at: float, tick: Step) -> None:
        if self._wakeup is not None:
            self._wakeup.cancel()

        def step(now: float) -> list[Effect]:
            self._wakeup = None
            return tick(now)

        self._wakeup = self._at(at, step)

    def wrap_up_at(self, agent_id: str, at: float, done: Step) -> None:
        old = self._wrap_ups.pop(agent_id, None)
        if old is not None:
            old.cancel()
        self._wrap_ups[agent_id] = self._at(at, done)

    def restart(self) -> None:
        """A rebuild: every timer is cancelled, and any already firing is void."""
        self.cancel()
        self.generation += 1

    def cancel(self) -> None:
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        for handle in self._wrap_ups.values():
            handle.cancel()
        self._wrap_ups.clear()

    def _at(self, at: float, step: Step) -> Cancellable:
        generation = self.generation
        delay = max(0.0, at - self._clock.now())
        return self._scheduler.call_later(delay, lambda: self._fire(generation, at, step))

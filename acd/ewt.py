"""Expected wait time: Hotline's estimate, Asterisk's own, and their measured errors.

Hotline's estimate: a caller at position ``p`` (1 = next) with ``n`` eligible agents logged in
and not paused, all busy, waits for the ``p``-th agent to free. With remaining handle times
spread evenly, agents free at a rate ``n / AHT``, so ``EWT = p × AHT / n``. Free agents
(``available``) serve the first positions at once. AHT is the rolling mean of the last ``N``
handled calls of the queue, blended with a prior (``prior_weight`` pseudo-calls) so a quiet
queue does not announce nonsense from two samples.

Asterisk's ``app_queue`` (``apps/app_queue.c``, read from the asterisk/asterisk repository):
- ``recalc_holdtime(qe, now - qe->start)`` runs when a member answers, with the caller's *wait*
  (not the talk time): ``holdtime = ((old << 2) - old + new) >> 2``, i.e. ``(3·old + new) / 4``
  in integer arithmetic;
- ``say_position`` announces ``avgholdmins = labs(((holdtime + 30) - (now - qe->start)) / 60)``
  and, with ``roundingseconds`` set, ``avgholdsecs = (labs(holdtime + 30 - elapsed) -
  60·avgholdmins) / roundingseconds · roundingseconds``. Position and staffing play no part:
  every caller hears the smoothed wait of past callers minus what it has already waited.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


def estimate_wait(position: int, staffing: int, handle_s: float, available: int = 0) -> float:
    """Seconds a caller at ``position`` (1-based) should expect to wait; ``inf`` if unstaffed."""
    if position <= available:
        return 0.0
    if staffing <= 0:
        return math.inf
    return (position - available) * handle_s / staffing


@dataclass(slots=True)
class HandleTimes:
    """Rolling mean of the last ``window`` handle times, blended with a prior."""

    prior_s: float
    window: int = 50
    prior_weight: float = 3.0
    _samples: deque[float] = field(default_factory=deque)
    _total: float = 0.0

    def record(self, handle_s: float) -> None:
        self._samples.append(handle_s)
        self._total += handle_s
        if len(self._samples) > self.window:
            self._total -= self._samples.popleft()

    @property
    def mean(self) -> float:
        count = len(self._samples)
        return (self.prior_s * self.prior_weight + self._total) / (self.prior_weight + count)

    def __len__(self) -> int:
        return len(self._samples)


@dataclass(slots=True)
class AsteriskHoldTime:
    """``app_queue``'s per-queue smoothed hold time, in whole seconds as Asterisk keeps it."""

    holdtime: int = 0

    def record_answered(self, waited_s: float) -> None:
        new = int(waited_s)  # time_t arithmetic: whole seconds
        old = self.holdtime
        self.holdtime = ((old << 2) - old + new) >> 2

    def announced_wait(self, elapsed_s: float, rounding_seconds: int = 0) -> int:
        """What ``say_position`` would announce, in seconds (minutes·60 + rounded seconds)."""
        remaining = abs((self.holdtime + 30) - int(elapsed_s))
        minutes = remaining // 60  # labs(x / 60) == |x| // 60 for C's truncating division
        seconds = 0
        if rounding_seconds:
            seconds = (remaining - 60 * minutes) // rounding_seconds * rounding_seconds
        return minutes * 60 + seconds


@dataclass(slots=True)
class _ErrorSums:
    count: int = 0
    abs_error: float = 0.0
    signed_error: float = 0.0


@dataclass(slots=True)
class WaitAccuracy:
    """Predicted vs actual wait of answered calls: mean absolute error per queue."""

    _by_queue: dict[str, _ErrorSums] = field(default_factory=dict)

    def record(self, queue_id: str, predicted_s: float, actual_s: float) -> None:
        if math.isinf(predicted_s):
            return  # no staff at prediction time: nothing meaningful to score
        sums = self._by_queue.setdefault(queue_id, _ErrorSums())
        sums.count += 1
        sums.abs_error += abs(predicted_s - actual_s)
        sums.signed_error += predicted_s - actual_s

    def mae(self, queue_id: str | None = None) -> float | None:
        """Mean absolute error in seconds (all queues when ``queue_id`` is None)."""
        groups = self._by_queue.values() if queue_id is None else [self._by_queue.get(queue_id)]
        count = sum(g.count for g in groups if g)
        return sum(g.abs_error for g in groups if g) / count if count else None

    def bias(self, queue_id: str) -> float | None:
        sums = self._by_queue.get(queue_id)
        return sums.signed_error / sums.count if sums and sums.count else None

    def count(self, queue_id: str | None = None) -> int:
        if queue_id is None:
            return sum(g.count for g in self._by_queue.values())
        sums = self._by_queue.get(queue_id)
        return sums.count if sums else 0

"""The engine's per-call timers (relaxation steps, maximum wait), on a heap in its own time.

A timer names its call and the call's overflow hop count when it was set: a call that left,
or moved to another queue since, is no longer due (its timers in the new queue are new).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator


class CallTimers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, str, int]] = []  # at, seq, kind, call, hops
        self._seq = 0

    def schedule(self, at: float, kind: str, call_id: str, hops: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, call_id, hops))

    def next_at(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def due_by(self, now: float) -> bool:
        return bool(self._heap) and self._heap[0][0] <= now

    def due(self, now: float) -> Iterator[tuple[float, list[tuple[str, str, int]]]]:
        """The timers due by ``now``, an instant at a time, earliest first: (at, [(kind,
        call id, hops)]) in the order they were set."""
        while self._heap and self._heap[0][0] <= now:
            at = self._heap[0][0]
            group: list[tuple[str, str, int]] = []
            while self._heap and self._heap[0][0] == at:
                _, _, kind, call_id, hops = heapq.heappop(self._heap)
                group.append((kind, call_id, hops))
            yield at, group

"""The wallboard's "agents needed in the next 30 minutes vs logged in", pure.

Invariants:
- the pace is the recent one: λ = calls offered to the queue (entered it) in the last
  ``WINDOW_S`` seconds ÷ the time observed, which is the window, or less just after start-up
  but never under ``MIN_OBSERVED_S`` (one call in the first seconds is not a storm);
- the handle time is the recent one too: (talk + hold + wrap-up) ÷ calls completed in the same
  window, else today's AHT, else unknown; with calls arriving and no handle time known,
  ``needed`` is None rather than a guess;
- A = λ·AHT Erlang and N is the smallest agent count meeting the queue's own service-level
  target by Erlang C (``staffing.plan.agents_needed_now``); a target of 100 % has no such N
  (Erlang C never reaches it), so ``needed`` is None there as well.
"""

from __future__ import annotations

from collections import deque

from hotline.live.model import StaffingNow
from staffing.plan import Target, agents_needed_now

WINDOW_S = 1800.0  # how far back the pace is measured
HORIZON_S = 1800.0  # what the figure is for: the next 30 minutes
MIN_OBSERVED_S = 300.0


class RecentWindow:
    """Amounts stamped on the monotonic clock, kept for the last ``window_s`` seconds."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._items: deque[tuple[float, float]] = deque()
        self._total = 0.0

    def add(self, mono: float, amount: float = 1.0) -> None:
        self._items.append((mono, amount))
        self._total += amount

    def prune(self, now: float) -> bool:
        """Forget what is older than the window; True if anything went."""
        dropped = False
        while self._items and self._items[0][0] <= now - self.window_s:
            self._total -= self._items.popleft()[1]
            dropped = True
        if not self._items:
            self._total = 0.0  # no float drift left behind
        return dropped

    def count(self) -> int:
        return len(self._items)

    def total(self) -> float:
        return self._total


def staffing_now(
    offered: int,
    observed_s: float,
    handle_s: float | None,
    logged_in: int,
    sl_target: float,
    sl_threshold_s: float,
    window_s: float = WINDOW_S,
) -> StaffingNow:
    """Agents the next ``HORIZON_S`` need at the recent pace, against those logged in."""
    observed = min(max(observed_s, MIN_OBSERVED_S), window_s)
    rate = offered / observed
    needed: int | None = None
    traffic: float | None = None
    if offered == 0:
        needed, traffic = 0, 0.0  # nothing arriving: nobody is needed, whatever the AHT
    elif handle_s is not None and handle_s > 0:
        traffic = rate * handle_s
        target = Target(answer_within_s=sl_threshold_s, service_level=sl_target)
        try:
            needed = agents_needed_now(rate, handle_s, logged_in, target, HORIZON_S).needed
        except ValueError:  # a target of 100 %: no finite N
            needed = None
    return StaffingNow(
        window_s=window_s,
        horizon_s=HORIZON_S,
        offered=offered,
        calls_per_hour=round(rate * 3600.0, 2),
        aht_s=None if handle_s is None else round(float(handle_s), 1),
        traffic=None if traffic is None else round(traffic, 3),
        needed=needed,
        logged_in=logged_in,
        shortfall=None if needed is None else needed - logged_in,
    )

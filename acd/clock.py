"""Clocks for the ACD service: monotonic for every wait and timer, wall only at the edges.

The engine works in monotonic seconds. Asterisk keeps the caller's place in line as epoch
seconds on the channel (``HOTLINE_ACD_ENQUEUED``) because it must survive a restart of Hotline,
whose monotonic origin is gone; ``from_epoch`` maps it back into this process's clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time

    def now(self) -> float:
        return self.monotonic()

    def from_epoch(self, epoch_s: float) -> float:
        """The monotonic time at which the wall clock read ``epoch_s``."""
        return self.monotonic() - (self.wall() - epoch_s)


class LoopScheduler:
    """``acd.ports.Scheduler`` on the running asyncio loop (its clock is monotonic, like
    ``Clock``'s default)."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay_s, callback)

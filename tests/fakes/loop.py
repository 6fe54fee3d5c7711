"""Waiting for other tasks in a test without letting real time pass."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(done: Callable[[], bool], turns: int = 1000) -> None:
    """Let the other tasks run (``sleep(0)``: a turn of the loop, no time) until ``done()``;
    fails after ``turns`` turns."""
    for _ in range(turns):
        if done():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"not done after {turns} turns of the event loop")

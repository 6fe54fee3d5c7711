"""An event loop whose clock jumps, for tests of code that times itself on the loop's clock
(``loop.time()``, ``asyncio.sleep``, ``asyncio.timeout``): the AGI server's watchdogs,
deadlines and grace periods.

Invariant: the clock moves only when the loop has nothing to do, and then straight to the next
timer. "Nothing to do" means no callback is ready and no socket became ready within
``IO_GRACE_S`` of real time: every party of such a test runs in this loop over loopback
sockets, where written bytes are readable at once, so the grace only absorbs the kernel's
hand-off. A 30 s timeout therefore costs a few milliseconds, and which timer fires first
depends on the code, not on how busy the machine is.

Use ``@in_virtual_time`` on an ``async def test_...``: it runs the test on a fresh loop of
this kind and fails it if the test leaves a task running.
"""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine
from typing import Any

IO_GRACE_S = 0.005  # real seconds a socket may take to become ready before time jumps


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:  # callbacks are ready: just poll
            return super().select(0)
        ready = super().select(IO_GRACE_S if timeout is None else min(timeout, IO_GRACE_S))
        if ready:
            return ready
        if timeout is None:  # no timer at all: only the outside world can wake us
            return super().select(None)
        self._loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def in_virtual_time(
    test: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., None]:
    """Run an async test on a ``VirtualTimeLoop``; a task it leaves running fails it."""

    async def checked(*args: Any, **kwargs: Any) -> None:
        before = asyncio.all_tasks()
        await test(*args, **kwargs)
        leaked = {t for t in asyncio.all_tasks() - before if not t.done()}
        leaked.discard(asyncio.current_task())  # type: ignore[arg-type,unused-ignore]
        assert not leaked, leaked

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            runner.run(checked(*args, **kwargs))

    return run

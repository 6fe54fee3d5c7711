"""The ACD's engine and what runs it: one lock, every input's effects published and carried out
on the PBX, the engine's timers, the agents kept in Asterisk.

``AcdService`` turns PBX events and agent requests into engine inputs; ``CallActions`` acts on
connected calls; both apply inputs through this object.

Invariants:
- the engine is touched only under ``lock`` and never across an ``await``: ``apply`` is
  synchronous, and PBX actions (connect, overflow ...) run in their own tasks that report
  back through the lock;
- ``apply`` publishes an input's own events and its effects' before carrying them out;
  during a rebuild (``rebuilding``) the effects are held back and published as one resync;
- a PBX action or timer started before a rebuild (an older timer generation) does nothing
  to the new engine;
- without ``publish`` no event is built and the engine reports no agent steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from typing import Any, assert_never

from acd.agent_state import AgentPaused, WrapUpEnds
from acd.clock import Clock, LoopScheduler
from acd.effects import (
    AgentChanged,
    Effect,
    Ignored,
    OfferCall,
    OfferWithdrawn,
    OverflowCall,
    Rejected,
    WakeUpAt,
)
from acd.engine import AcdEngine
from acd.model import AcdConfig
from acd.ports import AcdPbx, Scheduler
from acd.publisher import AcdPublisher, Publish
from acd.saved_agents import SavedAgents
from acd.timers import Step, Timers
from cti.call_control import CallControlError
from cti.events import DomainEvent

log = logging.getLogger("acd.service")


class AcdCore:
    def __init__(
        self,
        config: AcdConfig,
        pbx: AcdPbx,
        clock: Clock,
        scheduler: Scheduler | None,
        publish: Publish | None,
        saved: SavedAgents,
    ) -> None:
        self._config = config
        self._pbx = pbx
        self._clock = clock
        self.publisher = AcdPublisher(publish, clock, config)
        self._engine = self._new_engine()
        self.lock = asyncio.Lock()
        self.saved = saved
        self.timers = Timers(scheduler or LoopScheduler(), clock, self._timer_fired)
        self._held_back: list[Effect] | None = None  # during a rebuild
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def config(self) -> AcdConfig:
        return self._config

    @property
    def engine(self) -> AcdEngine:
        return self._engine

    def now(self) -> float:
        return self._clock.now()

    def use_config(self, config: AcdConfig, *, new_engine: bool = False) -> None:
        self._config = config
        self.publisher.use_config(config)
        if new_engine:
            self._engine = self._new_engine()

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[tuple[AcdEngine, list[Effect]]]:
        """A new, empty engine to rebuild, with timers restarted. Yields the old engine and
        the list that collects what the rebuild applies: its events are built from that list
        once it is done (a resync), not input by input."""
        old = self._engine
        self.timers.restart()
        self._engine = self._new_engine()
        held: list[Effect] = []
        self._held_back = held
        try:
            yield old, held
        finally:
            self._held_back = None

    def apply(self, effects: list[Effect], first: Sequence[DomainEvent] = ()) -> None:
        """Publish what the input changed (its own events ``first``), then carry it out."""
        if self.publisher.enabled:
            if self._held_back is not None:
                self._held_back += effects  # published as a whole once the rebuild is done
            else:
                self.publisher.effects(self._engine, effects, first)
        self._carry_out(effects)

    def catch_up(self, now: float) -> None:
        """Timers already due run as their own input first (only matters for publishing:
        an input's own event is then built from the state it really applies to)."""
        if not self.publisher.enabled:
            return
        due = self._engine.next_wakeup()
        if due is not None and due <= now:
            self.apply(self._engine.tick(now))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        self.timers.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    # --- carrying effects out -----------------------------------------------------------------

    def _carry_out(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            match effect:
                case OfferCall():
                    self.spawn(self._connect(effect, self.timers.generation))
                case OverflowCall(call_id, from_queue, target, reason, waited):
                    log.info(
                        "acd overflow",
                        extra={"call_id": call_id, "queue": from_queue, "target": target.name,
                               "kind": target.kind, "why": reason, "waited_s": round(waited, 3)},
                    )  # fmt: skip
                    if target.kind != "queue":
                        self.spawn(self._overflow(call_id, target.kind, target.name))
                case WakeUpAt(at):
                    self.timers.wake_up_at(at, self._tick)
                case WrapUpEnds(agent_id, at):
                    self.timers.wrap_up_at(agent_id, at, self._wrap_up_done(agent_id))
                case AgentPaused(agent_id, reason):
                    log.info("acd agent paused", extra={"agent": agent_id, "reason": reason})
                    self.saved.save(agent_id)
                case OfferWithdrawn(call_id, agent_id, reason):
                    # The caller left; Asterisk ends the Dial by itself.
                    log.debug("acd offer withdrawn", extra={"call_id": call_id, "why": reason})
                case AgentChanged():
                    pass  # published (``apply``); nothing to do on the PBX
                case Ignored() | Rejected():
                    log.debug("acd input not applied", extra={"effect": repr(effect)})
                case _:
                    assert_never(effect)

    async def _connect(self, offer: OfferCall, generation: int) -> None:
        try:
            await self._pbx.connect(
                offer.call_id, offer.device, offer.ring_timeout_s, offer.agent_id, offer.decision_id
            )
            return
        except CallControlError as exc:
            error = str(exc)
        try:
            gone = not await self._pbx.channel_exists(offer.call_id)
        except CallControlError:
            gone = False
        async with self.lock:
            if generation != self.timers.generation:
                return
            now = self._clock.now()
            self.catch_up(now)
            record = self._engine.calls.get(offer.call_id)
            if record is None or record.state != "offered" or record.agent_id != offer.agent_id:
                return  # moved on meanwhile (answered elsewhere, left, or a timer was due)
            log.warning(
                "acd could not connect a call",
                extra={"call_id": offer.call_id, "agent": offer.agent_id, "error": error},
            )
            if gone:
                left = self.publisher.caller_left(record)
                self.apply(self._engine.call_abandoned(offer.call_id, now), left)
                return
            reason = "redirect-failed"
            missed = self.publisher.ring_no_answer(
                self._engine, offer.call_id, offer.agent_id, reason
            )
            self.apply(
                self._engine.offer_failed(offer.call_id, offer.agent_id, now, reason), missed
            )

    async def mark_answered(self, call_id: str, epoch: float) -> None:
        try:
            await self._pbx.mark_answered(call_id, epoch)
        except CallControlError as exc:  # the caller may be gone already; only a restart needs it
            log.debug("acd could not keep the answer time", extra={"error": str(exc)})

    async def _overflow(self, call_id: str, kind: str, target: str) -> None:
        try:
            await self._pbx.overflow(call_id, kind, target)
        except CallControlError as exc:
            log.warning("acd overflow failed", extra={"call_id": call_id, "error": str(exc)})

    # --- timers -------------------------------------------------------------------------------

    def _tick(self, now: float) -> list[Effect]:
        return self._engine.tick(now)

    def _wrap_up_done(self, agent_id: str) -> Step:
        return lambda now: self._engine.wrap_up_done(agent_id, now)

    def _timer_fired(self, generation: int, at: float, step: Step) -> None:
        async def run() -> None:
            async with self.lock:
                if generation == self.timers.generation:
                    # Never earlier than asked: the engine ignores an early wrap-up as stale.
                    self.apply(step(max(self._clock.now(), at)))

        self.spawn(run())

    def _new_engine(self) -> AcdEngine:
        return AcdEngine(self._config, report_agents=self.publisher.enabled)

"""The ACD service: a thin async shell that feeds PBX events to ``AcdEngine`` and carries out
its effects on Asterisk. Event-driven: nothing polls; the only timers are the engine's own
``WakeUpAt`` (one, replaced each time) and one wrap-up timer per agent.

Invariants:
- the engine is touched only under ``_lock`` and never across an ``await``, so every input
  sees the state the previous one left; AMI actions (Redirect …) run in their own tasks and
  report back through the lock, so the event consumer never waits for Asterisk;
- ``resync`` (start-up, every AMI reconnect) rebuilds the engine from Asterisk — callers on
  hold keep their original enqueue time (a channel variable), agents their login (Asterisk's
  database) — and bumps ``_generation``: results of actions and timers started before it are
  dropped, so an old engine's decision is never carried out against the new one;
- an agent whose caller is still connected at a resync is paused with ``RESYNC_BUSY`` until
  that call ends (the engine has no input for "already on a call"), so it gets no second call;
- the engine's clock is monotonic (``Clock``); wall time only converts the enqueue epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

from acd.agent_state import AgentPaused, AgentState, AgentStatus, WrapUpEnds
from acd.asterisk import (
    AcdPbx,
    AmiAcdPbx,
    ChannelGone,
    DeviceState,
    HoldEntered,
    HoldTimedOut,
    OfferAnswered,
    OfferNotAnswered,
    PbxError,
    PbxEvent,
    PbxSnapshot,
    SavedAgent,
    device_key,
)
from acd.clock import Clock
from acd.effects import (
    CallArrived,
    Effect,
    Ignored,
    OfferCall,
    OfferWithdrawn,
    OverflowCall,
    Rejected,
    WakeUpAt,
)
from acd.engine import AcdEngine, Announcement
from acd.loader import load_acd_config
from acd.model import AcdConfig
from cti.ami.client import AmiClient
from cti.settings import Settings

log = logging.getLogger("acd.service")

RESYNC_BUSY = "resync-busy"  # paused: on a call that began before Hotline (re)started
DEVICE_UNAVAILABLE = "device-unavailable"
_UNAVAILABLE_STATES = frozenset({"UNAVAILABLE", "INVALID"})
_INTERNAL_REASONS = frozenset({RESYNC_BUSY})


class AcdRequestRejected(Exception):
    """An agent request the state table forbids now (e.g. pause while on a call)."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(f"{rejected.event} {rejected.subject}: {rejected.reason}")
        self.rejected = rejected


class AcdService:
    def __init__(self, config: AcdConfig, pbx: AcdPbx, *, clock: Clock | None = None) -> None:
        self.config = config
        self.engine = AcdEngine(config)
        self._pbx = pbx
        self._clock = clock or Clock()
        self._lock = asyncio.Lock()
        self._generation = 0
        self._wakeup: asyncio.TimerHandle | None = None
        self._wrap_ups: dict[str, asyncio.TimerHandle] = {}
        self._resync_busy: dict[str, str] = {}  # call id → agent paused with RESYNC_BUSY
        self._device_agents: dict[str, set[str]] = {}  # device_key → logged-in agent ids
        self._touched: set[str] = set()  # agents this process changed (memory beats astdb)
        self._tasks: set[asyncio.Task[None]] = set()
        self._saves: asyncio.Queue[str] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._saver: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Consume PBX events; rebuild from Asterisk now if it is reachable (otherwise the AMI
        ``on_connect`` hook calls ``resync`` once it is)."""
        self._consumer = asyncio.create_task(self._consume(), name="acd-events")
        self._saver = asyncio.create_task(self._save_agents(), name="acd-agent-store")
        try:
            await self.resync()
        except PbxError as exc:
            log.warning("ACD resync deferred until AMI connects", extra={"error": str(exc)})

    async def stop(self) -> None:
        self._cancel_timers()
        self._pbx.close()
        for task in (self._consumer, self._saver, *self._tasks):
            if task is not None:
                task.cancel()
        for task in (self._consumer, self._saver, *self._tasks):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._tasks.clear()

    async def resync(self, _ami: AmiClient | None = None) -> None:
        """Rebuild the engine from Asterisk (callers on hold, connected calls, saved agents).
        Signature fits ``AmiClient(on_connect=...)``."""
        async with self._lock:
            snapshot = await self._pbx.snapshot()
            self._rebuild(snapshot)

    # --- agents -------------------------------------------------------------------------------

    async def login(self, agent_id: str, device: str | None = None) -> AgentStatus:
        return await self._agent_request(
            agent_id, lambda now: self.engine.login(agent_id, now, device)
        )

    async def logout(self, agent_id: str) -> AgentStatus:
        return await self._agent_request(agent_id, lambda now: self.engine.logout(agent_id, now))

    async def pause(self, agent_id: str, reason: str = "break") -> AgentStatus:
        return await self._agent_request(
            agent_id, lambda now: self.engine.pause(agent_id, reason, now)
        )

    async def unpause(self, agent_id: str) -> AgentStatus:
        return await self._agent_request(agent_id, lambda now: self.engine.unpause(agent_id, now))

    def agent(self, agent_id: str) -> AgentStatus:
        return self.engine.agents.get(agent_id) or AgentStatus(agent_id)

    def announcement(self, call_id: str) -> Announcement | None:
        return self.engine.announcement(call_id, self._clock.now())

    async def _agent_request(
        self, agent_id: str, request: Callable[[float], list[Effect]]
    ) -> AgentStatus:
        async with self._lock:
            effects = request(self._clock.now())
            self._apply(effects)
            self._touched.add(agent_id)
            self._index_device(agent_id)
            self._saves.put_nowait(agent_id)
        for effect in effects:
            if isinstance(effect, Rejected) and effect.subject == agent_id:
                raise AcdRequestRejected(effect)
        return self.agent(agent_id)

    # --- events -------------------------------------------------------------------------------

    async def _consume(self) -> None:
        async for event in self._pbx.events():
            async with self._lock:
                try:
                    self._handle(event)
                except Exception:
                    # One bad event must not stop routing for everyone else.
                    log.exception("ACD failed to handle an event", extra={"event": repr(event)})

    def _handle(self, event: PbxEvent) -> None:
        now = self._clock.now()
        engine = self.engine
        match event:
            case HoldEntered():
                if event.call_id not in engine.calls:
                    self._arrive(event, now)
            case OfferAnswered(call_id):
                record = engine.calls.get(call_id)
                if record is not None and record.state == "offered" and record.agent_id:
                    waited = now - record.entry.enqueued_at
                    log.info(
                        "acd call answered",
                        extra={
                            "call_id": call_id,
                            "queue": record.entry.queue_id,
                            "agent": record.agent_id,
                            "waited_s": round(waited, 3),
                            "predicted_wait_s": _seconds(record.predicted_wait),
                            "asterisk_predicted_wait_s": _seconds(record.asterisk_predicted),
                        },
                    )
                    self._apply(engine.offer_answered(call_id, record.agent_id, now))
            case OfferNotAnswered(call_id, agent_id, status):
                if call_id in self._resync_busy:
                    self._release_resync_busy(call_id, now)
                else:
                    self._apply(engine.offer_failed(call_id, agent_id, now, status.lower()))
            case HoldTimedOut(call_id):
                if call_id in engine.calls:
                    log.warning("acd hold timed out: native queue", extra={"call_id": call_id})
                    self._apply(engine.call_abandoned(call_id, now))
            case ChannelGone(call_id):
                if call_id in self._resync_busy:
                    self._release_resync_busy(call_id, now)
                record = engine.calls.get(call_id)
                if record is None:
                    return
                if record.state == "connected":
                    self._apply(engine.call_ended(call_id, now))
                else:
                    log.info(
                        "acd call abandoned",
                        extra={
                            "call_id": call_id,
                            "queue": record.entry.queue_id,
                            "waited_s": round(now - record.entry.enqueued_at, 3),
                        },
                    )
                    self._apply(engine.call_abandoned(call_id, now))
            case DeviceState(device, state):
                for agent_id in list(self._device_agents.get(device, ())):
                    self._device_changed(agent_id, state, now)

    def _arrive(self, held: HoldEntered, now: float) -> None:
        enqueued = now
        if held.enqueued_epoch is not None:
            enqueued = min(now, self._clock.from_epoch(held.enqueued_epoch))
        call = CallArrived(
            held.call_id, held.queue_id, enqueued, held.priority, held.skills, held.language
        )
        effects = self.engine.call_arrived(call, now)
        for effect in effects:
            if isinstance(effect, Rejected):
                # Left on hold: the dialplan's bounded wait takes it to the native queue.
                log.warning(
                    "acd refused a call",
                    extra={"call_id": held.call_id, "queue": held.queue_id, "why": effect.reason},
                )
        self._apply(effects)

    def _device_changed(self, agent_id: str, state: str, now: float) -> None:
        status = self.engine.agents.get(agent_id)
        if status is None:
            return
        if state in _UNAVAILABLE_STATES and status.state is AgentState.AVAILABLE:
            self._apply(self.engine.pause(agent_id, DEVICE_UNAVAILABLE, now))
        elif state == "NOT_INUSE" and status.pause_reason == DEVICE_UNAVAILABLE:
            self._apply(self.engine.unpause(agent_id, now))

    def _release_resync_busy(self, call_id: str, now: float) -> None:
        agent_id = self._resync_busy.pop(call_id)
        status = self.engine.agents.get(agent_id)
        if status is not None and status.pause_reason == RESYNC_BUSY:
            self._apply(self.engine.unpause(agent_id, now))

    # --- effects ------------------------------------------------------------------------------

    def _apply(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            match effect:
                case OfferCall():
                    self._spawn(self._connect(effect, self._generation))
                case OverflowCall(call_id, from_queue, target, reason, waited):
                    log.info(
                        "acd overflow",
                        extra={"call_id": call_id, "queue": from_queue, "target": target.name,
                               "kind": target.kind, "why": reason, "waited_s": round(waited, 3)},
                    )  # fmt: skip
                    if target.kind != "queue":
                        self._spawn(self._overflow(call_id, target.kind, target.name))
                case WakeUpAt(at):
                    self._set_wakeup(at)
                case WrapUpEnds(agent_id, at):
                    self._set_wrap_up(agent_id, at)
                case AgentPaused(agent_id, reason):
                    log.info("acd agent paused", extra={"agent": agent_id, "reason": reason})
                    self._saves.put_nowait(agent_id)
                case OfferWithdrawn(call_id, agent_id, reason):
                    # The caller left; Asterisk ends the Dial by itself.
                    log.debug("acd offer withdrawn", extra={"call_id": call_id, "why": reason})
                case Ignored() | Rejected():
                    log.debug("acd input not applied", extra={"effect": repr(effect)})

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, offer: OfferCall, generation: int) -> None:
        try:
            await self._pbx.connect(
                offer.call_id,
                offer.device,
                offer.ring_timeout_s,
                offer.agent_id,
                offer.decision_id,
            )
            return
        except PbxError as exc:
            error = str(exc)
        try:
            gone = not await self._pbx.channel_exists(offer.call_id)
        except PbxError:
            gone = False
        async with self._lock:
            record = self.engine.calls.get(offer.call_id)
            if generation != self._generation or record is None or record.state != "offered":
                return
            now = self._clock.now()
            log.warning(
                "acd could not connect a call",
                extra={"call_id": offer.call_id, "agent": offer.agent_id, "error": error},
            )
            if gone:
                self._apply(self.engine.call_abandoned(offer.call_id, now))
            else:
                self._apply(
                    self.engine.offer_failed(offer.call_id, offer.agent_id, now, "redirect-failed")
                )

    async def _overflow(self, call_id: str, kind: str, target: str) -> None:
        try:
            await self._pbx.overflow(call_id, kind, target)
        except PbxError as exc:
            log.warning("acd overflow failed", extra={"call_id": call_id, "error": str(exc)})

    # --- timers -------------------------------------------------------------------------------

    def _set_wakeup(self, at: float) -> None:
        if self._wakeup is not None:
            self._wakeup.cancel()
        delay = max(0.0, at - self._clock.now())
        self._wakeup = asyncio.get_running_loop().call_later(
            delay, self._timer_fired, self._tick, at, self._generation
        )

    def _set_wrap_up(self, agent_id: str, at: float) -> None:
        old = self._wrap_ups.pop(agent_id, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, at - self._clock.now())
        self._wrap_ups[agent_id] = asyncio.get_running_loop().call_later(
            delay,
            self._timer_fired,
            lambda now: self.engine.wrap_up_done(agent_id, now),
            at,
            self._generation,
        )

    def _tick(self, now: float) -> list[Effect]:
        self._wakeup = None
        return self.engine.tick(now)

    def _timer_fired(
        self, fire: Callable[[float], list[Effect]], at: float, generation: int
    ) -> None:
        async def run() -> None:
            async with self._lock:
                if generation == self._generation:
                    # Never earlier than asked: the engine ignores an early wrap-up as stale.
                    self._apply(fire(max(self._clock.now(), at)))

        self._spawn(run())

    def _cancel_timers(self) -> None:
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        for handle in self._wrap_ups.values():
            handle.cancel()
        self._wrap_ups.clear()

    # --- restart ------------------------------------------------------------------------------

    def _rebuild(self, snapshot: PbxSnapshot) -> None:
        old = self.engine
        self._cancel_timers()
        self._generation += 1
        self.engine = AcdEngine(self.config)
        self._resync_busy.clear()
        self._device_agents.clear()
        now = self._clock.now()
        for agent in self._agents_to_restore(old, snapshot):
            self._apply(self.engine.login(agent.agent_id, now, agent.device))
            self._index_device(agent.agent_id)
            if agent.pause_reason:
                self._apply(self.engine.pause(agent.agent_id, agent.pause_reason, now))
        for call in snapshot.connecting:
            status = self.engine.agents.get(call.agent_id)
            if status is not None and status.state is AgentState.AVAILABLE:
                self._apply(self.engine.pause(call.agent_id, RESYNC_BUSY, now))
                self._resync_busy[call.call_id] = call.agent_id
        for agent_ids in list(self._device_agents.items()):
            device, ids = agent_ids
            state = snapshot.device_states.get(device)
            for agent_id in list(ids):
                if state is not None:
                    self._device_changed(agent_id, state, now)
        held = sorted(snapshot.held, key=lambda h: h.enqueued_epoch or math.inf)
        for waiting in held:
            self._arrive(waiting, now)
        log.info(
            "acd resynced from Asterisk",
            extra={
                "agents": sum(1 for s in self.engine.agents.values() if s.state != "logged_out"),
                "waiting": len(held),
                "connected": len(snapshot.connecting),
            },
        )

    def _agents_to_restore(self, old: AcdEngine, snapshot: PbxSnapshot) -> list[SavedAgent]:
        """What this process knows beats Asterisk's copy (a reconnect, not a restart)."""
        restore: dict[str, SavedAgent] = {}
        for saved in snapshot.agents:
            if saved.agent_id in self.engine.agent_config and saved.agent_id not in self._touched:
                restore[saved.agent_id] = saved
        for agent_id in self._touched:
            status = old.agents.get(agent_id)
            if status is None or status.state is AgentState.LOGGED_OUT or not status.device:
                restore.pop(agent_id, None)
                continue
            reason = status.pause_reason if status.state is AgentState.PAUSED else None
            if reason in _INTERNAL_REASONS:
                reason = None
            restore[agent_id] = SavedAgent(agent_id, status.device, reason)
        return list(restore.values())

    def _index_device(self, agent_id: str) -> None:
        for agents in self._device_agents.values():
            agents.discard(agent_id)
        status = self.engine.agents.get(agent_id)
        if status is not None and status.device and status.state is not AgentState.LOGGED_OUT:
            self._device_agents.setdefault(device_key(status.device), set()).add(agent_id)

    async def _save_agents(self) -> None:
        """Write agents' login and pause to Asterisk's database, in order, the latest state."""
        while True:
            agent_id = await self._saves.get()
            status = self.engine.agents.get(agent_id)
            saved: SavedAgent | None = None
            if status is not None and status.state is not AgentState.LOGGED_OUT and status.device:
                reason = status.pause_reason if status.state is AgentState.PAUSED else None
                if reason in _INTERNAL_REASONS:
                    self._saves.task_done()
                    continue
                saved = SavedAgent(agent_id, status.device, reason)
            try:
                await self._pbx.save_agent(agent_id, saved)
            except PbxError as exc:
                log.warning(
                    "acd could not save an agent", extra={"agent": agent_id, "error": str(exc)}
                )
            finally:
                self._saves.task_done()

    async def flush(self) -> None:
        """Wait until every agent change has been written to Asterisk (tests, shutdown)."""
        await self._saves.join()


def _seconds(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 3)


def load_config(config_dir: Path) -> AcdConfig:
    agents = config_dir / "agents.yaml"
    skills = config_dir / "skills.yaml"
    return load_acd_config(
        config_dir / "queues.yaml",
        agents if agents.exists() else None,
        skills if skills.exists() else None,
    )


def build_acd(settings: Settings, ami: AmiClient, *, config: AcdConfig | None = None) -> AcdService:
    """The ACD over ``settings.config_dir`` (queues, agents, skills) and the shared AMI client."""
    return AcdService(config or load_config(settings.config_dir), AmiAcdPbx(ami))

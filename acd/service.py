"""The ACD service: feeds PBX events and agent requests to the engine (through ``AcdCore``,
which carries out their effects on Asterisk) and rebuilds it from Asterisk at every
(re)connect. Event-driven: nothing polls.

Collaborators: ``AcdCore`` (engine, lock, effects, timers, events), ``CallActions`` (hold and
transfers of connected calls), ``SavedAgents`` (logins kept in Asterisk, device index),
``plan_resync`` (what a rebuild restores). Ports: ``AcdPbx`` and ``Scheduler``.

Invariants:
- every input runs under the core's lock, never across an ``await``;
- ``resync`` (start-up, every AMI reconnect, lost events) rebuilds the engine from Asterisk —
  callers on hold keep their original enqueue time (a channel variable), agents their login
  (Asterisk's database) — and what was started before it never acts on the new engine;
- a call found talking (or on hold) at a resync goes back into the engine on call with its
  agent (``AcdEngine.adopt_connected``); an agent whose phone still rings for a caller then, or
  whose call cannot be adopted, is paused with ``RESYNC_BUSY`` until that call ends, so it
  gets no second call;
- the engine's clock is monotonic (``Clock``); wall time only converts the enqueue epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable
from typing import assert_never

from acd.agent_state import AgentState, AgentStatus
from acd.call_actions import CallActions
from acd.call_record import Announcement
from acd.clock import Clock
from acd.core import AcdCore
from acd.effects import (
    CallArrived,
    Effect,
    Rejected,
)
from acd.engine import AcdEngine
from acd.model import AcdConfig, Agent
from acd.pbx_events import (
    AgentHungUp,
    ChannelGone,
    ConsultEnded,
    DeviceState,
    EventsLost,
    HoldEntered,
    HoldTimedOut,
    OfferAnswered,
    OfferNotAnswered,
    PbxCallEvent,
    PbxSnapshot,
)
from acd.ports import AcdPbx, Scheduler
from acd.publisher import Publish
from acd.resync import plan_resync
from acd.saved_agents import SavedAgents
from cti.call_control import CallControlError

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
    """Routing; the agent's actions on its connected call are ``calls`` (``CallActions``)."""

    def __init__(
        self,
        config: AcdConfig,
        pbx: AcdPbx,
        *,
        clock: Clock | None = None,
        scheduler: Scheduler | None = None,
        publish: Publish | None = None,
        transfer_context: str = "hotline-transfer",
    ) -> None:
        self._pbx = pbx
        self._clock = clock or Clock()
        self._agents = SavedAgents(_INTERNAL_REASONS)
        self._core = AcdCore(config, pbx, self._clock, scheduler, publish, self._agents)
        self.calls = CallActions(self._core, pbx, transfer_context)
        self._resync_busy: dict[str, str] = {}  # call id → agent paused with RESYNC_BUSY
        self._consumer: asyncio.Task[None] | None = None
        self._saver: asyncio.Task[None] | None = None

    @property
    def config(self) -> AcdConfig:
        return self._core.config

    @property
    def engine(self) -> AcdEngine:
        return self._core.engine

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self, *, resync: bool = True) -> None:
        """Consume PBX events; rebuild from Asterisk now if it is reachable (otherwise the AMI
        ``on_connect`` hook calls ``resync`` once it is). ``resync=False`` when that hook is
        wired and AMI is started afterwards: the first connect then rebuilds, once."""
        self._consumer = asyncio.create_task(self._consume(), name="acd-events")
        self._saver = asyncio.create_task(
            self._agents.run(self._engine_agent, self._pbx.save_agent), name="acd-agent-store"
        )
        if not resync:
            return
        try:
            await self.resync()
        except CallControlError as exc:
            log.warning("ACD resync deferred until AMI connects", extra={"error": str(exc)})

    async def stop(self) -> None:
        self._pbx.close()
        for task in (self._consumer, self._saver):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._core.stop()

    async def resync(self, _client: object = None) -> None:
        """Rebuild the engine from Asterisk (callers on hold, connected calls, saved agents).
        Signature fits ``AmiClient(on_connect=...)``."""
        async with self._core.lock:
            snapshot = await self._pbx.snapshot()
            self._rebuild(snapshot)

    async def flush(self) -> None:
        """Wait until every agent change has been written to Asterisk (tests, shutdown)."""
        await self._agents.flush()

    # --- agents' configuration ----------------------------------------------------------------

    def use_agents(self, agents: Iterable[Agent]) -> None:
        """Replace the configured agents (e.g. the database's list) before ``start``."""
        if self._consumer is not None:
            raise RuntimeError("use_agents is for start-up; update_agent once running")
        self._core.use_config(self._with_agents(agents), new_engine=True)

    async def update_agent(self, agent: Agent) -> None:
        """An edited agent. The engine's skills index keeps the skills an agent logged in
        with, so new skills take effect at its next login (a resync logs it in again, so there
        too); device at the next login; wrap-up and no-answer limit at its next call."""
        async with self._core.lock:
            if agent.id not in self.engine.agent_config:
                raise KeyError(agent.id)
            agents = (agent if a.id == agent.id else a for a in self.config.agents)
            self._core.use_config(self._with_agents(agents))
            self.engine.upsert_agent(agent)

    def _with_agents(self, agents: Iterable[Agent]) -> AcdConfig:
        # Validated again (duplicates, skills unknown to the catalogue), as at load.
        config = self.config
        return AcdConfig(skills=config.skills, queues=config.queues, agents=tuple(agents))

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

    def _engine_agent(self, agent_id: str) -> AgentStatus | None:
        return self.engine.agents.get(agent_id)

    async def _agent_request(
        self, agent_id: str, request: Callable[[float], list[Effect]]
    ) -> AgentStatus:
        async with self._core.lock:
            effects = request(self._clock.now())
            self._core.apply(effects)
            self._agents.touched.add(agent_id)
            self._agents.index(agent_id, self.engine.agents.get(agent_id))
            self._agents.save(agent_id)
        for effect in effects:
            if isinstance(effect, Rejected) and effect.subject == agent_id:
                raise AcdRequestRejected(effect)
        return self.agent(agent_id)

    # --- events -------------------------------------------------------------------------------

    async def _consume(self) -> None:
        async for event in self._pbx.events():
            if isinstance(event, EventsLost):
                log.error(
                    "ACD lost AMI events; rebuilding from Asterisk", extra={"lost": event.count}
                )
                self._core.spawn(self._resync_after_loss())
                continue
            async with self._core.lock:
                try:
                    self._handle(event)
                except Exception:
                    # One bad event must not stop routing for everyone else.
                    log.exception("ACD failed to handle an event", extra={"event": repr(event)})

    async def _resync_after_loss(self) -> None:
        try:
            await self.resync()
        except CallControlError as exc:
            log.warning(
                "ACD resync failed; the next AMI connect retries", extra={"error": str(exc)}
            )

    def _handle(self, event: PbxCallEvent) -> None:
        now = self._clock.now()
        self._core.catch_up(now)
        engine, publisher, apply = self.engine, self._core.publisher, self._core.apply
        match event:
            case HoldEntered():
                # Known and connected: transferred back into the ACD (its agent's part ends).
                if event.call_id not in engine.calls or self.calls.transferred_back(
                    event.call_id, event.queue_id, now
                ):
                    self._arrive(event, now)
            case OfferAnswered(call_id, agent_channel_id):
                self._answered(call_id, agent_channel_id, now)
            case OfferNotAnswered(call_id, agent_id, status):
                if call_id in self._resync_busy:
                    self._release_resync_busy(call_id, now)
                else:
                    reason = status.lower()
                    missed = publisher.ring_no_answer(engine, call_id, agent_id, reason)
                    apply(engine.offer_failed(call_id, agent_id, now, reason), missed)
            case HoldTimedOut(call_id):
                record = engine.calls.get(call_id)
                if record is not None:
                    log.warning("acd hold timed out: native queue", extra={"call_id": call_id})
                    fallback = publisher.fallback(engine, record)
                    apply(engine.call_abandoned(call_id, now), fallback)
            case AgentHungUp(call_id):
                if call_id in engine.calls:
                    self.calls.ended_by_agent(call_id)
            case ConsultEnded():
                self.calls.consult_ended(event)
            case ChannelGone():
                self._channel_gone(event, now)
            case DeviceState(device, state):
                for agent_id in self._agents.on_device(device):
                    self._device_changed(agent_id, state, now)
            case _:
                assert_never(event)

    def _answered(self, call_id: str, agent_channel_id: str, now: float) -> None:
        record = self.engine.calls.get(call_id)
        if record is None or record.state != "offered" or not record.agent_id:
            return
        agent_id = record.agent_id
        log.info(
            "acd call answered",
            extra={
                "call_id": call_id, "queue": record.entry.queue_id, "agent": agent_id,
                "waited_s": round(now - record.entry.enqueued_at, 3),
                "predicted_wait_s": _seconds(record.predicted_wait),
                "asterisk_predicted_wait_s": _seconds(record.asterisk_predicted),
            },
        )  # fmt: skip
        answered = self._core.publisher.answered(self.engine, record, agent_id, agent_channel_id)
        self._core.apply(self.engine.offer_answered(call_id, agent_id, now), answered)
        self._core.spawn(self._core.mark_answered(call_id, self._clock.wall()))

    def _channel_gone(self, event: ChannelGone, now: float) -> None:
        call_id = event.call_id
        if self.calls.channel_gone(event, now):
            return
        if call_id in self._resync_busy:
            self._release_resync_busy(call_id, now)
        by = self.calls.ended_by(call_id)
        record = self.engine.calls.get(call_id)
        if record is None:
            return
        if record.state == "connected":
            hold_s, unheld = self.calls.call_ended(call_id, now)
            completed = self._core.publisher.completed(record, by, hold_s, unheld)
            self._core.apply(self.engine.call_ended(call_id, now), completed)
            return
        log.info(
            "acd call abandoned",
            extra={"call_id": call_id, "queue": record.entry.queue_id,
                   "waited_s": round(now - record.entry.enqueued_at, 3)},
        )  # fmt: skip
        left = self._core.publisher.caller_left(record)
        self._core.apply(self.engine.call_abandoned(call_id, now), left)

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
        self._core.apply(effects, self._core.publisher.arrival(self.engine, held, effects))

    def _device_changed(self, agent_id: str, state: str, now: float) -> None:
        status = self.engine.agents.get(agent_id)
        if status is None:
            return
        if state in _UNAVAILABLE_STATES and status.state is AgentState.AVAILABLE:
            self._core.apply(self.engine.pause(agent_id, DEVICE_UNAVAILABLE, now))
        elif state == "NOT_INUSE" and status.pause_reason == DEVICE_UNAVAILABLE:
            self._core.apply(self.engine.unpause(agent_id, now))

    def _release_resync_busy(self, call_id: str, now: float) -> None:
        agent_id = self._resync_busy.pop(call_id)
        status = self.engine.agents.get(agent_id)
        if status is not None and status.pause_reason == RESYNC_BUSY:
            self._core.apply(self.engine.unpause(agent_id, now))

    # --- restart ------------------------------------------------------------------------------

    def _rebuild(self, snapshot: PbxSnapshot) -> None:
        with self._core.rebuilding() as (old, applied):
            held = self._restore(old, snapshot)
        self._core.publisher.resync(old, self.engine, snapshot, held, applied)
        log.info(
            "acd resynced from Asterisk",
            extra={
                "agents": sum(1 for s in self.engine.agents.values() if s.state != "logged_out"),
                "waiting": len(held),
                "connected": len(snapshot.connecting),
            },
        )

    def _restore(self, old: AcdEngine, snapshot: PbxSnapshot) -> list[HoldEntered]:
        """Carry out the plan (``acd.resync``) on the new engine."""
        now = self._clock.now()
        plan = plan_resync(
            old_agents=old.agents, old_calls=old.calls, snapshot=snapshot,
            known_agents=self.engine.agent_config.keys(), touched=self._agents.touched,
            internal_reasons=_INTERNAL_REASONS, now=now, from_epoch=self._clock.from_epoch,
        )  # fmt: skip
        self._resync_busy.clear()
        self._agents.forget_devices()
        engine, apply = self.engine, self._core.apply
        for agent in plan.agents:
            apply(engine.login(agent.agent_id, now, agent.device))
            self._agents.index(agent.agent_id, engine.agents.get(agent.agent_id))
            if agent.pause_reason:
                apply(engine.pause(agent.agent_id, agent.pause_reason, now))
        for adoption in plan.connected:
            call = adoption.call
            status = engine.agents.get(call.agent_id)
            if status is None or status.state is not AgentState.AVAILABLE:
                continue
            if call.bridged:
                effects = engine.adopt_connected(
                    adoption.arrived, call.agent_id, adoption.answered_at, now
                )
                apply(effects)
                if not any(isinstance(e, Rejected) for e in effects):
                    # Talking (or on hold): on call again, hold and transfer work.
                    self.calls.adopted(call.call_id, call.on_hold_from, now)
                    continue
            apply(engine.pause(call.agent_id, RESYNC_BUSY, now))
            self._resync_busy[call.call_id] = call.agent_id
        for device, agent_ids in self._agents.devices():
            state = plan.device_states.get(device)
            if state is not None:
                for agent_id in agent_ids:
                    self._device_changed(agent_id, state, now)
        for waiting in plan.held:
            self._arrive(waiting, now)
        return list(plan.held)


def _seconds(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 3)

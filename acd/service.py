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
- a call found talking (or on hold) at a resync goes back into the engine on call with its
  agent (``AcdEngine.adopt_connected``); an agent whose phone still rings for a caller then, or
  whose call cannot be adopted, is paused with ``RESYNC_BUSY`` until that call ends, so it
  gets no second call;
- the engine's clock is monotonic (``Clock``); wall time only converts the enqueue epoch;
- with ``publish`` set, every input's changes are published as domain events (``acd.publish``)
  under the lock, in order, before its effects are carried out; ``publish`` must not block and
  an error in it (or in building the events) is logged, never allowed to stop routing. Timers
  that are due run as their own input first, so an input's own event (``call.abandoned`` …)
  is built from the state it really applies to. Without ``publish`` nothing is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any

from acd import publish as events
from acd.agent_state import AgentPaused, AgentState, AgentStatus, WrapUpEnds
from acd.asterisk import (
    AcdPbx,
    AgentHungUp,
    AmiAcdPbx,
    ChannelGone,
    ConnectingCall,
    ConsultEnded,
    DeviceState,
    EventsLost,
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
from acd.call_actions import CallActions
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
from acd.engine import AcdEngine, Announcement, CallRecord
from acd.in_call import InCallState
from acd.loader import load_acd_config
from acd.model import AcdConfig, Agent
from cti.ami.client import AmiClient
from cti.events import DomainEvent
from cti.settings import Settings

log = logging.getLogger("acd.service")

RESYNC_BUSY = "resync-busy"  # paused: on a call that began before Hotline (re)started
DEVICE_UNAVAILABLE = "device-unavailable"
_UNAVAILABLE_STATES = frozenset({"UNAVAILABLE", "INVALID"})
_INTERNAL_REASONS = frozenset({RESYNC_BUSY})
Publish = Callable[[DomainEvent], None]


class AcdRequestRejected(Exception):
    """An agent request the state table forbids now (e.g. pause while on a call)."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(f"{rejected.event} {rejected.subject}: {rejected.reason}")
        self.rejected = rejected


class AcdService(CallActions):
    """Routing, plus the agent's actions on its call (``CallActions``: hold, transfer)."""

    def __init__(
        self,
        config: AcdConfig,
        pbx: AcdPbx,
        *,
        clock: Clock | None = None,
        publish: Publish | None = None,
        transfer_context: str = "hotline-transfer",
    ) -> None:
        self.config = config
        self._transfer_context = transfer_context  # where transfers to a number go
        self._in_call = InCallState()
        self._publish = publish
        self._queues_of = events.eligible_queues(config) if publish is not None else {}
        self._agent_log: events.AgentLog | None = None
        self._rebuilding = False
        self._held_back: list[Effect] = []
        self.engine = self._new_engine()
        self._pbx = pbx
        self._clock = clock or Clock()
        self._lock = asyncio.Lock()
        self._generation = 0
        self._wakeup: asyncio.TimerHandle | None = None
        self._wrap_ups: dict[str, asyncio.TimerHandle] = {}
        self._resync_busy: dict[str, str] = {}  # call id → agent paused with RESYNC_BUSY
        self._ended_by_agent: set[str] = set()  # connected calls whose agent hung up first
        self._device_agents: dict[str, set[str]] = {}  # device_key → logged-in agent ids
        self._touched: set[str] = set()  # agents this process changed (memory beats astdb)
        self._tasks: set[asyncio.Task[None]] = set()
        self._saves: asyncio.Queue[str] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._saver: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self, *, resync: bool = True) -> None:
        """Consume PBX events; rebuild from Asterisk now if it is reachable (otherwise the AMI
        ``on_connect`` hook calls ``resync`` once it is). ``resync=False`` when that hook is
        wired and AMI is started afterwards: the first connect then rebuilds, once."""
        self._consumer = asyncio.create_task(self._consume(), name="acd-events")
        self._saver = asyncio.create_task(self._save_agents(), name="acd-agent-store")
        if not resync:
            return
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

    # --- agents' configuration ----------------------------------------------------------------

    def use_agents(self, agents: Iterable[Agent]) -> None:
        """Replace the configured agents (e.g. the database's list) before ``start``."""
        if self._consumer is not None:
            raise RuntimeError("use_agents is for start-up; update_agent once running")
        self._set_agents(agents)
        self.engine = self._new_engine()

    async def update_agent(self, agent: Agent) -> None:
        """An edited agent. The engine's skills index keeps the skills an agent logged in
        with, so new skills take effect at its next login (a resync logs it in again, so there
        too); device at the next login; wrap-up and no-answer limit at its next call."""
        async with self._lock:
            if agent.id not in self.engine.agent_config:
                raise KeyError(agent.id)
            self._set_agents(agent if a.id == agent.id else a for a in self.config.agents)
            self.engine.upsert_agent(agent)

    def _set_agents(self, agents: Iterable[Agent]) -> None:
        # Validated again (duplicates, skills unknown to the catalogue), as at load.
        config = self.config
        self.config = AcdConfig(skills=config.skills, queues=config.queues, agents=tuple(agents))
        if self._publish is not None:
            # Read only when an agent logs in: the queues its (new) skills will route.
            self._queues_of = events.eligible_queues(self.config)

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
            if isinstance(event, EventsLost):
                log.error(
                    "ACD lost AMI events; rebuilding from Asterisk", extra={"lost": event.count}
                )
                self._spawn(self._resync_after_loss())
                continue
            async with self._lock:
                try:
                    self._handle(event)
                except Exception:
                    # One bad event must not stop routing for everyone else.
                    log.exception("ACD failed to handle an event", extra={"event": repr(event)})

    async def _resync_after_loss(self) -> None:
        try:
            await self.resync()
        except PbxError as exc:
            log.warning(
                "ACD resync failed; the next AMI connect retries", extra={"error": str(exc)}
            )

    def _handle(self, event: PbxEvent) -> None:
        now = self._clock.now()
        engine = self.engine
        if self._publish is not None:
            self._catch_up(now)
        match event:
            case HoldEntered():
                # Known and connected: transferred back into the ACD (its agent's part ends).
                if event.call_id not in engine.calls or self._transferred_back(
                    event.call_id, event.queue_id, now
                ):
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
                    answered = self._answered(record, record.agent_id)
                    self._apply(engine.offer_answered(call_id, record.agent_id, now), answered)
                    self._spawn(self._mark_answered(call_id, self._clock.wall()))
            case OfferNotAnswered(call_id, agent_id, status):
                if call_id in self._resync_busy:
                    self._release_resync_busy(call_id, now)
                else:
                    missed = self._ring_no_answer(call_id, agent_id, status.lower())
                    self._apply(engine.offer_failed(call_id, agent_id, now, status.lower()), missed)
            case HoldTimedOut(call_id):
                record = engine.calls.get(call_id)
                if record is not None:
                    log.warning("acd hold timed out: native queue", extra={"call_id": call_id})
                    fallback = self._fallback(record)
                    self._apply(engine.call_abandoned(call_id, now), fallback)
            case AgentHungUp(call_id):
                if call_id in engine.calls:
                    self._ended_by_agent.add(call_id)
            case ConsultEnded():
                self._consult_ended(event, now)
            case ChannelGone(call_id):
                if self._channel_gone(event, now):
                    return
                if call_id in self._resync_busy:
                    self._release_resync_busy(call_id, now)
                by = "agent" if call_id in self._ended_by_agent else "caller"
                self._ended_by_agent.discard(call_id)
                record = engine.calls.get(call_id)
                if record is None:
                    return
                if record.state == "connected":
                    completed = self._completed(record, by)
                    self._apply(engine.call_ended(call_id, now), completed)
                else:
                    log.info(
                        "acd call abandoned",
                        extra={
                            "call_id": call_id,
                            "queue": record.entry.queue_id,
                            "waited_s": round(now - record.entry.enqueued_at, 3),
                        },
                    )
                    left = self._caller_left(record)
                    self._apply(engine.call_abandoned(call_id, now), left)
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
        self._apply(effects, self._queued(held, effects))

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

    def _apply(self, effects: list[Effect], first: Sequence[DomainEvent] = ()) -> None:
        """Publish what the input changed (its own events ``first``), then carry it out."""
        if self._publish is not None:
            if self._rebuilding:
                self._held_back += effects  # published as a whole once the rebuild is done
            else:
                self._publish_changes(effects, first)
        self._carry_out(effects)

    def _carry_out(self, effects: Iterable[Effect]) -> None:
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
            if self._publish is not None:
                self._catch_up(now)
                record = self.engine.calls.get(offer.call_id)
                if record is None or record.state != "offered" or record.agent_id != offer.agent_id:
                    return  # a timer due meanwhile moved the call on
            if gone:
                left = self._caller_left(record)
                self._apply(self.engine.call_abandoned(offer.call_id, now), left)
            else:
                missed = self._ring_no_answer(offer.call_id, offer.agent_id, "redirect-failed")
                self._apply(
                    self.engine.offer_failed(offer.call_id, offer.agent_id, now, "redirect-failed"),
                    missed,
                )

    async def _mark_answered(self, call_id: str, epoch: float) -> None:
        try:
            await self._pbx.mark_answered(call_id, epoch)
        except PbxError as exc:  # the caller may be gone already; only a restart needs it
            log.debug("acd could not keep the answer time", extra={"error": str(exc)})

    async def _overflow(self, call_id: str, kind: str, target: str) -> None:
        try:
            await self._pbx.overflow(call_id, kind, target)
        except PbxError as exc:
            log.warning("acd overflow failed", extra={"call_id": call_id, "error": str(exc)})

    # --- domain events ------------------------------------------------------------------------

    def _new_engine(self) -> AcdEngine:
        engine = AcdEngine(self.config)
        if self._publish is not None:
            log_ = events.AgentLog()
            engine.agents = log_
            self._agent_log = log_
        return engine

    def _stamp(self) -> events.Stamp:
        return events.Stamp.of(self._clock.wall(), self._clock.now())

    def _built(self, build: Callable[[events.Stamp], list[DomainEvent]]) -> list[DomainEvent]:
        """An input's own events, built from the state before it (nothing without publish)."""
        if self._publish is None:
            return []
        try:
            return build(self._stamp())
        except Exception:
            log.exception("acd could not build a domain event")
            return []

    def _catch_up(self, now: float) -> None:
        due = self.engine.next_wakeup()
        if due is not None and due <= now:
            self._apply(self.engine.tick(now))

    def _position(self, record: CallRecord) -> int | None:
        return self.engine.lines.position(record.entry) if record.state == "waiting" else None

    def _queued(self, held: HoldEntered, effects: list[Effect]) -> list[DomainEvent]:
        """``call.queued`` for an arrival, built after it: in the queue it arrived in, even if
        an estimate overflowed it elsewhere at once (the overflow's events follow)."""
        if self._publish is None or any(isinstance(e, Rejected) for e in effects):
            return []  # refused: left on hold for the native queue
        record = self.engine.calls.get(held.call_id)
        if record is not None and record.entry.queue_id == held.queue_id:
            position = self._position(record)
            return self._built(
                lambda at: [events.record_queued(record, at, position=position, held=held)]
            )
        return self._built(
            lambda at: [
                events.call_queued(
                    held.call_id, held.queue_id, at, skills=held.skills, priority=held.priority,
                    language=held.language, ewt_s=None, position=None, held=held,
                )
            ]
        )  # fmt: skip

    def _ring_no_answer(self, call_id: str, agent_id: str, reason: str) -> list[DomainEvent]:
        record = self.engine.calls.get(call_id)
        if record is None or record.state != "offered" or record.agent_id != agent_id:
            return []
        status = self.engine.agents.get(agent_id)
        since = status.since if status is not None and status.state is AgentState.RESERVED else None

        def build(at: events.Stamp) -> list[DomainEvent]:
            ring_s = round(at.mono - since, 3) if since is not None else None
            return [events.call_ring_no_answer(record, agent_id, ring_s, reason, at)]

        return self._built(build)

    def _answered(self, record: CallRecord, agent_id: str) -> list[DomainEvent]:
        return self._built(lambda at: [events.call_answered(record, agent_id, at)])

    def _completed(self, record: CallRecord, by: str) -> list[DomainEvent]:
        call_id = record.entry.call_id
        on_hold = self._in_call.unhold(call_id, self._clock.now())  # hung up while held
        hold_s = self._in_call.total_hold(call_id)
        self._in_call.forget(call_id)
        unheld = [] if on_hold is None else [on_hold]
        return self._built(
            lambda at: [
                *(events.call_unheld(record, at, span) for span in unheld),
                events.call_completed(record, at, by, hold_s),
                events.call_ended(record.entry.call_id, record.entry.queue_id, at),
            ]
        )

    def _fallback(self, record: CallRecord) -> list[DomainEvent]:
        queues = self.engine.router.queues
        return self._built(
            lambda at: [
                events.call_fallback(record, queues[record.entry.queue_id].native_queue, at)
            ]
        )

    def _caller_left(self, record: CallRecord) -> list[DomainEvent]:
        return self._built(
            lambda at: [
                events.call_abandoned(record, at),
                events.call_ended(record.entry.call_id, record.entry.queue_id, at),
            ]
        )

    def _requeued(self, at: events.Stamp) -> Callable[[OverflowCall], DomainEvent | None]:
        def queued(overflow: OverflowCall) -> DomainEvent | None:
            record = self.engine.calls.get(overflow.call_id)
            if record is None or record.entry.queue_id != overflow.target.name:
                return None
            return events.record_queued(record, at, position=self._position(record))

        return queued

    def _publish_changes(self, effects: list[Effect], first: Sequence[DomainEvent]) -> None:
        writes = self._agent_log.take() if self._agent_log is not None else []
        try:
            at = self._stamp()
            changed = events.changes(effects, writes, at, self._queues_of, self._requeued(at))
        except Exception:
            log.exception("acd could not build domain events")
            changed = []
        self._emit([*first, *changed])

    def _emit(self, published: Iterable[DomainEvent]) -> None:
        if self._publish is None:
            return
        for event in published:
            try:
                self._publish(event)
            except Exception:
                # Statistics may miss an event; routing must not.
                log.exception("acd could not publish an event", extra={"kind": event.kind.value})

    def _publish_resync(
        self,
        old: AcdEngine,
        snapshot: PbxSnapshot,
        held: Sequence[HoldEntered],
        effects: list[Effect],
    ) -> None:
        """After a rebuild: calls rebuilt on hold (``resync: true``), every agent's state, the
        offers made since, and the end of calls the old engine had that Asterisk no longer has."""
        if self._agent_log is not None:
            self._agent_log.take()  # the rebuild's steps; its outcome is what is published
        try:
            at = self._stamp()
            new = self.engine
            published: list[DomainEvent] = []
            for waiting in held:
                record = new.calls.get(waiting.call_id)
                if record is not None:
                    position = self._position(record)
                    published.append(
                        events.record_queued(
                            record, at, position=position, held=waiting, resync=True
                        )
                    )
            for agent_id in sorted(old.agents.keys() | new.agents.keys()):
                before = old.agents.get(agent_id)
                after = new.agents.get(agent_id) or AgentStatus(agent_id)
                published += events.agent_events(
                    agent_id, before, after, at, queues=self._queues_of.get(agent_id), always=True
                )
            published += events.changes(effects, [], at, self._queues_of, self._requeued(at))
            connecting = {call.call_id for call in snapshot.connecting}
            for call_id, record in old.calls.items():
                if call_id not in new.calls and call_id not in connecting:
                    published.append(
                        events.call_ended(call_id, record.entry.queue_id, at, resync=True)
                    )
            logged_in = (a for a, s in new.agents.items() if s.state is not AgentState.LOGGED_OUT)
            published.append(events.resynced(at, new.calls.keys() | connecting, logged_in))
        except Exception:
            log.exception("acd could not build the resync's domain events")
            return
        self._emit(published)

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
        self.engine = self._new_engine()
        self._rebuilding, self._held_back = True, []
        try:
            held = self._restore(old, snapshot)
        finally:
            self._rebuilding = False
        self._publish_resync(old, snapshot, held, self._held_back)
        self._held_back = []
        log.info(
            "acd resynced from Asterisk",
            extra={
                "agents": sum(1 for s in self.engine.agents.values() if s.state != "logged_out"),
                "waiting": len(held),
                "connected": len(snapshot.connecting),
            },
        )

    def _restore(self, old: AcdEngine, snapshot: PbxSnapshot) -> list[HoldEntered]:
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
            if status is None or status.state is not AgentState.AVAILABLE:
                continue
            if call.bridged and self._adopt(old, call, now):
                continue  # talking (or on hold): on call again, hold and transfer work
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
        return held

    def _adopt(self, old: AcdEngine, call: ConnectingCall, now: float) -> bool:
        """A connected call found at a resync goes back into the engine with its agent: as
        the old engine had it (an AMI reconnect), else as its channel says (a restart: queue,
        place and answer time). False: not enough to go on (e.g. its queue is unknown)."""
        before = old.calls.get(call.call_id)
        if before is not None and before.state == "connected" and before.agent_id == call.agent_id:
            entry = before.entry
            arrived = CallArrived(
                call.call_id, entry.queue_id, entry.enqueued_at, entry.priority,
                before.skills, before.language,
            )  # fmt: skip
            answered = before.answered_at if before.answered_at is not None else now
        else:
            enqueued = now
            if call.enqueued_epoch is not None:
                enqueued = min(now, self._clock.from_epoch(call.enqueued_epoch))
            arrived = CallArrived(call.call_id, call.queue_id, enqueued, call.priority, {}, None)
            answered = now
            if call.answered_epoch is not None:
                answered = min(now, self._clock.from_epoch(call.answered_epoch))
        effects = self.engine.adopt_connected(arrived, call.agent_id, answered, now)
        self._apply(effects)
        if any(isinstance(e, Rejected) for e in effects):
            return False
        if call.on_hold_from is not None and call.call_id not in self._in_call.held:
            self._in_call.hold(call.call_id, call.on_hold_from, now)
        return True

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


def build_acd(
    settings: Settings,
    ami: AmiClient,
    *,
    config: AcdConfig | None = None,
    publish: Publish | None = None,
) -> AcdService:
    """The ACD over ``settings.config_dir`` (queues, agents, skills) and the shared AMI client;
    ``publish`` (e.g. ``DomainBus.publish``) receives its domain events."""
    return AcdService(
        config or load_config(settings.config_dir),
        AmiAcdPbx(ami),
        publish=publish,
        transfer_context=settings.ivr.transfer_context,
    )

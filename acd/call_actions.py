"""The agent's actions on its connected call — hold, unhold, blind and attended transfer — a
collaborator of ``AcdService`` over two narrow ports: ``CallActionHost`` (the engine, its
lock and publisher: ``acd.core.AcdCore``) and ``CallActionPbx`` (the dialplan verbs it needs).

How each is carried out on Asterisk (contexts in ``extensions_acd.conf``):

- hold: one Redirect takes the caller to music on hold and the agent's channel to a silent
  wait; unhold sends the agent's channel to ``Bridge()`` with the waiting caller;
- blind transfer to a queue or an agent: the caller is redirected into the ACD's hold context
  with the new queue (a transfer to an agent requires that agent's personal skill); when it
  arrives there, the agent's part ends (``call.transferred`` + ``call.completed`` by
  ``transfer``, wrap-up) and the call is queued again as a new leg, with a new place in line;
- blind transfer to a number: the caller is redirected to the transfer context's extension;
- attended transfer: the caller is put on hold, the agent's channel dials the target (for a
  queue: its free agent that has been free longest, so the caller is not queued again); then
  complete (the caller is bridged to the consulted party, the agent's channel hung up) or
  cancel (the consultation is dropped and the caller taken off hold). A consulted agent is
  paused with reason ``consult`` while consulted; once it has the caller it is on call with
  it (the call is its own from then: hold, transfer, wrap-up). A consulted number is outside
  the ACD: the call ends there for Hotline.

Invariants: the engine is touched under the lock only, never across an ``await`` (the PBX
actions run between two locked sections, and the second re-checks the call is still there);
a hang-up of the agent's channel that Hotline itself caused never ends the call. This object
owns the bookkeeping of connected calls (``InCallState``); the service asks it, under the
lock, about PBX events that concern them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from acd import publish as events
from acd import transfer_rules as rules
from acd.call_record import CallRecord
from acd.effects import CallArrived, Effect, Rejected
from acd.engine import AcdEngine
from acd.in_call import InCallState, Transfer, TransferKind
from acd.pbx_events import HOLD_CONTEXT, ChannelGone, ConsultEnded
from acd.ports import CallActionHost, CallActionPbx
from acd.publisher import Build
from acd.transfer_rules import CallActionError
from cti.call_control import CallControlError
from cti.events import CompletedBy, DomainEvent

log = logging.getLogger("acd.calls")

_T = TypeVar("_T")


class CallActions:
    def __init__(self, core: CallActionHost, pbx: CallActionPbx, transfer_context: str) -> None:
        self._core = core
        self._pbx = pbx
        self._transfer_context = transfer_context  # where transfers to a number go
        self._in_call = InCallState()
        self._ended_by_agent: set[str] = set()  # connected calls whose agent hung up first

    @property
    def _lock(self) -> asyncio.Lock:
        return self._core.lock

    @property
    def _engine(self) -> AcdEngine:
        return self._core.engine

    def _emit(self, build: Build) -> None:
        publisher = self._core.publisher
        publisher.emit(publisher.build(build))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._core.spawn(work)

    def _apply(self, effects: list[Effect], first: Sequence[DomainEvent] = ()) -> None:
        self._core.apply(effects, first)

    # --- requests ------------------------------------------------------------------------------

    async def hold(self, call_id: str) -> None:
        with self._acting(call_id):
            await self._hold(call_id)

    async def unhold(self, call_id: str) -> None:
        with self._acting(call_id):
            await self._unhold(call_id)

    async def transfer(
        self, call_id: str, kind: TransferKind, target: str, *, attended: bool = False
    ) -> None:
        with self._acting(call_id):
            await self._transfer(call_id, kind, target, attended=attended)

    async def complete_transfer(self, call_id: str) -> None:
        with self._acting(call_id):
            await self._complete_transfer(call_id)

    async def cancel_transfer(self, call_id: str) -> None:
        """Drop the consultation and take the caller off hold."""
        with self._acting(call_id):
            await self._cancel_transfer(call_id)

    @contextlib.contextmanager
    def _acting(self, call_id: str) -> Iterator[None]:
        """One action at a time per call (a double click must not hold twice): the second is
        refused while the first waits for Asterisk."""
        if call_id in self._in_call.acting:
            raise CallActionError("another action on this call is in progress")
        self._in_call.acting.add(call_id)
        try:
            yield
        finally:
            self._in_call.acting.discard(call_id)

    async def _hold(self, call_id: str) -> None:
        async with self._lock:
            self._connected(call_id)
            if call_id in self._in_call.held:
                raise CallActionError("the call is already on hold")
        agent_channel = await _pbx(self._pbx.bridge_peer(call_id))
        if agent_channel is None:
            raise CallActionError("the caller is not talking with its agent")
        await _pbx(self._pbx.hold(call_id, agent_channel))
        async with self._lock:
            record = self._engine.calls.get(call_id)
            if record is None or record.state != "connected":
                self._spawn(self._hangup(agent_channel))  # the caller left meanwhile
                return
            self._in_call.hold(call_id, agent_channel, self._core.now())
            self._emit(lambda at: [events.call_held(record, at)])
        log.info("acd call on hold", extra={"call_id": call_id, "agent": record.agent_id})

    async def _unhold(self, call_id: str) -> None:
        async with self._lock:
            self._connected(call_id)
            held = self._in_call.held.get(call_id)
            if held is None:
                raise CallActionError("the call is not on hold")
            if held.consult is not None:
                raise CallActionError("a consultation is in progress: complete or cancel it")
            agent_channel = held.agent_channel
        await _pbx(self._pbx.resume(call_id, agent_channel))
        async with self._lock:
            self._end_hold(call_id)

    async def _transfer(
        self, call_id: str, kind: TransferKind, target: str, *, attended: bool
    ) -> None:
        if kind == "number":
            rules.check_number(target)
        if attended:
            await self._consult(call_id, kind, target)
            return
        async with self._lock:
            record = self._connected(call_id)
            held = self._in_call.held.get(call_id)
            if held is not None and held.consult is not None:
                raise CallActionError("a consultation is in progress: complete or cancel it")
            transfer = Transfer(kind, target)
            if kind != "number":
                variables = rules.requeue_variables(
                    self._engine, self._core.config, record, kind, target
                )
                self._in_call.requeues[call_id] = transfer
        try:
            if kind == "number":
                await _pbx(self._pbx.send_to_number(call_id, self._transfer_context, target))
            else:
                await _pbx(self._pbx.requeue(call_id, variables))
        except CallActionError:
            self._in_call.requeues.pop(call_id, None)
            raise
        async with self._lock:
            if held is not None:
                # The agent's channel waits alone in its hold context: ours to hang up.
                self._end_hold(call_id)
                self._spawn(self._hangup(held.agent_channel))
            if kind == "number":
                self._hand_off(call_id, transfer, context=self._transfer_context)
            # a queue or agent: handed off when the caller reaches the ACD's hold (requeued)
        log.info(
            "acd call transferred",
            extra={"call_id": call_id, "kind": kind, "target": target, "attended": False},
        )

    async def _complete_transfer(self, call_id: str) -> None:
        async with self._lock:
            self._connected(call_id)
            held = self._in_call.held.get(call_id)
            if held is None or held.consult is None:
                raise CallActionError("no attended transfer in progress")
            held.closing = True  # the agent's channel is hung up by the hand-over
            transfer, agent_channel = held.consult, held.agent_channel
        try:
            await _pbx(self._pbx.hand_over(call_id, agent_channel))
        except CallActionError:
            held.closing = False
            raise
        async with self._lock:
            record = self._engine.calls.get(call_id)
            self._end_hold(call_id)
            self._hand_off(call_id, transfer)
            taker = self._in_call.consulted_agents.get(call_id)
            if record is not None and taker is not None:
                self._take_over(record, taker)
        log.info(
            "acd call transferred",
            extra={"call_id": call_id, "kind": transfer.kind, "target": transfer.target,
                   "attended": True},
        )  # fmt: skip

    async def _cancel_transfer(self, call_id: str) -> None:
        async with self._lock:
            self._connected(call_id)
            held = self._in_call.held.get(call_id)
            if held is None or held.consult is None:
                raise CallActionError("no attended transfer in progress")
            agent_channel = held.agent_channel
        # One move: the agent's channel leaves the consultation (dropping it) for the caller.
        await _pbx(self._pbx.resume(call_id, agent_channel))
        async with self._lock:
            self._consult_over(call_id)
            self._end_hold(call_id)

    # --- PBX events (called by AcdService, under the lock) --------------------------------------

    def transferred_back(self, call_id: str, queue_id: str, now: float) -> bool:
        """The caller is back on the ACD's hold: if it was connected, it was transferred (by
        Hotline, or by the agent's phone): the agent's part ends. False: not a connected call."""
        record = self._engine.calls.get(call_id)
        if record is None or record.state != "connected":
            return False
        transfer = self._in_call.requeues.pop(call_id, None) or Transfer("queue", queue_id)
        self._hand_off(call_id, transfer, now, context=HOLD_CONTEXT)
        return True

    def channel_gone(self, event: ChannelGone, now: float) -> bool:
        """A hang-up that concerns a connected call's extras; True when fully handled."""
        if event.call_id not in self._engine.calls:
            # A call handed to a consulted agent has ended: that agent may take calls again.
            paused = self._in_call.consulted_agents.pop(event.call_id, None)
            if paused is not None:
                self._unpause_consulted(paused, now)
        call_id = self._in_call.held_by_agent_channel(event.channel)
        if call_id is not None:
            if not self._in_call.held[call_id].closing:
                # The agent hung up while its caller was on hold: the call is over.
                log.info("acd agent hung up during a hold", extra={"call_id": call_id})
                self._ended_by_agent.add(call_id)
                self._spawn(self._hangup(call_id))
            return True
        caller_held = self._in_call.held.get(event.call_id)
        if caller_held is not None:
            # The caller hung up on hold: the agent's channel waits alone (unless it is in a
            # consultation, which may go on), so hang it up.
            if caller_held.consult is None:
                caller_held.closing = True
                self._spawn(self._hangup(caller_held.agent_channel))
            self._consult_over(event.call_id)
        return False

    def ended_by_agent(self, call_id: str) -> None:
        """The agent ended the call (``AgentHungUp``): its completion says ``by: agent``."""
        self._ended_by_agent.add(call_id)

    def ended_by(self, call_id: str) -> CompletedBy:
        """Who hung up a call whose caller's channel is gone (and forget it)."""
        if call_id in self._ended_by_agent:
            self._ended_by_agent.discard(call_id)
            return "agent"
        return "caller"

    def call_ended(self, call_id: str, now: float) -> tuple[float, float | None]:
        """The connected call ended: its total hold and, if it ended on hold, that hold."""
        on_hold = self._in_call.unhold(call_id, now)
        hold_s = self._in_call.total_hold(call_id)
        self._in_call.forget(call_id)
        return hold_s, on_hold

    def adopted(self, call_id: str, on_hold_from: str | None, now: float) -> None:
        """A connected call taken back at a resync; on hold: its agent's channel waits."""
        if on_hold_from is not None and call_id not in self._in_call.held:
            self._in_call.hold(call_id, on_hold_from, now)

    def consult_ended(self, event: ConsultEnded) -> None:
        held = self._in_call.held.get(event.call_id)
        if held is None and event.call_id not in self._engine.calls and event.agent_channel:
            # Its caller left during the consultation: nobody to go back to.
            self._spawn(self._hangup(event.agent_channel))
            return
        if held is None or held.consult is None or held.closing:
            return
        log.info(
            "acd consultation ended",
            extra={"call_id": event.call_id, "dial_status": event.dial_status},
        )
        self._consult_over(event.call_id)

    # --- helpers (under the lock) ---------------------------------------------------------------

    def _connected(self, call_id: str) -> CallRecord:
        record = self._engine.calls.get(call_id)
        if record is None:
            raise CallActionError(f"no call {call_id!r} in the ACD", not_found=True)
        if record.state != "connected":
            raise CallActionError("the call is not connected to an agent yet")
        return record

    async def _consult(self, call_id: str, kind: TransferKind, target: str) -> None:
        async with self._lock:
            self._connected(call_id)
            held = self._in_call.held.get(call_id)
            if held is not None and held.consult is not None:
                raise CallActionError("a consultation is already in progress")
            dial = self._consult_dial(call_id, kind, target)
        try:
            if held is None:
                await self._hold(call_id)
            async with self._lock:
                held = self._in_call.held.get(call_id)
                if held is None:
                    raise CallActionError("the call ended")
                agent_channel = held.agent_channel
            await _pbx(self._pbx.consult(call_id, agent_channel, dial))
        except CallActionError:
            async with self._lock:
                self._consult_over(call_id)
            raise
        async with self._lock:
            held = self._in_call.held.get(call_id)
            if held is not None:
                held.consult = Transfer(kind, target, attended=True)
        log.info("acd consultation", extra={"call_id": call_id, "kind": kind, "target": target})

    def _consult_dial(self, call_id: str, kind: TransferKind, target: str) -> str:
        if kind == "number":
            return f"Local/{target}@{self._transfer_context}"
        if kind == "queue":
            target = rules.free_agent_of(self._engine, target)
        device = rules.consultable(self._engine, target)
        # Paused so the ACD offers it nothing while it is consulted and takes the call.
        self._apply(self._engine.pause(target, rules.CONSULT_PAUSE, self._core.now()))
        self._in_call.consulted_agents[call_id] = target
        return device

    def _consult_over(self, call_id: str) -> None:
        """The consultation ended without a hand-over (dropped, failed, or its caller left)."""
        held = self._in_call.held.get(call_id)
        if held is not None:
            held.consult = None
        agent_id = self._in_call.consulted_agents.pop(call_id, None)
        if agent_id is not None:
            self._unpause_consulted(agent_id, self._core.now())

    def _unpause_consulted(self, agent_id: str, now: float) -> None:
        status = self._engine.agents.get(agent_id)
        if status is not None and status.pause_reason == rules.CONSULT_PAUSE:
            self._apply(self._engine.unpause(agent_id, now))

    def _take_over(self, record: CallRecord, agent_id: str) -> None:
        """The consulted agent has the caller now: on call with it (its pause ends), so it
        can hold or transfer it in turn and goes to wrap-up when it ends; published as its
        answer (``taken_over``: its own leg in reports, not a new offer of the queue)."""
        entry = record.entry
        arrived = CallArrived(
            entry.call_id, entry.queue_id, entry.enqueued_at, entry.priority, record.skills,
            record.language,
        )  # fmt: skip
        now = self._core.now()
        effects = self._engine.adopt_connected(arrived, agent_id, now, now)
        if any(isinstance(e, Rejected) for e in effects):
            self._apply(effects)  # e.g. logged out meanwhile: stays paused until the call ends
            return
        taken = self._engine.calls[entry.call_id]
        publisher = self._core.publisher
        self._apply(
            effects, publisher.build(lambda at: [events.call_taken_over(taken, agent_id, at)])
        )
        self._in_call.consulted_agents.pop(entry.call_id, None)

    def _end_hold(self, call_id: str) -> None:
        record = self._engine.calls.get(call_id)
        span = self._in_call.unhold(call_id, self._core.now())
        if record is not None and span is not None:
            self._emit(lambda at: [events.call_unheld(record, at, span)])

    def _hand_off(
        self,
        call_id: str,
        transfer: Transfer,
        now: float | None = None,
        *,
        context: str | None = None,
    ) -> None:
        """The agent's part of the call ends: transferred, completed, agent to wrap-up. A
        consulted agent stays paused until the call it took ends."""
        record = self._engine.calls.get(call_id)
        if record is None or record.state != "connected":
            return
        now = self._core.now() if now is None else now
        self._end_hold(call_id)
        hold_s = self._in_call.total_hold(call_id)
        self._in_call.forget(call_id)
        published = self._core.publisher.build(
            lambda at: [
                events.call_transferred(
                    record, at, transfer.kind, transfer.target, attended=transfer.attended,
                    context=context,
                ),
                events.call_completed(record, at, "transfer", hold_s),
            ]
        )  # fmt: skip
        self._apply(self._engine.call_ended(call_id, now), published)

    async def _hangup(self, channel: str) -> None:
        try:
            await self._pbx.hangup(channel)
        except CallControlError as exc:
            log.warning("acd could not hang a channel up", extra={"error": str(exc)})


async def _pbx(action: Coroutine[Any, Any, _T]) -> _T:
    try:
        return await action
    except CallControlError as exc:
        raise CallActionError(f"the PBX refused: {exc}") from exc

"""``AcdPublisher``: the ACD service's domain events, built from its engine and published in
order (the builders are ``acd.publish``; its invariants are stated there).

Without ``publish`` nothing is built. An input's own events are built from the engine's
state before the input is applied (``build``), then published with those of its effects
(``effects``); building or publishing never raises into routing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from acd.agent_state import AgentState, AgentStatus
from acd.call_record import CallRecord
from acd.clock import Clock
from acd.effects import AgentChanged, Effect, OverflowCall, Rejected
from acd.engine import AcdEngine
from acd.model import AcdConfig
from acd.pbx_events import HoldEntered, PbxSnapshot
from acd.publish import (
    Stamp,
    agent_events,
    call_abandoned,
    call_answered,
    call_completed,
    call_ended,
    call_fallback,
    call_queued,
    call_ring_no_answer,
    call_unheld,
    changes,
    eligible_queues,
    record_queued,
    resynced,
)
from cti import events as ev
from cti.events import DomainEvent

log = logging.getLogger("acd.publish")

Publish = Callable[[DomainEvent], None]
Build = Callable[[Stamp], Sequence[DomainEvent]]


class AcdPublisher:
    """Builds each input's events from the engine and publishes them, in order."""

    def __init__(self, publish: Publish | None, clock: Clock, config: AcdConfig) -> None:
        self._publish = publish
        self._clock = clock
        self._queues_of = eligible_queues(config) if publish is not None else {}

    @property
    def enabled(self) -> bool:
        return self._publish is not None

    def use_config(self, config: AcdConfig) -> None:
        """Agents changed: read when an agent logs in (the queues its skills will route)."""
        if self._publish is not None:
            self._queues_of = eligible_queues(config)

    def stamp(self) -> Stamp:
        return Stamp.of(self._clock.wall(), self._clock.now())

    def build(self, build: Build) -> list[DomainEvent]:
        """An input's own events, built from the state before it (nothing without publish)."""
        if self._publish is None:
            return []
        try:
            return list(build(self.stamp()))
        except Exception:
            log.exception("acd could not build a domain event")
            return []

    def emit(self, published: Iterable[DomainEvent]) -> None:
        if self._publish is None:
            return
        for event in published:
            try:
                self._publish(event)
            except Exception:
                # Statistics may miss an event; routing must not.
                log.exception("acd could not publish an event", extra={"kind": event.kind.value})

    def effects(
        self, engine: AcdEngine, effects: Sequence[Effect], first: Sequence[DomainEvent] = ()
    ) -> None:
        """An input's own events (``first``), then those of its effects."""
        if self._publish is None:
            return
        try:
            at = self.stamp()
            changed = changes(effects, at, self._queues_of, _requeued(engine, at))
        except Exception:
            log.exception("acd could not build domain events")
            changed = []
        self.emit([*first, *changed])

    # --- an input's own events, from the engine's state before it ----------------------------

    def arrival(
        self, engine: AcdEngine, held: HoldEntered, effects: Sequence[Effect]
    ) -> list[DomainEvent]:
        """``CallQueued`` for an arrival, built after it: in the queue it arrived in, even if
        an estimate overflowed it elsewhere at once (the overflow's events follow)."""
        if self._publish is None or any(isinstance(e, Rejected) for e in effects):
            return []  # refused: left on hold for the native queue
        record = engine.calls.get(held.call_id)
        if record is not None and record.entry.queue_id == held.queue_id:
            position = _position(engine, record)
            return self.build(lambda at: [record_queued(record, at, position=position, held=held)])
        return self.build(
            lambda at: [
                call_queued(
                    held.call_id, held.queue_id, at, skills=held.skills, priority=held.priority,
                    language=held.language, ewt_s=None, position=None, held=held,
                )
            ]
        )  # fmt: skip

    def ring_no_answer(
        self, engine: AcdEngine, call_id: str, agent_id: str, reason: str
    ) -> list[DomainEvent]:
        record = engine.calls.get(call_id)
        if record is None or record.state != "offered" or record.agent_id != agent_id:
            return []
        since = _ringing_since(engine, agent_id)
        return self.build(
            lambda at: [call_ring_no_answer(record, agent_id, _ring(at, since), reason, at)]
        )

    def answered(
        self, engine: AcdEngine, record: CallRecord, agent_id: str, agent_channel_id: str
    ) -> list[DomainEvent]:
        since = _ringing_since(engine, agent_id)
        return self.build(
            lambda at: [
                call_answered(
                    record, agent_id, at, ring_s=_ring(at, since), agent_channel_id=agent_channel_id
                )
            ]
        )

    def completed(
        self, record: CallRecord, by: ev.CompletedBy, hold_s: float, unheld: float | None
    ) -> list[DomainEvent]:
        """The end of a connected call: its last hold if it hung up on hold, then completed
        and ended."""
        return self.build(
            lambda at: [
                *([call_unheld(record, at, unheld)] if unheld is not None else []),
                call_completed(record, at, by, hold_s),
                call_ended(record.entry.call_id, record.entry.queue_id, at),
            ]
        )

    def caller_left(self, record: CallRecord) -> list[DomainEvent]:
        return self.build(
            lambda at: [
                call_abandoned(record, at),
                call_ended(record.entry.call_id, record.entry.queue_id, at),
            ]
        )

    def fallback(self, engine: AcdEngine, record: CallRecord) -> list[DomainEvent]:
        native = engine.router.queues[record.entry.queue_id].native_queue
        return self.build(lambda at: [call_fallback(record, native, at)])

    # --- a resync ---------------------------------------------------------------------------

    def resync(
        self,
        old: AcdEngine,
        new: AcdEngine,
        snapshot: PbxSnapshot,
        held: Sequence[HoldEntered],
        effects: Sequence[Effect],
    ) -> None:
        """After a rebuild: calls rebuilt on hold (``resync``), every agent's state, the offers
        made since, and the end of calls the old engine had that Asterisk no longer has."""
        if self._publish is None:
            return
        try:
            published = self._resync_events(old, new, snapshot, held, effects)
        except Exception:
            log.exception("acd could not build the resync's domain events")
            return
        self.emit(published)

    def _resync_events(
        self,
        old: AcdEngine,
        new: AcdEngine,
        snapshot: PbxSnapshot,
        held: Sequence[HoldEntered],
        effects: Sequence[Effect],
    ) -> list[DomainEvent]:
        at = self.stamp()
        published: list[DomainEvent] = []
        for waiting in held:
            record = new.calls.get(waiting.call_id)
            if record is not None:
                position = _position(new, record)
                published.append(
                    record_queued(record, at, position=position, held=waiting, resync=True)
                )
        for agent_id in sorted(old.agents.keys() | new.agents.keys()):
            before = old.agents.get(agent_id)
            after = new.agents.get(agent_id) or AgentStatus(agent_id)
            published += agent_events(
                agent_id, before, after, at, queues=self._queues_of.get(agent_id), always=True
            )
        # The rebuild's agent steps are not published: its outcome (above) is.
        outcome = [e for e in effects if not isinstance(e, AgentChanged)]
        published += changes(outcome, at, self._queues_of, _requeued(new, at))
        connecting = {call.call_id for call in snapshot.connecting}
        for call_id, record in old.calls.items():
            if call_id not in new.calls and call_id not in connecting:
                published.append(call_ended(call_id, record.entry.queue_id, at, resync=True))
        logged_in = (a for a, s in new.agents.items() if s.state is not AgentState.LOGGED_OUT)
        published.append(resynced(at, new.calls.keys() | connecting, logged_in))
        return published


def _position(engine: AcdEngine, record: CallRecord) -> int | None:
    return engine.lines.position(record.entry) if record.state == "waiting" else None


def _requeued(engine: AcdEngine, at: Stamp) -> Callable[[OverflowCall], DomainEvent | None]:
    def queued(overflow: OverflowCall) -> DomainEvent | None:
        record = engine.calls.get(overflow.call_id)
        if record is None or record.entry.queue_id != overflow.target.name:
            return None
        return record_queued(record, at, position=_position(engine, record))

    return queued


def _ringing_since(engine: AcdEngine, agent_id: str) -> float | None:
    status = engine.agents.get(agent_id)
    return status.since if status is not None and status.state is AgentState.RESERVED else None


def _ring(at: Stamp, since: float | None) -> float | None:
    return round(at.mono - since, 3) if since is not None else None

"""Recording control: MixMonitor on the caller's channel when an agent answers, PCI muting,
metadata when the call ends.

Consumes (the one place to look, ``CONSUMED``): ``CallStarted`` (caller, product),
``CallQueued`` (queue), ``CallAnswered`` (agent: start), ``CallAbandoned`` and ``CallEnded``
(finalize or forget). Publishes ``RecordingStarted|Muted|Unmuted|Stopped``.

The product comes from ``CallStarted`` (the IVR's hotline), or from the queue's rule in
``config/recording.yaml``; ``CallQueued`` carries none.

Invariants:
- One recording per call (the caller's uniqueid is the call id; the PBX accepts it as a
  channel).
- Every mute and unmute request is audited (a row and a domain event), whether it reached
  Asterisk, was kept as an intent because the recording had not started, or had nothing to do.
- Mute first, audit second: a database outage must not delay silencing card digits.
- The bus consumer never hashes: finalization runs as its own task, the hash in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Final, Literal, Protocol, TypedDict, assert_never

from cti.call_control import CallControlError
from cti.events import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallQueued,
    CallStarted,
    DomainBus,
    DomainEvent,
    RecordingMuted,
    RecordingStarted,
    RecordingStopped,
    RecordingUnmuted,
)
from recordings.files import facts_off_loop, settled_size
from recordings.policy import (
    RecordingConfig,
    asterisk_path,
    decide,
    relative_path,
    resolve_inside,
)
from recordings.ports import Clock, RecordingLog, RecordingPbx, SystemClock

log = logging.getLogger("recordings")
CONSUMED: Final = (CallStarted, CallQueued, CallAnswered, CallAbandoned, CallEnded)
Consumed = CallStarted | CallQueued | CallAnswered | CallAbandoned | CallEnded
CONSUMES = frozenset(cls.kind for cls in CONSUMED)
# Calls that never reach CallEnded (hung up in the IVR) are forgotten oldest first.
MAX_TRACKED_CALLS = 50_000
IVR_ACTOR = "ivr"
IVR_REASON = "sensitive field collected by the IVR"


class HasUniqueid(Protocol):
    """The IVR's ``CallInfo`` as far as we read it (features do not import each other)."""

    @property
    def uniqueid(self) -> str: ...


class Phase(Enum):
    WAITING = "waiting"  # known, not recorded (yet)
    RECORDING = "recording"
    ENDED = "ended"


MuteOutcome = Literal["applied", "intent", "nothing-to-mute"]


class RecordingError(Exception):
    """Asterisk refused or could not be asked (the channel is gone, AMI is down)."""


@dataclass
class TrackedCall:
    call_id: str
    caller: str | None = None
    product: str | None = None
    queue: str | None = None
    agent_id: str | None = None
    phase: Phase = Phase.WAITING
    muted: bool = False  # wanted state; while WAITING it is the intent a start will honour
    relative: str | None = None
    started_at: datetime | None = None


class _Envelope(TypedDict):
    """What every recording event says about its call."""

    call_id: str
    agent_id: str | None
    queue: str | None
    ts: datetime


class RecordingService:
    def __init__(
        self,
        config: RecordingConfig,
        pbx: RecordingPbx,
        store: RecordingLog,
        publish: Callable[[DomainEvent], None],
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._pbx = pbx
        self._store = store
        self._publish = publish
        self._clock = clock or SystemClock()
        self._calls: OrderedDict[str, TrackedCall] = OrderedDict()
        self._finalizing: set[asyncio.Task[None]] = set()

    # -- the bus --------------------------------------------------------------------------

    async def run(self, bus: DomainBus) -> None:
        """Consume domain events until cancelled (the composition root runs it as a task)."""
        async with bus.subscribe(CONSUMES) as events:
            async for event in events:
                if not isinstance(event, CONSUMED):
                    continue  # CONSUMES selects only these: this narrows the type
                try:
                    await self.handle(event)
                except Exception:  # one bad call must not stop recording the others
                    log.exception("recording: %s failed", event.kind.value,
                                  extra={"call_id": event.call_id})  # fmt: skip

    async def handle(self, event: Consumed) -> None:
        match event:
            case CallStarted():
                call = self._track(event.call_id)
                call.caller = event.caller or call.caller
                call.product = event.product or call.product
            case CallQueued():
                call = self._track(event.call_id)
                call.queue = event.queue or call.queue
            case CallAnswered():
                call = self._track(event.call_id)
                call.queue = event.queue or call.queue
                call.agent_id = event.agent_id or None
                await self._start(call)
            case CallAbandoned():
                self._forget_unless_recording(event.call_id)
            case CallEnded():
                self._end(event.call_id)
            case _:
                assert_never(event)

    def _track(self, call_id: str) -> TrackedCall:
        call = self._calls.get(call_id)
        if call is None:
            call = self._calls[call_id] = TrackedCall(call_id)
            while len(self._calls) > MAX_TRACKED_CALLS:
                self._calls.popitem(last=False)
        return call

    def _forget_unless_recording(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is not None and call.phase is not Phase.RECORDING:
            del self._calls[call_id]

    # -- start ----------------------------------------------------------------------------

    async def _start(self, call: TrackedCall) -> None:
        if call.phase is not Phase.WAITING:
            return  # answered again (after a transfer): the first recording goes on
        decision = decide(self.config, call.call_id, call.queue, call.product)
        call.product = decision.product
        if not decision.record:
            log.info("call not recorded (%s)", decision.why, extra={"call_id": call.call_id})
            return
        started = self._clock.now()
        relative = relative_path(
            self.config, call_id=call.call_id, product=decision.product, started=started,
            queue=call.queue, agent=call.agent_id,
        )  # fmt: skip
        file = asterisk_path(self.config, relative)
        try:
            await self._pbx.start_recording(call.call_id, file)
        except CallControlError as exc:
            log.error("MixMonitor did not start: %s", exc, extra={"call_id": call.call_id})
            return
        call.phase, call.relative, call.started_at = Phase.RECORDING, relative, started
        if call.muted:
            # The IVR asked for silence before the agent answered and has not lifted it.
            await self._apply_and_audit(call, True, "system", "mute intent carried into start")
        self._publish(
            RecordingStarted(**self._envelope(call), path=relative, product=decision.product)
        )
        await self._store.add_started(
            call_id=call.call_id, agent_id=call.agent_id, queue=call.queue,
            product=decision.product, caller=call.caller, path=relative, started_at=started,
        )  # fmt: skip

    # -- mute -----------------------------------------------------------------------------

    async def set_muted(self, call: HasUniqueid, muted: bool, reason: str = IVR_REASON) -> None:
        """The IVR's ``RecordingControl`` port: around every sensitive collect."""
        await self.mute(call.uniqueid, muted, actor=IVR_ACTOR, reason=reason)

    async def mute(self, call_id: str, muted: bool, *, actor: str, reason: str) -> MuteOutcome:
        """Mute or unmute a call's recording (both directions); always audited."""
        call = self._calls.get(call_id)
        if call is None:
            call = self._track(call_id)  # the IVR mutes before call.started reaches us
        call.muted = muted
        if call.phase is Phase.RECORDING:
            await self._apply_and_audit(call, muted, actor, reason)
            return "applied"
        outcome: MuteOutcome = "intent" if call.phase is Phase.WAITING else "nothing-to-mute"
        await self._audit(call, muted, actor, reason, outcome)
        return outcome

    async def _apply_and_audit(self, call: TrackedCall, muted: bool, actor: str, why: str) -> None:
        try:
            await self._pbx.mute_recording(call.call_id, muted)
        except CallControlError as exc:
            await self._audit(call, muted, actor, f"{why} (failed: {exc})", "failed")
            raise RecordingError(f"could not {'mute' if muted else 'unmute'}: {exc}") from exc
        await self._audit(call, muted, actor, why, "applied")

    async def _audit(
        self, call: TrackedCall, muted: bool, actor: str, reason: str, outcome: str
    ) -> None:
        action = "mute" if muted else "unmute"
        if outcome != "applied":
            action = f"{action}-{outcome}"
        event = RecordingMuted if muted else RecordingUnmuted
        self._publish(event(**self._envelope(call), actor=actor, reason=reason, outcome=outcome))
        try:
            await self._store.audit(call.call_id, action, actor, reason, self._clock.now())
        except Exception:  # the domain event above still reaches the event log (and its spool)
            log.exception("recording audit row not written", extra={"call_id": call.call_id})

    def agent_of(self, call_id: str) -> str | None:
        call = self._calls.get(call_id)
        return call.agent_id if call is not None else None

    # -- end ------------------------------------------------------------------------------

    def _end(self, call_id: str) -> None:
        call = self._calls.pop(call_id, None)
        if call is None or call.phase is not Phase.RECORDING:
            return
        call.phase = Phase.ENDED
        task = asyncio.create_task(self._finalize(call, self._clock.now()), name=f"rec-{call_id}")
        self._finalizing.add(task)
        task.add_done_callback(self._finalizing.discard)

    async def _finalize(self, call: TrackedCall, ended: datetime) -> None:
        assert call.relative is not None and call.started_at is not None
        path = resolve_inside(self.config.host_dir, call.relative)
        size = await settled_size(path, self.config.settle_timeout_s, self._clock)
        duration: float | None = None
        sha256: str | None = None
        if size is None:
            log.error("recording file missing", extra={"call_id": call.call_id, "path": str(path)})
        else:
            facts = await facts_off_loop(path)
            size, sha256, duration = facts.size_bytes, facts.sha256, facts.duration_s
        if duration is None:
            duration = round((ended - call.started_at).total_seconds(), 3)
        await self._store.finish(
            call.call_id, ended_at=ended, duration_s=duration, size_bytes=size, sha256=sha256
        )
        self._publish(
            RecordingStopped(
                **self._envelope(call), duration_s=duration, size_bytes=size, sha256=sha256
            )
        )

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for pending finalizations (at shutdown, and in tests)."""
        if self._finalizing:
            await asyncio.wait(set(self._finalizing), timeout=timeout_s)

    def _envelope(self, call: TrackedCall) -> _Envelope:
        return {"call_id": call.call_id, "agent_id": call.agent_id, "queue": call.queue,
                "ts": self._clock.now()}  # fmt: skip

    def host_path(self, relative: str) -> Path:
        return resolve_inside(self.config.host_dir, relative)

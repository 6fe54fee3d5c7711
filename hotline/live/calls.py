"""The call side of live statistics: each active call's stage, queue, agent, talk and hold
timing, and what the IVR learnt about the caller (the screen pop). Pure.

Invariants:
- a call is known from its first event to its end (``Calls.forget``); one that left for a
  place we do not watch (overflow, transfer, Asterisk's native queue) stays until it ends;
- what a publisher tells about the caller is kept as text and only ever added to: an empty
  value (``vip`` false, an unknown caller) says nothing;
- collected fields named sensitive are masked in the view even if a publisher did not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hotline.live.model import CallView
from ivr.digits import mask


class CallStage(StrEnum):
    IVR = "ivr"
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"
    HELD = "held"
    COMPLETED = "completed"  # the agent's part is over; the caller may still be there
    OVERFLOWED = "overflowed"
    TRANSFERRED = "transferred"
    FALLBACK = "fallback"  # in Asterisk's native queue


TALKING = frozenset({CallStage.CONNECTED, CallStage.HELD})

Info = str | bool | tuple[str, ...] | None


@dataclass
class LiveCall:
    call_id: str
    started: datetime
    stage: CallStage = CallStage.IVR
    queue: str | None = None
    agent_id: str | None = None
    queued_ts: datetime | None = None
    queued_mono: float | None = None
    answered_mono: float | None = None
    talk_ended: bool = False  # completed (or requeued) since the last answer
    held_mono: float | None = None
    hold_s: float = 0.0  # held since the last answer
    info: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)

    def learn(self, fields: Mapping[str, str] | None = None, **info: Info) -> None:
        """What a publisher told about the caller: ``caller``, ``caller_name``, ``hotline``,
        ``product``, ``language``, ``vip``, ``path`` (IVR nodes) and collected ``fields``."""
        for key, value in info.items():
            if value is True:
                text = "yes"
            elif isinstance(value, tuple):
                text = ">".join(value)
            elif isinstance(value, str):
                text = value
            else:  # None, or False: most callers are not VIPs
                continue
            if text:
                self.info[key] = text
        if fields:
            self.fields.update(fields)

    def view(self, masked: Collection[str]) -> CallView:
        info = self.info
        return CallView(
            call_id=self.call_id,
            state=self.stage.value,
            queue=self.queue,
            agent_id=self.agent_id,
            caller=info.get("caller"),
            caller_name=info.get("caller_name"),
            hotline=info.get("hotline"),
            product=info.get("product"),
            language=info.get("language"),
            vip=info.get("vip"),
            ivr_path=info.get("path"),
            fields={
                # Publishers mask already; this is the second lock on the same door.
                name: mask(value) if name in masked and "*" not in value else value
                for name, value in sorted(self.fields.items())
            },
            started=self.started.isoformat(),
            queued=self.queued_ts.isoformat() if self.queued_ts else None,
        )


class Calls:
    """Every active call live statistics know, and which changed since the hub looked."""

    def __init__(self) -> None:
        self._calls: dict[str, LiveCall] = {}
        self.dirty: set[str] = set()

    def __iter__(self) -> Iterator[LiveCall]:
        return iter(self._calls.values())

    def ids(self) -> list[str]:
        return list(self._calls)

    def get(self, call_id: str) -> LiveCall | None:
        return self._calls.get(call_id)

    def call(self, call_id: str, ts: datetime) -> LiveCall:
        """The call, made on first sight (in the IVR, started at ``ts``); marked changed."""
        call = self._calls.get(call_id)
        if call is None:
            call = self._calls[call_id] = LiveCall(call_id, ts)
        self.dirty.add(call_id)
        return call

    def forget(self, call: LiveCall) -> None:
        self._calls.pop(call.call_id, None)

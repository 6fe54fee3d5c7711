"""What happens to a call's recording. Published by ``recordings.service``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cti.events.base import Event
from cti.events.fields import column
from cti.events.kinds import EventKind


@dataclass(frozen=True, slots=True, kw_only=True)
class _OfCall(Event):
    call_id: str = column()
    agent_id: str | None = column(None)
    queue: str | None = column(None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(_OfCall):
    kind: ClassVar[EventKind] = EventKind.RECORDING_STARTED
    path: str  # relative to the recordings directory
    product: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingMuted(_OfCall):
    """A mute asked for (PCI: the IVR collects a card number; or a person); ``outcome``:
    applied, intent (before the recording starts), nothing-to-mute, failed."""

    kind: ClassVar[EventKind] = EventKind.RECORDING_MUTED
    actor: str
    reason: str
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingUnmuted(_OfCall):
    kind: ClassVar[EventKind] = EventKind.RECORDING_UNMUTED
    actor: str
    reason: str
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStopped(_OfCall):
    kind: ClassVar[EventKind] = EventKind.RECORDING_STOPPED
    duration_s: float | None = None
    size_bytes: int | None = None
    sha256: str | None = None

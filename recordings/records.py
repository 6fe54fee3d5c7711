"""What is kept about recordings, as the domain reads it: a recording's metadata, its audit
trail, its quality scores, and the questions asked of them (search, agents' averages).

Plain frozen dataclasses: the store (``recordings.ports.RecordingStore``) returns these, never
its own rows. Times are timezone-aware UTC. ``path`` is relative to the recordings directory
(``recordings.policy.resolve_inside`` turns it into a host path, checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StoredRecording:
    id: int
    call_id: str
    agent_id: str | None
    queue: str | None
    product: str | None
    caller: str | None
    path: str
    started_at: datetime
    ended_at: datetime | None = None
    duration_s: float | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    legal_hold: bool = False
    purged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """mute, unmute, mute-intent (recording not started yet), legal hold, purge, listen ...;
    ``actor`` is ``ivr``, ``system`` or the API principal's name."""

    call_id: str
    action: str
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class StoredScore:
    """One scored recording: the form's items as given and the weighted total on 0..100."""

    id: int
    recording_id: int | None
    call_id: str
    agent_id: str | None
    form_id: str
    scorer: str
    items: dict[str, float | None]
    total: float
    at: datetime


@dataclass(frozen=True, slots=True)
class SearchFilter:
    since: datetime | None = None
    until: datetime | None = None
    agent_id: str | None = None
    queue: str | None = None
    caller: str | None = None
    call_id: str | None = None
    include_purged: bool = False
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class AgentAverage:
    agent_id: str
    scores: int
    average: float
    first_at: datetime
    last_at: datetime

"""What recordings need from the outside world, as Protocols the composition root satisfies.

- ``RecordingPbx``: start and mute MixMonitor. ``cti.ami.call_control.AmiCallControl`` (the
  one call-control port) satisfies it; its errors are ``cti.call_control.CallControlError``.
- ``RecordingLog`` (what the service writes) and ``RecordingStore`` (everything kept:
  quality, retention and the API read it): implemented over SQL in
  ``hotline.storage.recording_store``; they speak ``recordings.records``, never rows.
- ``Clock``: wall time for what is stored, monotonic time and sleeping for the wait on a
  file that MixMonitor is still closing (a fake in tests, so they never sleep).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from recordings.records import (
    AgentAverage,
    AuditEntry,
    SearchFilter,
    StoredRecording,
    StoredScore,
)


class RecordingPbx(Protocol):
    async def start_recording(self, channel: str, file: str) -> None:
        """MixMonitor on ``channel`` (both directions mixed) into ``file``, a PBX path."""

    async def mute_recording(self, channel: str, muted: bool) -> None:
        """Silence (or not) both directions of the channel's recording."""


class RecordingLog(Protocol):
    """What the service writes while calls are recorded."""

    async def add_started(
        self,
        *,
        call_id: str,
        agent_id: str | None,
        queue: str | None,
        product: str,
        caller: str | None,
        path: str,
        started_at: datetime,
    ) -> None: ...

    async def finish(
        self,
        call_id: str,
        *,
        ended_at: datetime,
        duration_s: float | None,
        size_bytes: int | None,
        sha256: str | None,
    ) -> None: ...

    async def audit(
        self, call_id: str, action: str, actor: str, reason: str | None, at: datetime
    ) -> None: ...


class RecordingStore(RecordingLog, Protocol):
    """Everything kept about recordings. Every method is one short transaction."""

    async def get(self, call_id: str) -> StoredRecording | None: ...

    async def search(self, where: SearchFilter) -> list[StoredRecording]:
        """Newest first; purged recordings only with ``include_purged``."""

    async def audit_trail(self, call_id: str) -> list[AuditEntry]:
        """Oldest first."""

    async def set_legal_hold(self, call_id: str, hold: bool) -> bool:
        """False when the call has no recording."""

    async def unpurged_before(self, cutoff: datetime, limit: int = 10_000) -> list[StoredRecording]:
        """Candidates for the purge: not purged, started before ``cutoff``, oldest first."""

    async def mark_purged(self, call_id: str, at: datetime) -> None:
        """Never marks a recording on legal hold."""

    async def add_score(
        self,
        *,
        recording: StoredRecording,
        form_id: str,
        scorer: str,
        items: dict[str, float | None],
        total: float,
        at: datetime,
    ) -> StoredScore: ...

    async def scores_of_call(self, call_id: str) -> list[StoredScore]: ...

    async def agent_averages(
        self,
        since: datetime,
        until: datetime,
        agent_ids: Sequence[str] = (),
        form_id: str | None = None,
    ) -> list[AgentAverage]:
        """Mean total per agent over scores given in [since, until)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock UTC: what is stored and shown."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

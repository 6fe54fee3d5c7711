"""What every domain event has: its kind (per class), when it happened on the wall clock
(``ts``, UTC, stored and shown) and on the monotonic clock (``mono``, for durations)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from cti.events.kinds import EventKind


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of the event classes; never published itself. Subclasses are frozen, keyword-only
    dataclasses whose fields are declared with ``cti.events.fields`` (how they are stored)."""

    kind: ClassVar[EventKind]
    ts: datetime = field(default_factory=_now)
    mono: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"{type(self).__name__}.ts must be timezone-aware")

    # The envelope every consumer may read: the event log's columns. A class about a call,
    # an agent or a queue declares these as fields; elsewhere they are None.
    @property
    def call_id(self) -> str | None:
        return None

    @property
    def agent_id(self) -> str | None:
        return None

    @property
    def queue(self) -> str | None:
        return None

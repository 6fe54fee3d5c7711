"""TRANSITIONAL: build an event from the first, untyped shape — a kind and a flat ``data``
mapping — as code written before typed events does (``make_event(K.CALL_QUEUED, "c1",
queue="q", data={...})``). Goes once every caller builds the classes directly."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

from cti.events.codec import DomainEvent, decode
from cti.events.fields import Scalar
from cti.events.kinds import EventKind


def make_event(
    kind: EventKind,
    call_id: str | None = None,
    agent_id: str | None = None,
    queue: str | None = None,
    data: Mapping[str, Scalar] | None = None,
    ts: datetime | None = None,
    mono: float | None = None,
) -> DomainEvent:
    return decode(
        kind.value,
        data or {},
        ts=ts if ts is not None else datetime.now(UTC),
        mono=mono if mono is not None else time.monotonic(),
        call_id=call_id,
        agent_id=agent_id,
        queue=queue,
        lenient=True,
    )

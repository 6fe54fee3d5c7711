"""Domain events and their bus: typed envelope, scalar data only, never blocking publish."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from cti.events import DomainBus, DomainEvent, EventKind


def test_event_rejects_naive_time_and_nested_data() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        DomainEvent(EventKind.CALL_QUEUED, ts=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="scalar"):
        DomainEvent(EventKind.CALL_QUEUED, data={"skills": {"en": 1}})  # type: ignore[dict-item]


async def test_subscribers_get_their_kinds_in_order() -> None:
    bus = DomainBus()
    calls = bus.subscribe({"call.queued", "call.answered"})
    everything = bus.subscribe()
    bus.publish(DomainEvent(EventKind.CALL_QUEUED, call_id="c1", queue="cards"))
    bus.publish(DomainEvent(EventKind.AGENT_PAUSED, agent_id="1001", data={"reason": "lunch"}))
    bus.publish(DomainEvent(EventKind.CALL_ANSWERED, call_id="c1", agent_id="1001"))
    bus.close()
    assert [e.kind async for e in calls] == [EventKind.CALL_QUEUED, EventKind.CALL_ANSWERED]
    assert len([e async for e in everything]) == 3


async def test_slow_subscriber_loses_its_own_events_only() -> None:
    bus = DomainBus()
    slow = bus.subscribe(maxsize=2)
    fast = bus.subscribe(maxsize=100)
    for n in range(5):
        bus.publish(DomainEvent(EventKind.CALL_STARTED, call_id=f"c{n}"))  # never awaits
    assert slow.dropped == 3
    assert [slow.get_nowait().call_id, slow.get_nowait().call_id] == ["c3", "c4"]  # type: ignore[union-attr]
    assert fast.dropped == 0
    assert bus.dropped == 3
    fast.unsubscribe()
    await asyncio.sleep(0)

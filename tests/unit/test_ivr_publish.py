"""IVR events reach the domain bus with the call's id, masked digits and scalar data."""

from __future__ import annotations

from cti.events import DomainBus, EventKind
from ivr.commands import CallStarted, DigitsEntered, NodeEntered, SessionEnded
from ivr.ports import CallInfo
from ivr.publish import publishing_sink

CALL = CallInfo("1700000000.1", "Local/95555-1;2", "95555", "13800138000", "basic-banking", "v1")


def test_events_are_published_in_order_with_their_kinds() -> None:
    bus = DomainBus()
    seen = bus.subscribe()
    sink = publishing_sink(bus, also_log=False)
    sink(CALL, CallStarted(1, "", "basic-banking", "95555", "13800138000", "zh", False))
    sink(CALL, NodeEntered(2, "basic-banking.lost_card", "collect"))
    sink(CALL, DigitsEntered(3, "basic-banking.lost_card", "************1111", True))
    sink(CALL, SessionEnded(4, "basic-banking.to_queue", "queue"))
    events = [seen.get_nowait() for _ in range(4)]
    assert [e.kind for e in events if e] == [
        EventKind.CALL_STARTED,
        EventKind.IVR_NODE,
        EventKind.IVR_INPUT,
        EventKind.IVR_ENDED,
    ]
    assert all(e is not None and e.call_id == "1700000000.1" for e in events)
    assert events[0] is not None and events[0].data["did"] == "95555"
    assert events[2] is not None and events[2].data["digits"] == "************1111"
    assert events[3] is not None and events[3].data["outcome"] == "queue"

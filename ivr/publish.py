"""IVR engine events → domain events on the bus (for the event log, live state, screen pops).

The engine has masked sensitive digits already; this mapping keeps only scalars. Every engine
event is published: the first (``CallStarted``) as ``call.started``, the end as ``ivr.ended``,
node visits and key input as ``ivr.node`` / ``ivr.input``, the rest as ``ivr.node`` detail.
"""

from __future__ import annotations

from dataclasses import asdict

from cti.events import DomainBus, DomainEvent, EventKind, Scalar, make_event
from ivr.commands import CallStarted, DigitsEntered, Event, NodeEntered, SessionEnded
from ivr.ports import CallInfo, EventSink
from ivr.runner import log_event

_KINDS: dict[type[Event], EventKind] = {
    CallStarted: EventKind.CALL_STARTED,
    NodeEntered: EventKind.IVR_NODE,
    DigitsEntered: EventKind.IVR_INPUT,
    SessionEnded: EventKind.IVR_ENDED,
}


def to_domain_event(call: CallInfo, event: Event) -> DomainEvent:
    data: dict[str, Scalar] = {
        key: value
        for key, value in asdict(event).items()
        if isinstance(value, str | int | float | bool) or value is None
    }
    data["event"] = type(event).__name__
    data["hotline"] = call.hotline
    data["config_version"] = call.config_version
    if isinstance(event, CallStarted):
        data["channel"] = call.channel
        data["product"] = call.product
    return make_event(_KINDS.get(type(event), EventKind.IVR_NODE), call_id=call.uniqueid, data=data)


def publishing_sink(bus: DomainBus, *, also_log: bool = True) -> EventSink:
    """A sink that publishes each event (never blocks) and, by default, logs it too."""

    def sink(call: CallInfo, event: Event) -> None:
        bus.publish(to_domain_event(call, event))
        if also_log:
            log_event(call, event)

    return sink

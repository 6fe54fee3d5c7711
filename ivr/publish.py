"""IVR engine events → typed domain events on the bus (for the event log, live state, screen
pops).

The engine has masked sensitive digits already. Every engine event is published: the first
(``CallStarted``) as ``cti.events.CallStarted``, node visits as ``IvrNode``, key input as
``IvrInput``, the end as ``IvrEnded`` (with the path walked and the language), and every other
engine event as an ``IvrNode`` step named after it, its own scalar fields in ``detail``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TypedDict

from cti.events import CallStarted, DomainBus, IvrEnded, IvrInput, IvrNode, Scalar
from ivr import commands
from ivr.ports import CallInfo, EventSink
from ivr.runner import log_event

IvrDomainEvent = CallStarted | IvrNode | IvrInput | IvrEnded
_ENVELOPE = frozenset({"seq", "node"})  # fields every engine event has; not step detail


class _Common(TypedDict):
    """The fields every IVR domain event has."""

    call_id: str
    hotline: str
    config_version: str
    seq: int
    node: str


def to_domain_event(call: CallInfo, event: commands.Event) -> IvrDomainEvent:
    common = _Common(
        call_id=call.uniqueid, hotline=call.hotline, config_version=call.config_version,
        seq=event.seq, node=event.node,
    )  # fmt: skip
    match event:
        case commands.CallStarted():
            return CallStarted(
                **common, did=event.did, caller=event.caller,
                caller_name=call.caller_name or None, product=call.product,
                channel=call.channel, language=event.language, vip=event.vip,
            )  # fmt: skip
        case commands.NodeEntered():
            return IvrNode(**common, event="NodeEntered", node_kind=event.kind)
        case commands.DigitsEntered():
            return IvrInput(**common, digits=event.digits, accepted=event.accepted,
                            reason=event.reason)  # fmt: skip
        case commands.SessionEnded():
            return IvrEnded(**common, outcome=event.outcome, path=event.path,
                            language=event.language or None)  # fmt: skip
        case _:  # the other steps (timeouts, retries, language, actions ...): not a union
            return IvrNode(**common, event=type(event).__name__, detail=_detail(event))


def _detail(event: commands.Event) -> dict[str, Scalar]:
    return {
        key: value
        for key, value in asdict(event).items()
        if key not in _ENVELOPE and (isinstance(value, str | int | float | bool) or value is None)
    }


def publishing_sink(bus: DomainBus, *, also_log: bool = True) -> EventSink:
    """A sink that publishes each event (never blocks) and, by default, logs it too."""

    def sink(call: CallInfo, event: commands.Event) -> None:
        bus.publish(to_domain_event(call, event))
        if also_log:
            log_event(call, event)

    return sink

"""AMI event subscriptions: the generic fan-out (``cti.fanout``) keyed by event name."""

from __future__ import annotations

from typing import TypeAlias

from cti import fanout
from cti.ami.messages import Event
from cti.fanout import Overflow

__all__ = ["EventFilter", "EventHub", "Overflow", "Subscription"]

EventFilter: TypeAlias = fanout.Selector[Event]
Subscription: TypeAlias = fanout.Subscription[Event]


def _event_name(event: Event) -> str:
    return event.name


class EventHub(fanout.Fanout[Event]):
    """The live subscriptions of one AMI client."""

    def __init__(self) -> None:
        super().__init__(key=_event_name, label="AMI")

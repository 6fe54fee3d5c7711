"""In-process publish/subscribe of domain events. Publishing never blocks (``cti.fanout``):
a slow consumer loses its own events, counted. Selectors name kinds (``"call.queued"``) or
are predicates."""

from __future__ import annotations

from cti.events.codec import DomainEvent, kind_of
from cti.fanout import Fanout, Overflow, Selector, Subscription


class DomainBus(Fanout[DomainEvent]):
    def __init__(self) -> None:
        super().__init__(key=kind_of, label="domain")

    def subscribe(
        self,
        selector: Selector[DomainEvent] = None,
        *,
        maxsize: int = 10_000,
        overflow: Overflow = "drop_oldest",
    ) -> Subscription[DomainEvent]:
        return super().subscribe(selector, maxsize=maxsize, overflow=overflow)

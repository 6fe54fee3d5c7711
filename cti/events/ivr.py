"""What happens to a call in the IVR, from the first ring to the hand-over. Published by the
IVR (``ivr.publish``) from its engine's events; sensitive digits are masked before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from cti.events.base import Event
from cti.events.fields import Scalar, column, detail, ids, stored_as
from cti.events.kinds import EventKind


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted(Event):
    """The call reached a hotline (its IVR)."""

    kind: ClassVar[EventKind] = EventKind.CALL_STARTED
    call_id: str = column()
    did: str = ""
    caller: str = ""
    caller_name: str | None = None
    hotline: str = ""
    product: str = ""
    channel: str = ""
    language: str | None = None
    vip: bool = False
    config_version: str = ""
    seq: int = 0  # the IVR engine's event number within the call
    node: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrNode(Event):
    """A step of the IVR: a node entered (``event`` NodeEntered, ``node_kind`` its kind) or
    another engine event at that node (timeouts, retries, language, actions ...), whose own
    fields are in ``detail``."""

    kind: ClassVar[EventKind] = EventKind.IVR_NODE
    call_id: str = column()
    node: str = ""
    event: str = "NodeEntered"
    node_kind: str | None = stored_as("kind", None)
    hotline: str = ""
    config_version: str = ""
    seq: int = 0
    detail: Mapping[str, Scalar] = detail()


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrInput(Event):
    """Keys entered at a node (masked when sensitive), accepted or not."""

    kind: ClassVar[EventKind] = EventKind.IVR_INPUT
    call_id: str = column()
    node: str = ""
    digits: str = ""
    accepted: bool = False
    reason: str = ""
    hotline: str = ""
    config_version: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrEnded(Event):
    """The caller left the IVR: ``outcome`` (queue, transfer, hangup, closed, abandoned)."""

    kind: ClassVar[EventKind] = EventKind.IVR_ENDED
    call_id: str = column()
    outcome: str
    node: str = ""
    path: tuple[str, ...] | None = ids(">", default=None)
    language: str | None = None
    hotline: str = ""
    config_version: str = ""
    seq: int = 0

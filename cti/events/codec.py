"""The one codec between typed domain events and the event log's rows (and JSON on the wire).

A row is its kind, three columns (``call_id``, ``agent_id``, ``queue``), a JSON ``data``
object and its times. ``encode`` writes the current shape, marked ``"v": 2``: lists as JSON
lists, skills and IVR fields as objects, and a field left out when it has its default value
(``decode`` restores it). ``decode`` reads it and also the first shape that
rows written before typed events hold (no ``v``; lists joined in one string, IVR fields as
``field.<name>`` keys), so the event log keeps today's rows readable. The rules per field
are in ``cti.events.fields``.
"""

from __future__ import annotations

import time
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cti.events.agents import (
    AgentDisposition,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentSkillsChanged,
    AgentStateChanged,
    AgentUnpaused,
)
from cti.events.calls import (
    AcdResynced,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallFallback,
    CallHeld,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    CallTransferred,
    CallUnheld,
)
from cti.events.fields import (
    FIELD_PREFIX,
    Shape,
    UnreadableEvent,
    read_ids,
    read_skills,
    read_text_map,
    slots_of,
)
from cti.events.ivr import CallStarted, IvrEnded, IvrInput, IvrNode
from cti.events.kinds import EventKind
from cti.events.recordings import (
    RecordingMuted,
    RecordingStarted,
    RecordingStopped,
    RecordingUnmuted,
)

VERSION = 2
_VERSION_KEY = "v"

DomainEvent = (
    CallStarted
    | IvrNode
    | IvrInput
    | IvrEnded
    | CallQueued
    | CallOffered
    | CallRingNoAnswer
    | CallAnswered
    | CallCompleted
    | CallAbandoned
    | CallOverflowed
    | CallTransferred
    | CallFallback
    | CallEnded
    | CallHeld
    | CallUnheld
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentPaused
    | AgentUnpaused
    | AgentStateChanged
    | AgentDisposition
    | AgentSkillsChanged
    | AcdResynced
    | RecordingStarted
    | RecordingMuted
    | RecordingUnmuted
    | RecordingStopped
)
"""Every domain event: consumers ``match`` on it and end with ``case _: assert_never(...)``."""

EVENT_CLASSES: Mapping[EventKind, type[DomainEvent]] = types.MappingProxyType(
    {cls.kind: cls for cls in DomainEvent.__args__}
)
assert set(EVENT_CLASSES) == set(EventKind), "one event class per kind"


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event as the event log stores it (and as it travels as JSON)."""

    kind: str
    call_id: str | None
    agent_id: str | None
    queue: str | None
    data: dict[str, Any]
    ts: datetime
    mono: float


def encode(event: DomainEvent) -> EncodedEvent:
    data: dict[str, Any] = {_VERSION_KEY: VERSION}
    for slot in slots_of(type(event)):
        value = getattr(event, slot.name)
        if value is None or slot.key is None or (not slot.required and value == slot.default):
            continue  # decode restores the field's default
        if slot.shape is Shape.SCALAR:
            data[slot.key] = value
        elif slot.shape is Shape.IDS:
            data[slot.key] = list(value)
        elif slot.shape is Shape.DETAIL:
            data.update(value)
        else:  # SKILLS, FIELDS
            if value:
                data[slot.key] = dict(value)
    return EncodedEvent(
        event.kind.value, event.call_id, event.agent_id, event.queue, data, event.ts, event.mono
    )


def decode(
    kind: str,
    data: Mapping[str, Any] | None,
    *,
    ts: datetime,
    mono: float | None = None,
    call_id: str | None = None,
    agent_id: str | None = None,
    queue: str | None = None,
) -> DomainEvent:
    """The event a stored row (either shape) holds; ``UnreadableEvent`` when it is not one.
    ``mono`` defaults to now: a row from another process has no monotonic time of ours."""
    try:
        cls = EVENT_CLASSES[EventKind(kind)]
    except ValueError:
        raise UnreadableEvent(f"unknown event kind {kind!r}") from None
    if data is None:
        data = {}
    elif not isinstance(data, Mapping):
        raise UnreadableEvent(f"{kind}: data is not an object")
    columns = {"call_id": call_id, "agent_id": agent_id, "queue": queue}
    claimed: set[str] = {_VERSION_KEY}
    values: dict[str, Any] = {}
    for slot in slots_of(cls):
        try:
            value = _read(slot.shape, slot.key, slot.sep, data, claimed)
            if slot.column:
                column_value = columns[slot.name]
                value = column_value if column_value is not None else value
        except UnreadableEvent as exc:
            raise UnreadableEvent(f"{kind}: {slot.name}: {exc}") from None
        if value is None:
            if slot.required:
                raise UnreadableEvent(f"{kind}: {slot.name} is missing")
            continue  # the field's default
        try:
            values[slot.name] = slot.read(value)
        except UnreadableEvent as exc:
            raise UnreadableEvent(f"{kind}: {slot.name}: {exc}") from None
    detail = [s for s in slots_of(cls) if s.shape is Shape.DETAIL]
    if detail:
        extra = {k: v for k, v in data.items() if k not in claimed and _scalar(v)}
        values[detail[0].name] = types.MappingProxyType(extra)
    try:
        return cls(ts=ts, mono=time.monotonic() if mono is None else mono, **values)
    except (TypeError, ValueError) as exc:
        raise UnreadableEvent(f"{kind}: {exc}") from None


def _read(
    shape: Shape, key: str | None, sep: str, data: Mapping[str, Any], claimed: set[str]
) -> Any:
    if shape is Shape.FIELDS:
        found = data.get("fields")
        claimed.add("fields")
        if found is not None:
            return read_text_map(found)
        legacy = {
            k.removeprefix(FIELD_PREFIX): v for k, v in data.items() if k.startswith(FIELD_PREFIX)
        }
        claimed.update(FIELD_PREFIX + k for k in legacy)
        return read_text_map(legacy)
    if shape is Shape.DETAIL or key is None:
        return None
    claimed.add(key)
    value = data.get(key)
    if value is None:
        return None
    if shape is Shape.IDS:
        return read_ids(value, sep)
    if shape is Shape.SKILLS:
        return read_skills(value)
    return value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def kind_of(event: DomainEvent) -> str:
    return event.kind.value

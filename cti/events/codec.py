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
from collections.abc import Callable, Mapping
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
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise UnreadableEvent(f"unknown event kind {kind!r}")
    if data is None:
        data = {}
    elif not isinstance(data, Mapping):
        raise UnreadableEvent(f"{kind}: data is not an object")
    return decoder.decode(
        data, (call_id, agent_id, queue), ts, time.monotonic() if mono is None else mono
    )


_COLUMNS = ("call_id", "agent_id", "queue")


@dataclass(frozen=True, slots=True)
class _Step:
    """One field's decoding, compiled from its ``Slot`` (the replay of a day decodes half a
    million rows: this loop is kept lean)."""

    name: str
    key: str | None
    column: int  # index in (call_id, agent_id, queue), or -1
    shape: Shape
    sep: str
    read: Callable[[Any], Any]
    required: bool


class _Decoder:
    def __init__(self, cls: type[DomainEvent]) -> None:
        self.cls = cls
        self.kind = cls.kind.value
        slots = slots_of(cls)
        self.steps = tuple(
            _Step(
                s.name, s.key, _COLUMNS.index(s.name) if s.column else -1, s.shape, s.sep,
                s.read, s.required,
            )
            for s in slots
            if s.shape is not Shape.DETAIL
        )  # fmt: skip
        self.by_key = {
            step.key: (step.name, _converter(step)) for step in self.steps if step.key is not None
        }
        self.columns = tuple(
            (step.column, step.name, _converter(step)) for step in self.steps if step.column >= 0
        )
        self.required = tuple(step.name for step in self.steps if step.required)
        detail = [s.name for s in slots if s.shape is Shape.DETAIL]
        self.detail = detail[0] if detail else None

    def decode(
        self,
        data: Mapping[str, Any],
        columns: tuple[str | None, str | None, str | None],
        ts: datetime,
        mono: float,
    ) -> DomainEvent:
        if data.get(_VERSION_KEY) == VERSION:
            values = self._current(data, columns)
        else:
            values = self._first_shape(data, columns)
        try:
            return self.cls(ts=ts, mono=mono, **values)
        except (TypeError, ValueError) as exc:
            raise UnreadableEvent(f"{self.kind}: {exc}") from None

    def _current(
        self, data: Mapping[str, Any], columns: tuple[str | None, str | None, str | None]
    ) -> dict[str, Any]:
        """The current shape holds only what differs from the defaults: walk its keys."""
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        by_key = self.by_key
        name = ""
        try:
            for key, raw in data.items():
                found = by_key.get(key)
                if found is None:
                    if isinstance(raw, str | int | float | bool):  # a detail field's, or unknown
                        extra[key] = raw
                elif raw is not None:
                    name, convert = found
                    values[name] = convert(raw)
            for index, name, convert in self.columns:
                value = columns[index]
                if value is not None:
                    values[name] = convert(value)
        except UnreadableEvent as exc:
            raise UnreadableEvent(f"{self.kind}: {name}: {exc}") from None
        for name in self.required:
            if name not in values:
                raise UnreadableEvent(f"{self.kind}: {name} is missing")
        if self.detail is not None:
            extra.pop(_VERSION_KEY, None)
            values[self.detail] = types.MappingProxyType(extra)
        return values

    def _convert(self, step: _Step, raw: Any) -> Any:
        try:
            return _converter(step)(raw)
        except UnreadableEvent as exc:
            raise UnreadableEvent(f"{self.kind}: {step.name}: {exc}") from None

    def _first_shape(
        self, data: Mapping[str, Any], columns: tuple[str | None, str | None, str | None]
    ) -> dict[str, Any]:
        """Rows written before the current shape: every field looked up, lists joined."""
        values: dict[str, Any] = {}
        for step in self.steps:
            try:
                value = _value(step, data, columns)
            except UnreadableEvent as exc:
                raise UnreadableEvent(f"{self.kind}: {step.name}: {exc}") from None
            if value is None:
                if step.required:
                    raise UnreadableEvent(f"{self.kind}: {step.name} is missing")
                continue  # the field's default
            values[step.name] = self._convert(step, value) if step.shape is Shape.SCALAR else value
        if self.detail is not None:
            claimed = {_VERSION_KEY, *self.by_key}
            extra = {k: v for k, v in data.items() if k not in claimed and _scalar(v)}
            values[self.detail] = types.MappingProxyType(extra)
        return values


def _converter(step: _Step) -> Callable[[Any], Any]:
    """A stored value → the field's value, checked."""
    if step.shape is Shape.SCALAR:
        return step.read
    if step.shape is Shape.IDS:
        sep = step.sep
        return lambda raw: read_ids(raw, sep)
    if step.shape is Shape.SKILLS:
        return read_skills
    return read_text_map  # FIELDS


def _value(
    step: _Step, data: Mapping[str, Any], columns: tuple[str | None, str | None, str | None]
) -> Any:
    shape = step.shape
    if shape is Shape.SCALAR:
        if step.column >= 0:
            value = columns[step.column]
            if value is not None or step.key is None:
                return value
        return data.get(step.key) if step.key is not None else None
    if shape is Shape.FIELDS:
        found = data.get("fields")
        if found is not None:
            return read_text_map(found)
        legacy = {
            k.removeprefix(FIELD_PREFIX): v for k, v in data.items() if k.startswith(FIELD_PREFIX)
        }
        return read_text_map(legacy) if legacy else None
    raw = data.get(step.key) if step.key is not None else None
    if raw is None:
        return None
    if shape is Shape.IDS:
        return read_ids(raw, step.sep)
    return read_skills(raw)  # SKILLS


_DECODERS: dict[str, _Decoder] = {kind.value: _Decoder(cls) for kind, cls in EVENT_CLASSES.items()}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def kind_of(event: DomainEvent) -> str:
    return event.kind.value

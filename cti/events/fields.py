"""How an event's fields become a stored row and come back: the one codec's rules, per field.

An event class declares each field with one of the helpers below; ``plan(cls)`` reads them
once into a list of ``Slot`` that ``cti.events.codec`` walks to encode and decode. Rules:

- ``column``: a field stored in its own column of the event log (``call_id``, ``agent_id``,
  ``queue``); ``agent_column`` also repeats it in the data as ``agent`` (the shape rows have
  always had, and what external readers of the table expect);
- ``ids``: a tuple of ids, stored as a JSON list; rows of the first shape held them joined by
  ``sep`` in one string, and still decode;
- ``skills``: skill → level, stored as a JSON object (first shape: ``"name:level,..."``);
- ``ivr_fields``: what the IVR collected, stored as the object ``fields`` (first shape: one
  ``field.<name>`` key each);
- ``detail``: free scalars flattened into the data (the IVR's step details);
- anything else is a scalar under its own name. Neither ``None`` nor a field's default value
  is stored: a missing key decodes to the field's default, and a required field that is
  missing makes the row unreadable (``UnreadableEvent``), as does a value of the wrong type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Union

Scalar = str | int | float | bool | None
FIELD_PREFIX = "field."  # the first shape of IVR-collected fields


class UnreadableEvent(ValueError):
    """A stored row that is not an event of this version: unknown kind, missing or bad data."""


class Shape(Enum):
    SCALAR = "scalar"
    IDS = "ids"
    SKILLS = "skills"
    FIELDS = "fields"
    DETAIL = "detail"


_MISSING: Any = dataclasses.MISSING


def _field(default: Any, **meta: Any) -> Any:
    if default is _MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def column(default: Any = _MISSING) -> Any:
    """Stored in the event log's column of the same name (``call_id``, ``agent_id``, ``queue``)."""
    return _field(default, column=True)


def agent_column(default: Any = _MISSING) -> Any:
    """``agent_id``: its column, and ``agent`` in the data too."""
    return _field(default, column=True, key="agent")


def ids(sep: str = ",", *, default: Any = ()) -> Any:
    return _field(default, shape=Shape.IDS, sep=sep)


def skill_levels() -> Any:
    return dataclasses.field(
        default_factory=lambda: types.MappingProxyType({}), metadata={"shape": Shape.SKILLS}
    )


def ivr_fields() -> Any:
    return dataclasses.field(
        default_factory=lambda: types.MappingProxyType({}), metadata={"shape": Shape.FIELDS}
    )


def detail() -> Any:
    return dataclasses.field(
        default_factory=lambda: types.MappingProxyType({}), metadata={"shape": Shape.DETAIL}
    )


def stored_as(key: str, default: Any = _MISSING) -> Any:
    """A scalar stored under another name than the field's (``kind`` of an IVR node)."""
    return _field(default, key=key)


@dataclass(frozen=True, slots=True)
class Slot:
    name: str  # the attribute
    key: str | None  # its data key; None for a column that is not repeated in the data
    column: bool
    shape: Shape
    sep: str
    read: Callable[[Any], Any]  # checks (and for numbers, normalises) a decoded scalar
    required: bool
    default: Any  # the value a row leaves out


def plan(cls: type) -> tuple[Slot, ...]:
    """The slots of an event class, in declaration order (``ts`` and ``mono`` excluded)."""
    hints = typing.get_type_hints(cls)
    slots: list[Slot] = []
    for f in dataclasses.fields(cls):
        if f.name in ("ts", "mono"):
            continue
        meta = f.metadata
        is_column = bool(meta.get("column"))
        key = meta.get("key", None if is_column else f.name)
        required = f.default is _MISSING and f.default_factory is _MISSING
        shape = meta.get("shape", Shape.SCALAR)
        read = _reader(hints[f.name]) if shape is Shape.SCALAR else _any
        factory: Any = f.default_factory
        default = factory() if factory is not _MISSING else f.default
        slots.append(
            Slot(
                f.name, key, is_column, shape, meta.get("sep", ","), read, required, default,
            )
        )  # fmt: skip
    return tuple(slots)


def _any(value: Any) -> Any:
    return value


def _reader(hint: Any) -> Callable[[Any], Any]:
    """A check for one scalar type: ``str``, ``int``, ``float``, ``bool``, a ``Literal`` of
    strings, or any of them ``| None``."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported event field type {hint!r}")
        inner = _reader(options[0])

        def optional(value: Any) -> Any:
            return None if value is None else inner(value)

        return optional
    if origin is Literal:
        allowed = frozenset(typing.get_args(hint))

        def literal(value: Any) -> Any:
            if value not in allowed:
                raise UnreadableEvent(f"{value!r} is not one of {sorted(map(str, allowed))}")
            return value

        return literal
    if hint is str:
        return _str
    if hint is bool:
        return _bool
    if hint is int:
        return _int
    if hint is float:
        return _float
    raise TypeError(f"unsupported event field type {hint!r}")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise UnreadableEvent(f"expected text, got {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise UnreadableEvent(f"expected true or false, got {value!r}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnreadableEvent(f"expected a whole number, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise UnreadableEvent(f"expected a whole number, got {value!r}")
        return int(value)
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnreadableEvent(f"expected a number, got {value!r}")
    return float(value)


# --- the shapes of lists and maps, both versions ------------------------------------------------


def read_ids(value: Any, sep: str) -> tuple[str, ...]:
    if isinstance(value, str):  # first shape: joined
        return tuple(part for part in value.split(sep) if part)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UnreadableEvent(f"expected a list of ids, got {value!r}")


def read_skills(value: Any) -> Mapping[str, int]:
    if isinstance(value, str):  # first shape: "name:level,..."
        parsed: dict[str, int] = {}
        for item in value.split(","):
            name, _, level = item.partition(":")
            if name:
                try:
                    parsed[name] = int(level or "1")
                except ValueError:
                    raise UnreadableEvent(f"bad skill {item!r}") from None
        return types.MappingProxyType(parsed)
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        return types.MappingProxyType(dict(value))
    raise UnreadableEvent(f"expected skills, got {value!r}")


def read_text_map(value: Any) -> Mapping[str, str]:
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return types.MappingProxyType({k: "" if v is None else str(v) for k, v in value.items()})
    raise UnreadableEvent(f"expected an object of fields, got {value!r}")


_PLANS: dict[type, tuple[Slot, ...]] = {}


def slots_of(cls: type) -> tuple[Slot, ...]:
    found = _PLANS.get(cls)
    if found is None:
        found = _PLANS[cls] = plan(cls)
    return found

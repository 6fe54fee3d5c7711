"""AMI messages: the greeting line, responses to actions, and events.

Invariants:
- Headers are kept in arrival order as ``(key, value)`` pairs; AMI repeats keys (``Variable``,
  ``ChanVariable``, ``Output``), so they are never collapsed into a plain dict.
- Lookup is case-insensitive. The index behind ``get`` is built lazily on first use: most events
  are filtered by name and never looked up, and building it eagerly would halve parse speed.
- Messages are immutable after construction (slotted, no setters); the lazy index is a cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self


class Greeting:
    """``Asterisk Call Manager/X.Y.Z``: the first line Asterisk sends on a new connection."""

    __slots__ = ("product", "version")

    def __init__(self, product: str, version: str) -> None:
        self.product = product
        self.version = version

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Greeting):
            return NotImplemented
        return (self.product, self.version) == (other.product, other.version)

    def __hash__(self) -> int:
        return hash((self.product, self.version))

    def __repr__(self) -> str:
        return f"Greeting({self.product!r}, {self.version!r})"


class _HeaderMessage:
    # Headers are the ``str.partition(": ")`` triples of the frame's lines, as the codec made
    # them: (key, separator, value). Keeping them as they come saves a copy per event.
    __slots__ = ("_index", "_parts")

    def __init__(self, parts: list[tuple[str, str, str]]) -> None:
        self._parts = parts
        self._index: dict[str, str] | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Self:
        """Build from ``(key, value)`` pairs (tests, fakes); the first pair names the message."""
        parts = [(key, ": ", value) for key, value in pairs]
        if not parts:
            raise ValueError("a message needs at least its Event/Response header")
        return cls._from_parts(parts)

    @classmethod
    def _from_parts(cls, parts: list[tuple[str, str, str]]) -> Self:
        raise NotImplementedError

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every header in arrival order, duplicates included."""
        return [(key, value) for key, _, value in self._parts]

    def _build_index(self) -> dict[str, str]:
        # Reversed so that the *first* occurrence of a repeated key wins.
        index = {key.lower(): value for key, _, value in reversed(self._parts)}
        self._index = index
        return index

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of ``key`` (case-insensitive), or ``default``."""
        index = self._index
        if index is None:
            index = self._build_index()
        return index.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        value = self.get(key, None)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def get_all(self, key: str) -> list[str]:
        """Every value of ``key`` in arrival order (``Variable``, ``ChanVariable``...)."""
        wanted = key.lower()
        return [value for key, _, value in self._parts if key.lower() == wanted]

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[object, ...]:
        return tuple(self.pairs)


class Event(_HeaderMessage):
    """An unsolicited (or list-member) message: ``Event: Name`` plus headers."""

    __slots__ = ("name",)

    def __init__(self, name: str, parts: list[tuple[str, str, str]]) -> None:
        # Attributes set directly, not via super().__init__: this runs once per event.
        self._parts = parts
        self._index = None
        self.name = name

    @classmethod
    def _from_parts(cls, parts: list[tuple[str, str, str]]) -> Self:
        return cls(parts[0][2], parts)

    @property
    def event_list(self) -> str | None:
        """``Complete`` on the event closing a list action."""
        return self.get("EventList")

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {self.pairs!r})"


class Response(_HeaderMessage):
    """The answer to one action, matched to it by ``ActionID``."""

    __slots__ = ("body", "response")

    def __init__(
        self,
        response: str,
        parts: list[tuple[str, str, str]],
        body: tuple[str, ...] = (),
    ) -> None:
        super().__init__(parts)
        self.response = response
        # Lines of a legacy ``Response: Follows`` command body (before ``--END COMMAND--``).
        self.body = body

    @property
    def ok(self) -> bool:
        return self.response != "Error"

    @property
    def message(self) -> str | None:
        return self.get("Message")

    @property
    def event_list(self) -> str | None:
        """``start`` when the events of a list action follow this response."""
        return self.get("EventList")

    @property
    def output(self) -> tuple[str, ...]:
        """Command output: the ``Follows`` body (old Asterisk) or ``Output:`` lines (14+)."""
        if self.body:
            return self.body
        return tuple(self.get_all("Output"))

    @classmethod
    def _from_parts(cls, parts: list[tuple[str, str, str]]) -> Self:
        return cls(parts[0][2], parts)

    def _key(self) -> tuple[object, ...]:
        return (tuple(self.pairs), self.body)

    def __repr__(self) -> str:
        body = f", body={self.body!r}" if self.body else ""
        return f"Response({self.response!r}, {self.pairs!r}{body})"


Message = Greeting | Response | Event

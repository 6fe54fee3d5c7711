"""A call's IVR variables: values collected or set on the way, which of them are sensitive,
and templates filled from them. A sensitive value is only ever shown masked."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ivr.digits import mask

_PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")


class CallVariables:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self._sensitive: set[str] = set()

    def set(self, name: str, value: str, sensitive: bool = False) -> str:
        """Keep the value; returns it as it may be shown (masked once sensitive)."""
        if sensitive:
            self._sensitive.add(name)
        self.values[name] = value
        return mask(value) if name in self._sensitive else value

    def masked(self) -> dict[str, str]:
        return {
            name: mask(value) if name in self._sensitive else value
            for name, value in self.values.items()
        }

    def interpolate(self, template: str, builtins: Mapping[str, str]) -> str:
        """``${name}`` from the variables, else from ``builtins`` (caller, did ...), else ""."""
        return _PLACEHOLDER.sub(lambda m: self.values.get(m[1], builtins.get(m[1], "")), template)

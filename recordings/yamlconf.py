"""Safe YAML for the files people edit (``config/recording.yaml``, ``config/qa/*.yaml``).

The document is composed with ``yaml.SafeLoader`` and built by hand: no tag is constructed,
every plain scalar stays a string (YAML 1.1 would turn ``no`` or ``on`` into booleans), and
pydantic converts where a field asks for a number. A key given twice is an error. Every error
names ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Data = None | str | list["Data"] | dict[str, "Data"]
Path_ = tuple[str | int, ...]
Position = tuple[int, int]
M = TypeVar("M", bound=BaseModel)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
MAX_FILE_BYTES = 1_000_000


class ConfigError(Exception):
    """One or more problems, each ``file:line:col: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _mark(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, path: Path_, positions: dict[Path_, Position], file: str) -> Data:
    positions[path] = _mark(node)
    if isinstance(node, yaml.ScalarNode):
        value = str(node.value)
        return None if node.style is None and value in _NULLS else value
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, (*path, i), positions, file) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Data] = {}
        for key_node, value_node in node.value:
            line, col = _mark(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError([f"{file}:{line}:{col}: mapping keys must be plain values"])
            key = str(key_node.value)
            if key in mapping:
                raise ConfigError([f"{file}:{line}:{col}: duplicate key {key!r}"])
            mapping[key] = _build(value_node, (*path, key), positions, file)
            positions[(*path, key)] = (line, col)
        return mapping
    raise ConfigError([f"{file}:{_mark(node)[0]}:{_mark(node)[1]}: unsupported YAML node"])


def parse_yaml(text: str, file: str) -> tuple[Data, dict[Path_, Position]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([f"{file}:{line}:{col}: invalid YAML: {exc.problem}"]) from exc
    positions: dict[Path_, Position] = {}
    if root is None:
        return None, positions
    return _build(root, (), positions, file), positions


def _position(loc: Path_, positions: dict[Path_, Position]) -> Position:
    # The deepest known node on the error's path: a missing key points at its parent mapping.
    for cut in range(len(loc), -1, -1):
        if (found := positions.get(loc[:cut])) is not None:
            return found
    return (1, 1)


def validate(model: type[M], data: Data, positions: dict[Path_, Position], file: str) -> M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if isinstance(part, str | int))
            line, col = _position(loc, positions)
            where = ".".join(str(part) for part in loc) or "(document)"
            problems.append(f"{file}:{line}:{col}: {where}: {error['msg']}")
        raise ConfigError(problems) from None


def load_model(model: type[M], path: Path) -> M:
    """Read, parse and validate one file; raises ConfigError naming file, line and column."""
    file = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError([f"{file}:1:1: larger than {MAX_FILE_BYTES} bytes"])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}:1:1: cannot read: {exc}"]) from exc
    data, positions = parse_yaml(text, file)
    return validate(model, data, positions, file)

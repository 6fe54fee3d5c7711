"""Safe YAML loading that remembers where every value came from.

We compose the YAML node graph with ``yaml.SafeLoader`` and build Python values ourselves, so:
- every plain scalar stays a string (YAML 1.1 would read the DTMF key ``0``, the answer ``no``
  or the language ``on`` as int/bool); only ``~``/``null``/empty become ``None``. The pydantic
  models turn strings into numbers and booleans where a field asks for one;
- no tag is ever constructed (no Python objects, no dates): the schema decides types;
- a key that appears twice in one mapping is an error, not "last one wins";
- each value's position (1-based line and column) is kept by its path, so pydantic errors and
  semantic problems can both be reported as ``file:line:col: message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

PathPart = str | int
ValuePath = tuple[PathPart, ...]
Data = None | str | list["Data"] | dict[str, "Data"]
ModelT = TypeVar("ModelT", bound=BaseModel)

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# Generous for hand-written menus, small enough that a pasted dump cannot exhaust memory.
MAX_FILE_BYTES = 2_000_000


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


@dataclass(frozen=True)
class SourceDocument:
    """One YAML file's values and the position of each by path (mapping entries: the key)."""

    file: str
    data: Data
    positions: dict[ValuePath, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Sequence[PathPart]) -> tuple[int, int]:
        """Position of ``path``, or of its closest ancestor that exists."""
        parts = tuple(path)
        while parts and parts not in self.positions:
            parts = parts[:-1]
        return self.positions.get(parts, (1, 1))

    def problem(self, path: Sequence[PathPart], message: str) -> Problem:
        line, col = self.position(path)
        return Problem(self.file, line, col, message)


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _mark(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _build(
    node: yaml.Node,
    path: ValuePath,
    positions: dict[ValuePath, tuple[int, int]],
    problems: list[Problem],
    file: str,
) -> Data:
    if isinstance(node, yaml.ScalarNode):
        value = str(node.value)
        if node.style is None and value in _NULLS:
            return None
        return value
    if isinstance(node, yaml.SequenceNode):
        items: list[Data] = []
        for index, child in enumerate(node.value):
            positions[(*path, index)] = _mark(child.start_mark)
            items.append(_build(child, (*path, index), positions, problems, file))
        return items
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Data] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = _mark(key_node.start_mark)
                problems.append(Problem(file, line, col, "mapping keys must be plain values"))
                continue
            key = str(key_node.value)
            if key in mapping:
                line, col = _mark(key_node.start_mark)
                problems.append(Problem(file, line, col, f"duplicate key {key!r}"))
                continue
            positions[(*path, key)] = _mark(key_node.start_mark)
            mapping[key] = _build(value_node, (*path, key), positions, problems, file)
        return mapping
    raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover - composer guarantees


def parse_yaml(text: str, file: str) -> SourceDocument:
    """Parse one YAML document; raises ``YamlProblems`` with positions on any error."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line, col = _mark(exc.problem_mark or exc.context_mark)
        reason = exc.problem or exc.context or "invalid YAML"
        raise YamlProblems([Problem(file, line, col, f"invalid YAML: {reason}")]) from exc
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(file, 1, 1, f"invalid YAML: {exc}")]) from exc
    positions: dict[ValuePath, tuple[int, int]] = {}
    problems: list[Problem] = []
    if root is None:
        return SourceDocument(file, None, positions)
    positions[()] = _mark(root.start_mark)
    data = _build(root, (), positions, problems, file)
    if problems:
        raise YamlProblems(problems)
    return SourceDocument(file, data, positions)


def load_yaml_file(path: Path, display: str | None = None) -> SourceDocument:
    file = display if display is not None else str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblems([Problem(file, 1, 1, f"cannot read: {exc.strerror}")]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise YamlProblems([Problem(file, 1, 1, f"file larger than {MAX_FILE_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblems([Problem(file, 1, 1, "file is not UTF-8")]) from exc
    return parse_yaml(text, file)


_ABSENT = object()


def _child(value: Data, part: PathPart) -> Data | object:
    if isinstance(value, dict) and isinstance(part, str):
        return value.get(part, _ABSENT)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return _ABSENT


def _resolve_location(
    data: Data, loc: Sequence[PathPart], names_field: bool
) -> tuple[ValuePath, list[str]]:
    """Walk pydantic's ``loc`` through the data.

    Parts that name no key are union tags (``menu`` in ``nodes.main.menu.prompt``) and are
    skipped, except a last part that names a missing or unknown field (``names_field``).
    """
    path: list[PathPart] = []
    shown: list[str] = []
    current = data
    for index, part in enumerate(loc):
        child = _child(current, part)
        if child is _ABSENT:
            if names_field and index == len(loc) - 1:
                shown.append(str(part))
            continue
        current = child  # type: ignore[assignment]
        path.append(part)
        shown.append(str(part))
    return tuple(path), shown


def validate_document(document: SourceDocument, model: type[ModelT]) -> ModelT:
    """Validate a document against a model; raises ``YamlProblems`` with positions."""
    try:
        return model.model_validate(document.data if document.data is not None else {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            names_field = error["type"] in ("missing", "extra_forbidden")
            path, shown = _resolve_location(document.data, error["loc"], names_field)
            if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
                path = (*path, "kind")
            where = ".".join(shown)
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            if error["type"] == "missing":
                message = "field required"
            problems.append(document.problem(path, f"{where}: {message}" if where else message))
        raise YamlProblems(sorted(problems)) from exc

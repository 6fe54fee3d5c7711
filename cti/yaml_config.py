"""Safe YAML for the files people edit, with the position of every value.

Every feature's config loader uses this module, so the rules hold everywhere:
- the document is composed with ``yaml.SafeLoader`` and built by hand: no tag is ever
  constructed (no Python objects, no dates) and every plain scalar stays a string — YAML 1.1
  would read the DTMF key ``0``, the agent ``1001``, the answer ``no`` or the language ``on`` as
  int/bool. Only unquoted ``~``/``null``/empty become ``None``; pydantic converts where a field
  asks for a number or a boolean;
- a key given twice in one mapping, or a key that is not a scalar, is an error (not "last one
  wins"); all such problems of a document are reported together;
- each value's 1-based (line, col) is kept by its path (for a mapping entry: its key); a
  problem on a path that is not in the document is placed at its closest ancestor that is;
- every problem reads ``file:line:col: message``, and files are read with a size cap.
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
Position = tuple[int, int]
Data = None | str | list["Data"] | dict[str, "Data"]
ModelT = TypeVar("ModelT", bound=BaseModel)

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# Generous for hand-written config, small enough that a pasted dump cannot exhaust memory.
MAX_FILE_BYTES = 2_000_000


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ConfigError(Exception):
    """One or more problems; ``problems`` holds them as text, one ``file:line:col: message`` each.

    ``located`` keeps the ``Problem`` objects the error was built from (a problem given as
    plain text has none), for callers that sort or re-place problems by position.
    """

    def __init__(self, problems: Sequence[Problem | str]) -> None:
        self.problems = [str(problem) for problem in problems]
        self.located = [problem for problem in problems if isinstance(problem, Problem)]
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class SourceDocument:
    """One YAML file's values and the position of each by path (mapping entries: the key)."""

    file: str
    data: Data
    positions: dict[ValuePath, Position] = field(default_factory=dict)

    def position(self, path: Sequence[PathPart]) -> Position:
        """Position of ``path``, or of its closest ancestor that exists."""
        parts = tuple(path)
        while parts and parts not in self.positions:
            parts = parts[:-1]
        return self.positions.get(parts, (1, 1))

    def problem(self, path: Sequence[PathPart], message: str) -> Problem:
        line, col = self.position(path)
        return Problem(self.file, line, col, message)


def _mark(mark: yaml.Mark | None) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _build(
    node: yaml.Node,
    path: ValuePath,
    positions: dict[ValuePath, Position],
    problems: list[Problem],
    file: str,
) -> Data:
    if isinstance(node, yaml.ScalarNode):
        value = str(node.value)
        return None if node.style is None and value in _NULLS else value
    if isinstance(node, yaml.SequenceNode):
        items: list[Data] = []
        for index, child in enumerate(node.value):
            positions[(*path, index)] = _mark(child.start_mark)
            items.append(_build(child, (*path, index), positions, problems, file))
        return items
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Data] = {}
        for key_node, value_node in node.value:
            line, col = _mark(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(file, line, col, "mapping keys must be plain values"))
                continue
            key = str(key_node.value)
            if key in mapping:
                problems.append(Problem(file, line, col, f"duplicate key {key!r}"))
                continue
            positions[(*path, key)] = (line, col)
            mapping[key] = _build(value_node, (*path, key), positions, problems, file)
        return mapping
    raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover - composer guarantees


def parse_yaml(text: str, file: str) -> SourceDocument:
    """Compose one YAML document into plain data; ``ConfigError`` lists every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line, col = _mark(exc.problem_mark or exc.context_mark)
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([Problem(file, line, col, f"invalid YAML: {reason}")]) from exc
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses
        raise ConfigError([Problem(file, 1, 1, f"invalid YAML: {exc}")]) from exc
    positions: dict[ValuePath, Position] = {}
    if root is None:
        return SourceDocument(file, None, positions)
    positions[()] = _mark(root.start_mark)
    problems: list[Problem] = []
    data = _build(root, (), positions, problems, file)
    if problems:
        raise ConfigError(problems)
    return SourceDocument(file, data, positions)


def read_text(path: Path, file: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of ``path`` (named ``file`` in problems), refused beyond ``max_bytes``."""
    file = file if file is not None else str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(max_bytes + 1)  # never more than the cap, whatever the file is
    except OSError as exc:
        raise ConfigError([Problem(file, 1, 1, f"cannot read: {exc.strerror}")]) from exc
    if len(raw) > max_bytes:
        raise ConfigError([Problem(file, 1, 1, f"file larger than {max_bytes} bytes")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, 1, 1, "file is not UTF-8")]) from exc


def load_yaml(
    path: Path, file: str | None = None, max_bytes: int = MAX_FILE_BYTES
) -> SourceDocument:
    """``read_text`` then ``parse_yaml``."""
    file = file if file is not None else str(path)
    return parse_yaml(read_text(path, file, max_bytes), file)


def validation_problems(
    error: ValidationError,
    document: SourceDocument,
    root: str = "(document)",
    keep_value_error_prefix: bool = False,
) -> list[Problem]:
    """Each pydantic error as ``file:line:col: where: message``, placed at the closest ancestor
    of its ``loc`` found in the document. ``root`` names the document itself (an empty loc)."""
    problems = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        where = ".".join(str(part) for part in loc) or root
        message = detail["msg"]
        if not keep_value_error_prefix:
            message = message.removeprefix("Value error, ")
        problems.append(document.problem(loc, f"{where}: {message}"))
    return problems


def validate(
    model: type[ModelT],
    document: SourceDocument,
    root: str = "(document)",
    keep_value_error_prefix: bool = False,
) -> ModelT:
    """``model`` from the document (an empty one counts as ``{}``); ``ConfigError`` otherwise."""
    try:
        return model.model_validate(document.data if document.data is not None else {})
    except ValidationError as exc:
        raise ConfigError(
            validation_problems(exc, document, root, keep_value_error_prefix)
        ) from exc

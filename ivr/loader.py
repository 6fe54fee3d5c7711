"""The IVR's YAML: ``cti.yaml_config`` documents, and pydantic errors worded for menu authors.

Reading and composing are ``cti.yaml_config``'s: every plain scalar stays a string (the DTMF key
``0``, the answer ``no``, the language ``on``), no tag is constructed, a key given twice is an
error, and each value's position is kept by its path. Here the problems are ``Problem`` objects
(sorted, and placed again by ``ivr.validate``'s semantic checks) raised as ``YamlProblems``, and
schema errors walk the data so union tags (``menu`` in ``nodes.main.menu.prompt``) are not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from cti import yaml_config
from cti.yaml_config import (
    ConfigError,
    Data,
    ModelT,
    PathPart,
    Problem,
    SourceDocument,
    ValuePath,
)

__all__ = [
    "Data",
    "ModelT",
    "PathPart",
    "Problem",
    "SourceDocument",
    "ValuePath",
    "YamlProblems",
    "load_yaml_file",
    "parse_yaml",
    "validate_document",
]


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def parse_yaml(text: str, file: str) -> SourceDocument:
    """Parse one YAML document; raises ``YamlProblems`` with positions on any error."""
    try:
        return yaml_config.parse_yaml(text, file)
    except ConfigError as exc:
        raise YamlProblems(exc.located) from exc


def load_yaml_file(path: Path, display: str | None = None) -> SourceDocument:
    try:
        return yaml_config.load_yaml(path, display)
    except ConfigError as exc:
        raise YamlProblems(exc.located) from exc


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

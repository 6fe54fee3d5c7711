"""Load ACD seed data (agents, skills) and the ACD view of queues from YAML.

The YAML is composed with ``yaml.SafeLoader`` and built by hand so every plain scalar stays a
string (agent ``1001``, skill ``no``, language ``on`` are not turned into int/bool); the pydantic
models convert where a field asks for a number. No tag is ever constructed. A key given twice in
one mapping is an error. Errors name ``file:line:col``.

Accepted shapes:
- ``queues.yaml``: ``queues: [{id, product, name, skills: [..] | {skill: level}, ...ACD fields}]``
  (the IVR's minimal file is valid; the ACD fields are optional);
- ``skills.yaml``: ``skills: [{id, description}]``;
- ``agents.yaml``: ``agents: [{id, name, device, skills: {skill: level}, wrap_up_s, ...}]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from acd.model import AcdConfig, Agent, Queue, Skill

Data = None | str | list["Data"] | dict[str, "Data"]
Position = tuple[int, int]
M = TypeVar("M", bound=BaseModel)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
MAX_FILE_BYTES = 2_000_000


class ConfigError(Exception):
    """One or more problems, each ``file:line:col: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _mark(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(
    node: yaml.Node, path: tuple[str | int, ...], positions: dict[tuple[str | int, ...], Position]
) -> Data:
    positions[path] = _mark(node)
    if isinstance(node, yaml.ScalarNode):
        value = str(node.value)
        return None if node.style is None and value in _NULLS else value
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, (*path, i), positions) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Data] = {}
        for key_node, value_node in node.value:
            line, col = _mark(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError([f"?:{line}:{col}: mapping keys must be plain values"])
            key = str(key_node.value)
            if key in mapping:
                raise ConfigError([f"?:{line}:{col}: duplicate key {key!r}"])
            mapping[key] = _build(value_node, (*path, key), positions)
            positions[(*path, key)] = (line, col)
        return mapping
    raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover


def parse_yaml(text: str, file: str) -> tuple[Data, dict[tuple[str | int, ...], Position]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([f"{file}:{line}:{col}: invalid YAML: {exc.problem}"]) from exc
    positions: dict[tuple[str | int, ...], Position] = {}
    if root is None:
        return None, positions
    try:
        return _build(root, (), positions), positions
    except ConfigError as exc:
        raise ConfigError([p.replace("?:", f"{file}:", 1) for p in exc.problems]) from exc


def _validate(
    model: type[M], data: Data, positions: dict[tuple[str | int, ...], Position], file: str
) -> M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            # The closest ancestor of the failing value that exists in the document.
            probe = loc
            while probe and probe not in positions:
                probe = probe[:-1]
            line, col = positions.get(probe, (1, 1))
            where = ".".join(str(part) for part in loc)
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{file}:{line}:{col}: {where}: {message}" if where else message)
        raise ConfigError(problems) from exc


def _read(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}:1:1: cannot read: {exc.strerror}"]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError([f"{path}:1:1: file larger than {MAX_FILE_BYTES} bytes"])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}:1:1: file is not UTF-8"]) from exc


class _QueuesFile(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}
    queues: tuple[Queue, ...]


class _SkillsFile(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}
    skills: tuple[Skill, ...]


class _AgentsFile(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}
    agents: tuple[Agent, ...] = ()


def load_queues_text(text: str, file: str = "queues.yaml") -> tuple[Queue, ...]:
    data, positions = parse_yaml(text, file)
    return _validate(_QueuesFile, data, positions, file).queues


def load_skills_text(text: str, file: str = "skills.yaml") -> tuple[Skill, ...]:
    data, positions = parse_yaml(text, file)
    return _validate(_SkillsFile, data, positions, file).skills


def load_agents_text(text: str, file: str = "agents.yaml") -> tuple[Agent, ...]:
    data, positions = parse_yaml(text, file)
    return _validate(_AgentsFile, data, positions, file).agents


def load_acd_config(
    queues: Path, agents: Path | None = None, skills: Path | None = None
) -> AcdConfig:
    """Read the three files and check cross-references (unknown skills, overflow queues)."""
    queue_models = load_queues_text(_read(queues), str(queues))
    agent_models = load_agents_text(_read(agents), str(agents)) if agents else ()
    skill_models = load_skills_text(_read(skills), str(skills)) if skills else ()
    try:
        return AcdConfig(skills=skill_models, queues=queue_models, agents=agent_models)
    except ValidationError as exc:
        raise ConfigError(
            [f"{queues}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        ) from exc

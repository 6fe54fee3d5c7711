"""Load ACD seed data (agents, skills) and the ACD view of queues from YAML.

The YAML is read with ``cti.yaml_config``: every plain scalar stays a string (agent ``1001``,
skill ``no``, language ``on`` are not turned into int/bool) and the pydantic models convert where
a field asks for a number; no tag is ever constructed; a key given twice in one mapping is an
error. Errors name ``file:line:col``.

Accepted shapes:
- ``queues.yaml``: ``queues: [{id, product, name, skills: [..] | {skill: level}, ...ACD fields}]``
  (the IVR's minimal file is valid; the ACD fields are optional);
- ``skills.yaml``: ``skills: [{id, description}]``;
- ``agents.yaml``: ``agents: [{id, name, device, skills: {skill: level}, wrap_up_s, ...}]``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from acd.model import AcdConfig, Agent, Queue, Skill
from cti.yaml_config import ConfigError, parse_yaml, read_text, validate

__all__ = [
    "ConfigError",
    "load_acd_config",
    "load_agents_text",
    "load_config",
    "load_queues_text",
    "load_skills_text",
]


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
    return validate(_QueuesFile, parse_yaml(text, file)).queues


def load_skills_text(text: str, file: str = "skills.yaml") -> tuple[Skill, ...]:
    return validate(_SkillsFile, parse_yaml(text, file)).skills


def load_agents_text(text: str, file: str = "agents.yaml") -> tuple[Agent, ...]:
    return validate(_AgentsFile, parse_yaml(text, file)).agents


def load_acd_config(
    queues: Path, agents: Path | None = None, skills: Path | None = None
) -> AcdConfig:
    """Read the three files and check cross-references (unknown skills, overflow queues)."""
    queue_models = load_queues_text(read_text(queues), str(queues))
    agent_models = load_agents_text(read_text(agents), str(agents)) if agents else ()
    skill_models = load_skills_text(read_text(skills), str(skills)) if skills else ()
    try:
        return AcdConfig(skills=skill_models, queues=queue_models, agents=agent_models)
    except ValidationError as exc:
        raise ConfigError(
            [f"{queues}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        ) from exc


def load_config(config_dir: Path) -> AcdConfig:
    """The ACD's configuration from an operations folder: ``queues.yaml`` and, when present,
    ``agents.yaml`` and ``skills.yaml``."""
    agents = config_dir / "agents.yaml"
    skills = config_dir / "skills.yaml"
    return load_acd_config(
        config_dir / "queues.yaml",
        agents if agents.exists() else None,
        skills if skills.exists() else None,
    )

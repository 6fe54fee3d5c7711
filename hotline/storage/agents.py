"""The agents' live list: ``config/agents.yaml`` seeds it, the database keeps it.

Invariants:
- the YAML is seed data: ``seed_from`` inserts only agents the database does not have, and
  never changes a stored one (an admin's edit survives every restart and YAML change);
- every value written goes through ``acd.model.Agent`` first, so the database never holds an
  agent the ACD would refuse (skill ids, levels 1..10, device syntax, wrap-up range);
- ``set_skills`` replaces the whole set in one transaction: readers see the old or the new
  skills, never a mix.
Whether a skill exists in ``config/skills.yaml`` is the caller's check (the store has no
catalogue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from acd.model import Agent
from hotline.storage.agent_models import AgentRow, AgentSkillRow
from hotline.storage.db import Database


class UnknownAgent(LookupError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"no agent {agent_id!r}")
        self.agent_id = agent_id


class Keep(Enum):
    """``update``'s default: leave the field as stored (``device=None`` clears the device)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _now() -> datetime:
    return datetime.now(UTC)


class AgentStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def seed_from(self, config_agents: Iterable[Agent]) -> list[str]:
        """Insert the agents the database does not have yet; returns their ids."""
        agents = list(config_agents)
        async with self._db.session() as session:
            known = set((await session.scalars(select(AgentRow.id))).all())
            added = [agent for agent in agents if agent.id not in known]
            now = _now()
            for agent in added:
                session.add(_row(agent, now))
            await session.flush()  # agents before their skills (foreign key)
            for agent in added:
                session.add_all(_skill_rows(agent.id, agent.skills))
        return [agent.id for agent in added]

    async def all(self) -> tuple[Agent, ...]:
        async with self._db.session() as session:
            rows = (await session.scalars(select(AgentRow).order_by(AgentRow.id))).all()
            skills = await _skills_of(session, None)
        return tuple(_agent(row, skills.get(row.id, {})) for row in rows)

    async def get(self, agent_id: str) -> Agent:
        async with self._db.session() as session:
            row = await session.get(AgentRow, agent_id)
            if row is None:
                raise UnknownAgent(agent_id)
            skills = await _skills_of(session, agent_id)
        return _agent(row, skills.get(agent_id, {}))

    async def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> Agent:
        """Replace the agent's skills; ``ValueError`` (pydantic's) for an id or level the ACD
        would refuse, ``UnknownAgent`` for an agent not stored."""
        async with self._db.session() as session:
            row = await session.get(AgentRow, agent_id, with_for_update=True)
            if row is None:
                raise UnknownAgent(agent_id)
            agent = Agent.model_validate(_fields(row) | {"skills": dict(skills)})
            await session.execute(delete(AgentSkillRow).where(AgentSkillRow.agent_id == agent_id))
            session.add_all(_skill_rows(agent_id, agent.skills))
            row.updated_at = _now()
        return agent

    async def update(
        self,
        agent_id: str,
        *,
        name: str | Keep = KEEP,
        device: str | Keep | None = KEEP,
        wrap_up_s: float | Keep = KEEP,
        no_answer_limit: int | Keep = KEEP,
    ) -> Agent:
        """Change the given fields; the others (and the skills) stay as stored."""
        changes: dict[str, Any] = {
            field: value
            for field, value in (
                ("name", name),
                ("device", device),
                ("wrap_up_s", wrap_up_s),
                ("no_answer_limit", no_answer_limit),
            )
            if value is not KEEP
        }
        async with self._db.session() as session:
            row = await session.get(AgentRow, agent_id, with_for_update=True)
            if row is None:
                raise UnknownAgent(agent_id)
            skills = await _skills_of(session, agent_id)
            agent = Agent.model_validate(
                _fields(row) | changes | {"skills": skills.get(agent_id, {})}
            )
            row.name, row.device = agent.name, agent.device
            row.wrap_up_s, row.no_answer_limit = agent.wrap_up_s, agent.no_answer_limit
            row.updated_at = _now()
        return agent


def _row(agent: Agent, now: datetime) -> AgentRow:
    return AgentRow(
        id=agent.id,
        name=agent.name,
        device=agent.device,
        wrap_up_s=agent.wrap_up_s,
        no_answer_limit=agent.no_answer_limit,
        created_at=now,
        updated_at=now,
    )


def _skill_rows(agent_id: str, skills: Mapping[str, int]) -> list[AgentSkillRow]:
    return [
        AgentSkillRow(agent_id=agent_id, skill=skill, level=level)
        for skill, level in sorted(skills.items())
    ]


def _fields(row: AgentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "device": row.device,
        "wrap_up_s": row.wrap_up_s,
        "no_answer_limit": row.no_answer_limit,
    }


def _agent(row: AgentRow, skills: Mapping[str, int]) -> Agent:
    return Agent.model_validate(_fields(row) | {"skills": dict(skills)})


async def _skills_of(session: AsyncSession, agent_id: str | None) -> dict[str, dict[str, int]]:
    """Agent id → {skill: level}, of one agent or (``None``) of all."""
    query = select(AgentSkillRow).order_by(AgentSkillRow.agent_id, AgentSkillRow.skill)
    if agent_id is not None:
        query = query.where(AgentSkillRow.agent_id == agent_id)
    skills: dict[str, dict[str, int]] = {}
    for skill in (await session.scalars(query)).all():
        skills.setdefault(skill.agent_id, {})[skill.skill] = skill.level
    return skills

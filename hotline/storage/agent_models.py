"""Agents and their skills, the live copy of ``config/agents.yaml`` (which is seed data only).
Migration ``0004_agents``.

Skills are rows of ``agent_skills`` (one per agent and skill), not a JSON column: the database
itself then enforces one level per skill, the 1..10 range (a CHECK) and that no skill outlives
its agent (ON DELETE CASCADE); and "who has skill X at level >= n" (staffing, reports) is an
indexed query on both databases instead of a JSON path expression written twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.base import Base


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    device: Mapped[str | None] = mapped_column(String(128))
    wrap_up_s: Mapped[float] = mapped_column(Float)
    no_answer_limit: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AgentSkillRow(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 10", name="level_range"),
        Index("ix_agent_skills_skill_level", "skill", "level"),
    )

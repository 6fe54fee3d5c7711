"""Admins' edits of agents: stored in the database (``AgentStore``), then handed to the ACD,
then published as a domain event; and, at start-up, the ACD's agents read from the database.

Invariants:
- the database is the truth: an edit is stored first and reaches the ACD only once stored, and
  one edit at a time goes through both (a lock), so the ACD never ends up holding an older edit
  than the database;
- skills are checked against the catalogue (``config/skills.yaml``) here, with a message that
  names the unknown ones; as in ``AcdConfig``, no catalogue means no check;
- skills and device apply at the agent's next login (the engine's skills index keeps the skills
  an agent logged in with); wrap-up and the no-answer limit at its next call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import ValidationError

from acd.model import Agent
from acd.service import AcdService
from cti.events import AgentSkillsChanged, DomainEvent
from hotline.api.ports import InvalidAgentSettings, UnknownTarget
from hotline.storage.agents import AgentStore, UnknownAgent

log = logging.getLogger("hotline.agent_admin")

APPLIES = "next_login"
_EDITABLE = frozenset({"name", "device", "wrap_up_s", "no_answer_limit"})


async def load_agents(acd: AcdService, store: AgentStore) -> None:
    """Start-up, after migrations and before ``acd.start()``: seed the database with the YAML's
    agents it lacks (never overwriting an edit), then give the ACD the database's list."""
    seeded = await store.seed_from(acd.config.agents)
    agents = await store.all()
    acd.use_agents(agents)
    log.info("acd agents from the database", extra={"agents": len(agents), "seeded": len(seeded)})


class StoredAgentAdmin:
    """``hotline.api.ports.AgentAdmin`` over the database and the ACD service."""

    def __init__(
        self,
        store: AgentStore,
        acd: AcdService,
        publish: Callable[[DomainEvent], None] | None = None,
    ) -> None:
        self._store = store
        self._acd = acd
        self._publish = publish
        self._catalogue = frozenset(skill.id for skill in acd.config.skills)
        self._lock = asyncio.Lock()

    async def set_skills(self, agent_id: str, skills: Mapping[str, int], by: str) -> Agent:
        unknown = sorted(set(skills) - self._catalogue) if self._catalogue else []
        if unknown:
            raise InvalidAgentSettings(
                f"unknown skill(s) {', '.join(unknown)}: not in config/skills.yaml"
            )
        async with self._lock:
            before = await self._stored(agent_id)
            agent = await self._call(self._store.set_skills(agent_id, skills))
            await self._apply(agent)
        self._announce(agent, before, by)
        return agent

    async def update(self, agent_id: str, changes: Mapping[str, object], by: str) -> Agent:
        fields: dict[str, Any] = dict(changes)
        if not fields.keys() <= _EDITABLE:
            raise InvalidAgentSettings(
                f"not editable: {', '.join(sorted(fields.keys() - _EDITABLE))}"
            )
        async with self._lock:
            agent = await self._call(self._store.update(agent_id, **fields))
            await self._apply(agent)
        log.info("agent settings changed", extra={"agent": agent_id, "by": by, **fields})
        return agent

    async def _stored(self, agent_id: str) -> Agent:
        return await self._call(self._store.get(agent_id))

    async def _call(self, work: Awaitable[Agent]) -> Agent:
        try:
            agent = await work
        except UnknownAgent as exc:
            raise UnknownTarget(str(exc)) from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidAgentSettings(problems) from exc
        return agent

    async def _apply(self, agent: Agent) -> None:
        try:
            await self._acd.update_agent(agent)
        except KeyError:
            # Stored, but unknown to the running ACD (added since start-up): next start.
            log.warning("edited agent unknown to the running ACD", extra={"agent": agent.id})

    def _announce(self, agent: Agent, before: Agent, by: str) -> None:
        log.info("agent skills changed", extra={"agent": agent.id, "by": by})
        if self._publish is None:
            return
        event = AgentSkillsChanged(
            agent_id=agent.id,
            skills=dict(agent.skills),
            previous=dict(before.skills),
            applies=APPLIES,
            by=by,
        )
        try:
            self._publish(event)
        except Exception:
            log.exception("could not publish agent.skills_changed", extra={"agent": agent.id})

"""Agents from the database and edited agents in the ACD service (over the fake PBX): the
database's list replaces the YAML's before start; an edited skill takes effect at the agent's
next login, not while it stays logged in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from acd.agent_state import AgentState
from acd.model import Agent, Skill
from acd.service import AcdService
from cti.events import AgentLoggedIn, DomainEvent
from tests.fakes.acd import CONFIG, FakePbx, held, settle


async def test_an_edited_skill_takes_effect_at_the_next_login() -> None:
    pbx = FakePbx()
    published: list[DomainEvent] = []
    service = AcdService(CONFIG, pbx, publish=published.append)
    a2 = CONFIG.agents[1]
    service.use_agents([CONFIG.agents[0], a2.model_copy(update={"skills": {}})])
    await service.start()
    try:
        await service.login("a2")
        await service.update_agent(a2.model_copy(update={"skills": {"credit_card": 4}}))
        pbx.queue.put_nowait(held("c1"))
        await settle(pbx)
        # Still logged in with no skills: the call waits.
        assert pbx.connects == []
        assert service.agent("a2").state is AgentState.AVAILABLE
        await service.logout("a2")
        await service.login("a2")
        await settle(pbx)
        assert pbx.connects == [("c1", "a2")]
        logins = [e.queues for e in published if isinstance(e, AgentLoggedIn)]
        assert logins == [(), ("cards",)]
    finally:
        await service.stop()


async def test_a_resync_applies_edited_skills_too() -> None:
    pbx = FakePbx()
    service = AcdService(CONFIG, pbx)
    await service.start()
    try:
        await service.login("a1")
        await service.update_agent(CONFIG.agents[0].model_copy(update={"skills": {}}))
        await service.resync()  # an AMI reconnect: agents are logged in again
        pbx.queue.put_nowait(held("c1"))
        await settle(pbx)
        assert pbx.connects == []
    finally:
        await service.stop()


async def test_database_agents_replace_the_yaml_only_before_start() -> None:
    service = AcdService(CONFIG, FakePbx())
    from_db = Agent(id="a9", device="PJSIP/1009", skills={"credit_card": 9})
    service.use_agents([from_db])
    assert service.config.agents == (from_db,)
    assert set(service.engine.agent_config) == {"a9"}
    await service.start()
    try:
        with pytest.raises(RuntimeError):
            service.use_agents([])
        with pytest.raises(KeyError):
            await service.update_agent(CONFIG.agents[0])  # not one of the database's agents
    finally:
        await service.stop()


async def test_agents_are_validated_against_the_skill_catalogue() -> None:
    config = CONFIG.model_copy(update={"skills": (Skill(id="credit_card"),)})
    service = AcdService(config, FakePbx())
    with pytest.raises(ValidationError, match="unknown skill 'mortgage'"):
        service.use_agents([Agent(id="a1", skills={"mortgage": 3})])
    assert service.config.agents == CONFIG.agents

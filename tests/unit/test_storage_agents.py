"""AgentStore on SQLite and PostgreSQL (the ``db`` and ``empty_database`` fixtures): seeding
never overwrites edits; unknown agents; values the ACD would refuse are refused before they are
stored; migration 0004 up and down."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from acd.model import Agent
from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.agent_models import AgentSkillRow
from hotline.storage.agents import AgentStore, UnknownAgent
from hotline.storage.migrate import current_async, downgrade_async, upgrade_async

SEED = (
    Agent(id="1001", name="王芳 Wang Fang", device="PJSIP/1001", skills={"credit_card": 8}),
    Agent(id="1002", name="Li Wei", device="PJSIP/1002", skills={"mortgage": 6}, wrap_up_s=15),
)


@pytest.fixture
def store(db: Database) -> AgentStore:
    return AgentStore(db)


async def test_seed_inserts_missing_agents_and_reads_them_back(store: AgentStore) -> None:
    assert await store.seed_from(SEED) == ["1001", "1002"]
    assert await store.all() == SEED
    assert await store.get("1002") == SEED[1]
    assert await store.seed_from(SEED) == []  # a second start adds nothing


async def test_seed_never_overwrites_edits(store: AgentStore) -> None:
    await store.seed_from(SEED)
    await store.set_skills("1001", {"credit_card": 3, "lost_card": 9})
    await store.update("1001", name="Wang Fang", wrap_up_s=30)
    changed_yaml = (
        SEED[0].model_copy(update={"skills": {"credit_card": 10}, "wrap_up_s": 5.0}),
        Agent(id="1003", device="PJSIP/1003", skills={"language_en": 10}),
    )
    assert await store.seed_from(changed_yaml) == ["1003"]
    edited = await store.get("1001")
    assert edited.skills == {"credit_card": 3, "lost_card": 9}
    assert (edited.name, edited.wrap_up_s, edited.device) == ("Wang Fang", 30.0, "PJSIP/1001")
    assert [a.id for a in await store.all()] == ["1001", "1002", "1003"]


async def test_update_changes_only_the_given_fields(store: AgentStore) -> None:
    await store.seed_from(SEED)
    agent = await store.update("1002", device=None, no_answer_limit=5)
    assert agent == SEED[1].model_copy(update={"device": None, "no_answer_limit": 5})
    assert await store.get("1002") == agent
    assert (await store.update("1002")) == agent  # nothing given: nothing changes


async def test_unknown_agent(store: AgentStore) -> None:
    await store.seed_from(SEED)
    with pytest.raises(UnknownAgent, match="'9999'"):
        await store.get("9999")
    with pytest.raises(UnknownAgent):
        await store.set_skills("9999", {"credit_card": 1})
    with pytest.raises(UnknownAgent):
        await store.update("9999", name="x")


async def test_values_the_acd_would_refuse_are_not_stored(store: AgentStore) -> None:
    await store.seed_from(SEED)
    for skills in ({"credit_card": 11}, {"credit_card": 0}, {"Not A Skill": 3}):
        with pytest.raises(ValidationError):
            await store.set_skills("1001", skills)
    with pytest.raises(ValidationError):
        await store.update("1001", device="not a dial string")
    assert await store.get("1001") == SEED[0]


async def test_the_database_checks_levels_too(store: AgentStore, db: Database) -> None:
    await store.seed_from(SEED)
    for level in (0, 11):
        with pytest.raises(IntegrityError):
            async with db.session() as session:
                session.add(AgentSkillRow(agent_id="1001", skill="mortgage", level=level))
    with pytest.raises(IntegrityError):  # foreign key: no skills of an unknown agent
        async with db.session() as session:
            session.add(AgentSkillRow(agent_id="9999", skill="mortgage", level=1))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migration_0004_up_and_down(empty_database: DatabaseSettings) -> None:
    settings = empty_database
    await upgrade_async(settings, "0004_agents")
    async with Database(settings) as db:
        await AgentStore(db).seed_from(SEED)  # down must drop tables that hold rows
        async with db.engine.connect() as conn:
            assert {"agents", "agent_skills"} <= await conn.run_sync(table_names)
    await downgrade_async(settings, "0003_recordings")
    assert await current_async(settings) == "0003_recordings"
    async with Database(settings) as db, db.engine.connect() as conn:
        names = await conn.run_sync(table_names)
        assert "agents" not in names and "agent_skills" not in names and "recordings" in names
    await upgrade_async(settings, "0004_agents")
    assert await current_async(settings) == "0004_agents"

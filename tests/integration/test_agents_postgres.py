"""Migration 0004 (agents, agent_skills) and AgentStore on the real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from acd.model import Agent
from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.agent_models import AgentSkillRow
from hotline.storage.agents import AgentStore, UnknownAgent
from hotline.storage.migrate import current_async, downgrade_async, head_revision, upgrade_async
from tests.fakes.databases import schema_diff

SEED = (
    Agent(id="1001", name="王芳 Wang Fang", device="PJSIP/1001", skills={"credit_card": 8}),
    Agent(id="1002", device="PJSIP/1002", skills={"mortgage": 6}),
)


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migration_0004_up_down_up(pg_settings: DatabaseSettings) -> None:
    await upgrade_async(pg_settings, "0004_agents")
    async with Database(pg_settings) as db_:
        await AgentStore(db_).seed_from(SEED)
    await upgrade_async(pg_settings)  # the models are the head's: compare there
    async with Database(pg_settings) as db_, db_.engine.connect() as conn:
        assert await conn.run_sync(schema_diff) == []
    await downgrade_async(pg_settings, "0003_recordings")
    assert await current_async(pg_settings) == "0003_recordings"
    async with Database(pg_settings) as db_, db_.engine.connect() as conn:
        names = await conn.run_sync(table_names)
        assert "agents" not in names and "agent_skills" not in names and "recordings" in names
    await upgrade_async(pg_settings)
    assert await current_async(pg_settings) == head_revision()


async def test_store_seeds_edits_and_checks(pg_db: Database) -> None:
    store = AgentStore(pg_db)
    assert await store.seed_from(SEED) == ["1001", "1002"]
    await store.set_skills("1001", {"credit_card": 2, "lost_card": 9})
    await store.update("1001", wrap_up_s=25)
    assert await store.seed_from(SEED) == []
    edited = await store.get("1001")
    assert (edited.skills, edited.wrap_up_s) == ({"credit_card": 2, "lost_card": 9}, 25.0)
    assert await store.all() == (edited, SEED[1])
    with pytest.raises(UnknownAgent):
        await store.set_skills("9999", {})
    with pytest.raises(IntegrityError):
        async with pg_db.session() as session:
            session.add(AgentSkillRow(agent_id="1002", skill="lost_card", level=0))

"""Admins edit agents' skills and settings over HTTP: roles, validation against the skill
catalogue, storage in a temporary SQLite database, the ACD and the published event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from acd.model import Skill
from acd.service import AcdService
from cti.events import AgentSkillsChanged, DomainEvent
from cti.settings import DatabaseSettings, load_settings
from hotline.agent_admin import StoredAgentAdmin, load_agents
from hotline.api.app import create_app
from hotline.api.ports import ApiServices
from hotline.storage import Database
from hotline.storage.agents import AgentStore
from hotline.storage.migrate import upgrade_async
from tests.fakes.acd import CONFIG, FakePbx
from tests.fakes.live import FakePbx as FakeAmiPbx

TOKENS = {role: f"{role}-token-0123456789abcdef" for role in ("admin", "supervisor", "wallboard")}
AGENT_TOKEN = "agent-token-0123456789abcdef"
CATALOGUE = CONFIG.model_copy(
    update={"skills": (Skill(id="credit_card"), Skill(id="lost_card"), Skill(id="language_zh"))}
)


@dataclass
class Rig:
    http: httpx.AsyncClient
    acd: AcdService
    store: AgentStore
    published: list[DomainEvent]


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role] if role != 'agent' else AGENT_TOKEN}"}


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    db_settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    await upgrade_async(db_settings)
    settings = load_settings(
        database=db_settings,
        api={
            "tokens": [
                *({"name": f"{r}-1", "role": r, "token": t} for r, t in TOKENS.items()),
                {"name": "a1", "role": "agent", "token": AGENT_TOKEN, "agent_id": "a1"},
            ]
        },
    )
    async with Database(db_settings) as db:
        store = AgentStore(db)
        acd = AcdService(CATALOGUE, FakePbx())
        await load_agents(acd, store)
        published: list[DomainEvent] = []
        services = ApiServices(
            pbx=FakeAmiPbx(),
            database=db,
            agent_admin=StoredAgentAdmin(store, acd, published.append),
        )
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Rig(http, acd, store, published)


async def test_admin_sets_skills_stored_applied_and_published(rig: Rig) -> None:
    response = await rig.http.put(
        "/api/v1/agents/a1/skills",
        json={"skills": {"credit_card": 7, "lost_card": 2}},
        headers=auth("admin"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skills"] == {"credit_card": 7, "lost_card": 2}
    assert body["applies"] == "next_login"
    assert (await rig.store.get("a1")).skills == {"credit_card": 7, "lost_card": 2}
    assert rig.acd.engine.agent_config["a1"].skills == {"credit_card": 7, "lost_card": 2}
    assert rig.acd.config.agents[0].skills == {"credit_card": 7, "lost_card": 2}
    (event,) = rig.published
    assert event == AgentSkillsChanged(
        agent_id="a1", skills={"credit_card": 7, "lost_card": 2}, previous={"credit_card": 5},
        applies="next_login", by="admin-1", ts=event.ts, mono=event.mono,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("role", "code"), [("supervisor", 403), ("agent", 403), ("wallboard", 403)]
)
async def test_only_admins_edit(rig: Rig, role: str, code: int) -> None:
    put = await rig.http.put(
        "/api/v1/agents/a1/skills", json={"skills": {"credit_card": 1}}, headers=auth(role)
    )
    patch = await rig.http.patch("/api/v1/agents/a1", json={"name": "x"}, headers=auth(role))
    assert (put.status_code, patch.status_code) == (code, code)
    assert (await rig.http.patch("/api/v1/agents/a1", json={"name": "x"})).status_code == 401
    assert (await rig.store.get("a1")) == CONFIG.agents[0]
    assert rig.published == []


async def test_unknown_skills_and_bad_levels_are_422(rig: Rig) -> None:
    unknown = await rig.http.put(
        "/api/v1/agents/a1/skills",
        json={"skills": {"credit_card": 3, "mortgage": 5, "astrology": 1}},
        headers=auth("admin"),
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == (
        "unknown skill(s) astrology, mortgage: not in config/skills.yaml"
    )
    for level in (0, 11):
        bad = await rig.http.put(
            "/api/v1/agents/a1/skills",
            json={"skills": {"credit_card": level}},
            headers=auth("admin"),
        )
        assert bad.status_code == 422
    assert (await rig.store.get("a1")) == CONFIG.agents[0]
    assert rig.published == []


async def test_unknown_agent_is_404(rig: Rig) -> None:
    put = await rig.http.put(
        "/api/v1/agents/nobody/skills", json={"skills": {}}, headers=auth("admin")
    )
    patch = await rig.http.patch("/api/v1/agents/nobody", json={"name": "x"}, headers=auth("admin"))
    assert (put.status_code, patch.status_code) == (404, 404)
    assert "nobody" in put.json()["detail"]


async def test_patch_changes_only_what_is_given(rig: Rig) -> None:
    response = await rig.http.patch(
        "/api/v1/agents/a2",
        json={"name": "李伟 Li Wei", "wrap_up_s": 30, "device": None},
        headers=auth("admin"),
    )
    assert response.status_code == 200, response.text
    expected = CONFIG.agents[1].model_copy(
        update={"name": "李伟 Li Wei", "wrap_up_s": 30.0, "device": None}
    )
    assert await rig.store.get("a2") == expected
    assert rig.acd.engine.agent_config["a2"] == expected
    assert response.json()["applies"] == "next_login"
    bodies: list[dict[str, object]] = [
        {"name": None},
        {"device": "no dial string"},
        {"wrap_up_s": -1},
        {"skills": {}},
    ]
    for body in bodies:
        bad = await rig.http.patch("/api/v1/agents/a2", json=body, headers=auth("admin"))
        assert bad.status_code == 422, body
    assert await rig.store.get("a2") == expected


async def test_database_edits_survive_a_restart(rig: Rig) -> None:
    await rig.http.put(
        "/api/v1/agents/a1/skills", json={"skills": {"lost_card": 4}}, headers=auth("admin")
    )
    restarted = AcdService(CATALOGUE, FakePbx())  # the YAML still says credit_card: 5
    await load_agents(restarted, rig.store)
    assert restarted.engine.agent_config["a1"].skills == {"lost_card": 4}
    assert restarted.config.agents == await rig.store.all()

"""The HTTP API's probes, PBX info and authentication, over fakes of its ports."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from cti.settings import Settings, load_settings
from hotline.api.app import create_app
from hotline.api.ports import ApiServices
from tests.fakes.live import FakeDb, FakePbx

ADMIN = "admin-token-0123456789"
AGENT = "agent-token-0123456789"


def _settings() -> Settings:
    return load_settings(
        api={
            "tokens": [
                {"name": "ops", "role": "admin", "token": ADMIN},
                {"name": "a1", "role": "agent", "token": AGENT, "agent_id": "1001"},
            ]
        }
    )


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_healthz_is_open() -> None:
    async with _client(create_app(_settings(), ApiServices(FakePbx(), FakeDb()))) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("ami", "db", "code", "checks"),
    [
        (True, True, 200, {"ami": True, "database": True}),
        (False, True, 503, {"ami": False, "database": True}),
        (True, False, 503, {"ami": True, "database": False}),
    ],
)
async def test_readyz_reflects_ami_and_database(
    ami: bool, db: bool, code: int, checks: dict[str, bool]
) -> None:
    services = ApiServices(FakePbx(connected=ami), FakeDb(up=db))
    async with _client(create_app(_settings(), services)) as client:
        response = await client.get("/readyz")
    assert response.status_code == code
    assert response.json()["checks"] == checks


async def test_pbx_info_needs_a_token() -> None:
    async with _client(create_app(_settings(), ApiServices(FakePbx(), FakeDb()))) as client:
        missing = await client.get("/api/v1/pbx")
        wrong = await client.get("/api/v1/pbx", headers={"Authorization": "Bearer nope"})
        agent = await client.get("/api/v1/pbx", headers={"Authorization": f"Bearer {AGENT}"})
        admin = await client.get("/api/v1/pbx", headers={"Authorization": f"Bearer {ADMIN}"})
    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert agent.status_code == 403
    assert admin.status_code == 200
    body = admin.json()
    assert body["version"] == "Asterisk 22.10.1"
    assert body["uptime_s"] == 42
    assert body["connected"] is True


@pytest.mark.parametrize(("connected", "fail"), [(False, False), (True, True)])
async def test_pbx_info_unavailable_is_503(connected: bool, fail: bool) -> None:
    services = ApiServices(FakePbx(connected=connected, fail=fail), FakeDb())
    async with _client(create_app(_settings(), services)) as client:
        response = await client.get("/api/v1/pbx", headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 503


def test_short_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        load_settings(api={"tokens": [{"name": "x", "role": "admin", "token": "short"}]})

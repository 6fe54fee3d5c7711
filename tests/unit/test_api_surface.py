"""The HTTP surface is one table: every app from ``create_app`` has the same routes and the same
OpenAPI document whatever its services wire, and a part that is not wired answers 503."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cti.settings import load_settings
from hotline.api.app import create_app
from hotline.api.ports import ApiServices
from hotline.service import build_engine
from tests.fakes.live import ADMIN, SUPERVISOR, FakeDb, FakePbx, live_settings

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

# As served before the API was built one way (checked against ``hotline serve``'s app).
OPERATIONS = {
    "DELETE /api/v1/recordings/{call_id}/legal-hold",
    "GET /api/v1/agents",
    "GET /api/v1/agents/{agent_id}",
    "GET /api/v1/calls",
    "GET /api/v1/calls/{call_id}",
    "GET /api/v1/config/status",
    "GET /api/v1/pause-reasons",
    "GET /api/v1/pbx",
    "GET /api/v1/qa/agents",
    "GET /api/v1/qa/forms",
    "GET /api/v1/queues",
    "GET /api/v1/queues/{queue_id}/stats",
    "GET /api/v1/recordings",
    "GET /api/v1/recordings/{call_id}",
    "GET /api/v1/recordings/{call_id}/audio",
    "GET /api/v1/recordings/{call_id}/scores",
    "GET /api/v1/reports/agents",
    "GET /api/v1/reports/queues",
    "GET /api/v1/staffing/forecast",
    "GET /api/v1/staffing/needed-now",
    "GET /api/v1/staffing/plan",
    "GET /api/v1/supervisor/calls/{call_id}/trace",
    "GET /api/v1/wallboard",
    "GET /healthz",
    "GET /metrics",
    "GET /readyz",
    "PATCH /api/v1/agents/{agent_id}",
    "POST /api/v1/agents/{agent_id}/disposition",
    "POST /api/v1/agents/{agent_id}/login",
    "POST /api/v1/agents/{agent_id}/logout",
    "POST /api/v1/agents/{agent_id}/pause",
    "POST /api/v1/agents/{agent_id}/unpause",
    "POST /api/v1/calls/{call_id}/hangup",
    "POST /api/v1/calls/{call_id}/hold",
    "POST /api/v1/calls/{call_id}/recording/mute",
    "POST /api/v1/calls/{call_id}/recording/unmute",
    "POST /api/v1/calls/{call_id}/transfer",
    "POST /api/v1/calls/{call_id}/transfer/cancel",
    "POST /api/v1/calls/{call_id}/transfer/complete",
    "POST /api/v1/calls/{call_id}/unhold",
    "POST /api/v1/recordings/{call_id}/scores",
    "POST /api/v1/supervisor/agents/{agent_id}/{mode}",
    "PUT /api/v1/agents/{agent_id}/skills",
    "PUT /api/v1/recordings/{call_id}/legal-hold",
    "PUT /api/v1/supervisor/agents/{agent_id}/state",
}


def bare_client() -> httpx.AsyncClient:
    app = create_app(live_settings(), ApiServices(FakePbx(), FakeDb()))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_bare_app_has_every_route_of_the_served_one(tmp_path: Path) -> None:
    served = build_engine(
        load_settings(
            database={"url": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"}, config_dir=str(CONFIG_DIR)
        )
    ).http.config.app
    async with bare_client() as http:
        schema = (await http.get("/api/v1/openapi.json")).json()
    operations = {
        f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops
    }
    assert operations == OPERATIONS
    assert isinstance(served, FastAPI)
    assert schema == served.openapi()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/reports/queues?from=2025-03-03T09:00:00Z&to=2025-03-03T10:00:00Z"),
        ("GET", "/api/v1/staffing/forecast?queue=cards&start=2025-03-03"),
        ("GET", "/api/v1/staffing/plan?queue=cards&date=2025-03-03"),
        ("GET", "/api/v1/recordings"),
        ("GET", "/api/v1/qa/forms"),
        ("GET", "/api/v1/config/status"),
        ("GET", "/api/v1/supervisor/calls/c1/trace"),
    ],
)
async def test_unwired_parts_answer_503(method: str, path: str) -> None:
    async with bare_client() as http:
        response = await http.request(method, path, headers=auth(SUPERVISOR))
    assert response.status_code == 503, response.text


async def test_needed_now_needs_only_the_settings() -> None:
    params = {"calls_per_hour": 200, "aht_s": 180, "logged_in": 5}
    async with bare_client() as http:
        need = await http.get("/api/v1/staffing/needed-now", params=params, headers=auth(ADMIN))
    assert need.status_code == 200
    assert need.json()["needed"] == 14

"""The reports API: roles, JSON and CSV, defaults from the live settings, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cti.settings import DatabaseSettings, load_settings
from hotline.api.app import create_app
from hotline.api.ports import ApiServices
from hotline.reports.service import SqlReports
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from tests.fakes.event_log import store_events
from tests.fakes.live import FakePbx
from tests.fakes.mornings import one_queue_morning

SUPERVISOR = "supervisor-token-0123456789"
AGENT = "agent-token-0123456789abcdef"
# The hour's service level of ``one_queue_morning`` by formula (worked out in test_reports.py).
HOUR = {"asterisk_sl2": 0.6667, "removed_within_t_over_queued": 0.625}
QUERY = {"from": "2025-03-03T09:00:00+00:00", "to": "2025-03-03T10:00:00+00:00", "interval": "60m"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    db_settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    await upgrade_async(db_settings)
    async with Database(db_settings) as db:
        await store_events(db, one_queue_morning())
        settings = load_settings(
            api={
                "tokens": [
                    {"name": "sup", "role": "supervisor", "token": SUPERVISOR},
                    {"name": "a", "role": "agent", "token": AGENT, "agent_id": "1001"},
                ]
            },
            live={"sl_formula": "asterisk_sl2"},
        )
        app = create_app(settings, ApiServices(FakePbx(), db, reports=SqlReports(db)))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_supervisors_only(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/reports/queues", params=QUERY)).status_code == 401
    denied = await client.get("/api/v1/reports/queues", params=QUERY, headers=auth(AGENT))
    assert denied.status_code == 403


async def test_queue_report_json_uses_the_live_formula_by_default(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/reports/queues", params=QUERY, headers=auth(SUPERVISOR))
    assert response.status_code == 200
    body = response.json()
    assert body["service_level_formula"] == "asterisk_sl2"
    (row,) = body["rows"]
    assert (row["service_level"], row["service_level_formula"]) == (
        HOUR["asterisk_sl2"],
        "asterisk_sl2",
    )
    chosen = await client.get(
        "/api/v1/reports/queues",
        params=QUERY | {"formula": "removed_within_t_over_queued"},
        headers=auth(SUPERVISOR),
    )
    assert chosen.json()["rows"][0]["service_level"] == HOUR["removed_within_t_over_queued"]


async def test_csv_and_agents(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/reports/agents", params=QUERY | {"format": "csv"}, headers=auth(SUPERVISOR)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header, *rows = response.text.splitlines()
    assert header.startswith("interval_start,agent_id,answered")
    assert len(rows) == 2


async def test_bad_input(client: httpx.AsyncClient) -> None:
    bad = await client.get(
        "/api/v1/reports/queues", params=QUERY | {"formula": "nope"}, headers=auth(SUPERVISOR)
    )
    assert bad.status_code == 422 and "unknown service-level formula" in bad.text
    backwards = QUERY | {"from": QUERY["to"], "to": QUERY["from"]}
    bad = await client.get("/api/v1/reports/queues", params=backwards, headers=auth(SUPERVISOR))
    assert bad.status_code == 422
    bad = await client.get(
        "/api/v1/reports/queues", params=QUERY | {"interval": "7m"}, headers=auth(SUPERVISOR)
    )
    assert bad.status_code == 422

"""The hand-computed report scenario (tests/unit/test_reports.py) on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from cti.settings import DatabaseSettings
from hotline.reports.build import agent_report, queue_report
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from tests.integration.test_storage_postgres import settings  # noqa: F401  (scratch database)
from tests.unit.test_reports import (
    DAY,
    FIFTEEN_0900,
    FIFTEEN_0915,
    HOUR,
    at,
    load_scenario,
    request,
)


@pytest.fixture
async def pg(settings: DatabaseSettings) -> AsyncIterator[Database]:  # noqa: F811
    await upgrade_async(settings)
    async with Database(settings) as database:
        await load_scenario(database)
        yield database


@pytest.mark.parametrize("formula", list(HOUR))
async def test_queue_report_on_postgres(pg: Database, formula: str) -> None:
    rows = (await queue_report(pg, request("15m", formula)))["rows"]
    assert [r["service_level"] for r in rows] == [FIFTEEN_0900[formula], FIFTEEN_0915[formula]]
    assert [r["service_level_formula"] for r in rows] == [formula, formula]
    (hour,) = (await queue_report(pg, request("60m", formula)))["rows"]
    assert (hour["service_level"], hour["asa_s"], hour["aht_s"]) == (HOUR[formula], 18.75, 116.25)
    (day,) = (await queue_report(pg, request("day", formula, DAY, DAY + timedelta(days=1))))["rows"]
    assert (day["interval_start"], day["offered"]) == ("2025-03-03T00:00:00+08:00", 9)


async def test_agent_report_on_postgres(pg: Database) -> None:
    rows = (await agent_report(pg, request("60m", "asterisk_sl2"), now=at(12, 0)))["rows"]
    by_agent = {r["agent_id"]: r for r in rows}
    assert (by_agent["1001"]["occupancy"], by_agent["1002"]["occupancy"]) == (0.07, 0.2125)
    assert by_agent["1002"]["pause_by_reason"] == {"break": 300.0, "training": 300.0}

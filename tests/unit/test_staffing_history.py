"""Forecast and plan from the database's call legs (SQLite and PostgreSQL: the ``db``
fixture), through the planner and the API router. The last week's calls overflow from "loans"
into "cards": demand in both queues."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cti.settings import Settings
from hotline.api.app import create_app
from hotline.api.auth import Principal
from hotline.api.deps import current_principal
from hotline.api.ports import ApiServices
from hotline.staffing.service import staffing_planner
from hotline.storage import Database
from hotline.storage.models import CallLeg
from hotline.storage.record_ops import slot_of
from hotline.storage.staffing_history import SqlCallHistory
from staffing.plan import Target
from staffing.service import ForecastRequest
from tests.fakes.live import FakePbx

START = date(2025, 9, 29)  # a Monday; history: the 4 weeks before


@pytest.fixture
async def db(db: Database) -> Database:
    """The migrated database with the four weeks of calls before ``START``."""
    async with db.session() as session:
        serial = 0
        for n in range(28):
            day = START - timedelta(days=28 - n)
            for hour in range(9, 17):  # 10 calls an hour, 01:00–08:59 UTC
                for k in range(10):
                    serial += 1
                    at = datetime(day.year, day.month, day.day, hour - 8, k * 6, tzinfo=UTC)
                    if n >= 21 and k == 0:  # first waited in loans, then overflowed
                        session.add(CallLeg(leg_id=f"l{serial}", call_id=f"c{serial}",
                                            queue="loans", enqueued_at=at, outcome="overflow",
                                            enter_slot=slot_of(at)))  # fmt: skip
                    # talk leaves hold out: handle = 120 + 30 + 30
                    session.add(CallLeg(leg_id=f"c{serial}", call_id=f"c{serial}",
                                        queue="cards", enqueued_at=at, answered_at=at,
                                        talk_s=120.0, hold_s=30.0, wrap_up_s=30.0,
                                        outcome="answered",
                                        enter_slot=slot_of(at)))  # fmt: skip
        await session.commit()
    return db


def settings_for(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {"live": {"timezone": "UTC"}, "config_dir": str(tmp_path / "no-config")}
    )


async def test_forecast_and_plan_from_the_calls_table(db: Database, tmp_path: Path) -> None:
    planner = staffing_planner(db, settings_for(tmp_path))
    req = ForecastRequest("cards", START, days=1, history_weeks=4, interval_min=60)
    forecast = await planner.forecast(req)
    by_hour = [round(i.calls, 6) for i in forecast.intervals]
    assert by_hour[1:9] == [10.0] * 8 and sum(by_hour) == pytest.approx(80.0)
    assert forecast.backtest is not None and forecast.backtest.wape == pytest.approx(0.0)
    _, aht, rows = await planner.plan(req, Target(20, 0.8))
    assert aht == pytest.approx(180.0)
    assert rows[1].traffic == pytest.approx(0.5) and rows[1].agents >= 1
    assert rows[12].agents == 0


async def test_api_router_serves_json_and_csv(db: Database, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    app = create_app(settings, ApiServices(FakePbx(), db, staffing=staffing_planner(db, settings)))
    app.dependency_overrides[current_principal] = lambda: Principal("sup", "supervisor", None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        params: dict[str, str | int] = {
            "queue": "cards",
            "date": START.isoformat(),
            "history_weeks": 4,
            "interval_min": 60,
        }
        response = await client.get("/api/v1/staffing/plan", params=params)
        assert response.status_code == 200, response.text
        plan = response.json()
        assert plan["model"] == "erlang_c" and len(plan["rows"]) == 24
        csv = await client.get("/api/v1/staffing/plan", params=params | {"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        need = await client.get(
            "/api/v1/staffing/needed-now",
            params={"calls_per_hour": 200, "aht_s": 180, "logged_in": 5},
        )
        assert need.json()["needed"] == 14 and need.json()["shortfall"] == 9


async def test_a_call_that_overflowed_is_demand_in_both_queues(db: Database) -> None:
    since = datetime.combine(START - timedelta(days=28), datetime.min.time(), tzinfo=UTC)
    until = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    history = SqlCallHistory(db)
    loans = await history.arrivals("loans", since, until)
    cards = await history.arrivals("cards", since, until)
    assert (len(loans), len(cards)) == (7 * 8, 28 * 8 * 10)
    assert await history.mean_handle_time("loans", since, until) is None  # nobody answered there
    assert await history.mean_handle_time("cards", since, until) == pytest.approx(180.0)

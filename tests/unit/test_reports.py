"""Reports over a scripted morning (``tests.fakes.mornings.one_queue_morning``: queue
``cards``, 3 March 2025), checked against figures computed by hand. T = 20 s, short abandon
< 5 s, so D (3 s) is a short abandon, C (20 s = T) is answered within T, E (15 s) abandoned
within T, G (25 s) and H (10 s) overflowed (H within T). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.reports.cli import report_app
from hotline.reports.csv_out import to_csv
from hotline.storage import Database
from hotline.storage.record_ops import slot_of, slots
from tests.fakes.event_log import store_events
from tests.fakes.mornings import ONE_QUEUE_DAY, one_queue_morning

UTC_ZONE = ZoneInfo("UTC")
DAY = ONE_QUEUE_DAY


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY.replace(hour=hh, minute=mm, second=ss)


@pytest.fixture
async def db(db: Database) -> Database:
    await store_events(db, one_queue_morning())
    return db


NINE, TEN = at(9, 0), at(10, 0)


def request(
    interval: str, formula: str, start: datetime = NINE, end: datetime = TEN
) -> ReportRequest:
    zone = ZoneInfo("Asia/Shanghai") if interval in ("day", "week", "month") else UTC_ZONE
    return ReportRequest(
        start, end, Period.parse(interval, zone), formula, threshold_s=20, short_abandon_s=5
    )


def by_start(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["interval_start"]: row for row in rows}


# 09:00 bucket (15 min): offered 9 (A–I: I queued at 09:14:50); short abandons 1 (D), so the
# service level sees queued = 9 − 1 = 8. Left the queue in this bucket: A B C D E F G H.
#   answered 3 (A B C), within T 2 (A 10 s, C 20 s = T counts as within)
#   abandoned 2 (E F, D is short), within T 1 (E 15 s); overflowed 2 (G H), within T 1 (H)
FIFTEEN_0900 = {
    "answered_within_t_over_answered": 0.6667,  # 2 / 3
    "asterisk_sl2": 0.6,  # (2 answered + 1 abandoned within T) / (3 + 2) = 3 / 5
    "removed_within_t_over_queued": 0.5,  # (2 + 1 + 1 overflowed within T) / 8 = 4 / 8
}
# 09:15 bucket: I answered in 15 s, nothing queued in it.
FIFTEEN_0915 = {
    "answered_within_t_over_answered": 1.0,  # 1 / 1
    "asterisk_sl2": 1.0,  # (1 + 0) / (1 + 0)
    "removed_within_t_over_queued": None,  # 1 / 0 queued: no figure, not 100 %
}
# One hour 09:00–10:00: queued 9 − 1 = 8; answered 4 (A B C I), within T 3 (A C I)
HOUR = {
    "answered_within_t_over_answered": 0.75,  # 3 / 4
    "asterisk_sl2": 0.6667,  # (3 + 1) / (4 + 2) = 4 / 6
    "removed_within_t_over_queued": 0.625,  # (3 + 1 + 1) / 8 = 5 / 8
}


@pytest.mark.parametrize("formula", list(FIFTEEN_0900))
async def test_queue_report_15_minutes(db: Database, formula: str) -> None:
    report = await queue_report(db, request("15m", formula))
    assert report["service_level_formula"] == formula
    rows = by_start(report["rows"])
    assert list(rows) == ["2025-03-03T09:00:00+00:00", "2025-03-03T09:15:00+00:00"]
    first, second = rows["2025-03-03T09:00:00+00:00"], rows["2025-03-03T09:15:00+00:00"]
    assert first["service_level"] == FIFTEEN_0900[formula]
    assert second["service_level"] == FIFTEEN_0915[formula]
    assert first["service_level_formula"] == formula
    assert {k: first[k] for k in COUNTS} == {
        "offered": 9,
        "answered": 3,
        "answered_within_t": 2,
        "abandoned": 2,
        "short_abandoned": 1,
        "overflowed": 2,
    }
    assert first["abandon_rate"] == 0.25  # 2 abandoned / 8 queued
    assert report["abandon_rate_definition"] == "abandoned_over_queued"
    assert first["abandon_rate_definition"] == "abandoned_over_queued"
    assert first["asa_s"] == 20.0  # (10 + 30 + 20) / 3
    assert first["aht_s"] == 140.0  # ((100+20+30) + (200+0+10) + (60+0+0)) / 3 = 420 / 3
    assert first["longest_wait_s"] == 50.0  # F
    assert {k: second[k] for k in ("offered", "answered", "asa_s", "aht_s")} == {
        "offered": 0,
        "answered": 1,
        "asa_s": 15.0,
        "aht_s": 45.0,  # 40 + 0 + 5
    }


COUNTS = ("offered", "answered", "answered_within_t", "abandoned", "short_abandoned", "overflowed")


@pytest.mark.parametrize("formula", list(HOUR))
async def test_queue_report_hour(db: Database, formula: str) -> None:
    (row,) = (await queue_report(db, request("60m", formula)))["rows"]
    assert row["service_level"] == HOUR[formula]
    assert (row["offered"], row["answered"], row["answered_within_t"]) == (9, 4, 3)
    assert row["asa_s"] == 18.75  # (10 + 30 + 20 + 15) / 4 = 75 / 4
    assert row["aht_s"] == 116.25  # (420 + 45) / 4 = 465 / 4


async def test_day_week_month_in_local_time(db: Database) -> None:
    # 09:00 UTC is 17:00 in Shanghai: one local day, week (Monday 3 March) and month.
    for interval, start in [
        ("day", "2025-03-03T00:00:00+08:00"),
        ("week", "2025-03-03T00:00:00+08:00"),
        ("month", "2025-03-01T00:00:00+08:00"),
    ]:
        (row,) = (
            await queue_report(db, request(interval, "asterisk_sl2", DAY, DAY + timedelta(days=1)))
        )["rows"]
        assert row["interval_start"] == start
        assert (row["offered"], row["service_level"]) == (9, HOUR["asterisk_sl2"])


async def test_agent_report_hour(db: Database) -> None:
    report = await agent_report(db, request("60m", "asterisk_sl2"), now=at(12, 0))
    rows = {row["agent_id"]: row for row in report["rows"]}
    assert rows["1001"] == {
        "interval_start": "2025-03-03T09:00:00+00:00",
        "agent_id": "1001",
        "answered": 2,  # A C
        "talk_s": 160.0,  # 100 + 60
        "hold_s": 20.0,
        "wrap_up_s": 30.0,  # 30 + 0
        "aht_s": 105.0,  # (160 + 20 + 30) / 2
        "login_s": 3600.0,
        "pause_s": 600.0,
        "pause_by_reason": {"lunch": 600.0},
        "occupancy": 0.07,  # 210 / (3600 − 600)
    }
    b = rows["1002"]
    assert (b["answered"], b["talk_s"], b["wrap_up_s"], b["aht_s"]) == (2, 240.0, 15.0, 127.5)
    # Login 08:30–09:30 → 1800 s in the 09:00 hour; training 08:50–09:05 → 300 s in it.
    assert (b["login_s"], b["pause_by_reason"]) == (1800.0, {"break": 300.0, "training": 300.0})
    assert b["occupancy"] == 0.2125  # (240 + 0 + 15) / (1800 − 600)


async def test_agent_login_split_by_quarter_hours(db: Database) -> None:
    report = await agent_report(db, request("15m", "asterisk_sl2"), now=at(12, 0))
    login = {(r["interval_start"][11:16], r["agent_id"]): r["login_s"] for r in report["rows"]}
    assert [login[(q, "1002")] for q in ("09:00", "09:15")] == [900.0, 900.0]
    assert ("09:30", "1002") not in login


async def test_csv_names_the_formula(db: Database) -> None:
    report = await agent_report(db, request("60m", "asterisk_sl2"), now=at(12, 0))
    lines = to_csv(report["rows"]).splitlines()
    assert lines[0].endswith("occupancy,pause_s.break,pause_s.lunch,pause_s.training")
    queues = to_csv((await queue_report(db, request("60m", "asterisk_sl2")))["rows"])
    header, row = queues.splitlines()
    assert "service_level_formula" in header.split(",")
    assert ",asterisk_sl2," in row
    # The abandon rate's definition comes last: the columns before it are as they were.
    assert header.endswith(",wrap_up_s,abandon_rate_definition")
    assert row.endswith(",abandoned_over_queued")


async def test_cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE__URL", db.engine.url.render_as_string(False))
    root = typer.Typer()  # mounted as hotline.cli does
    root.add_typer(report_app, name="report")
    args = ["report", "queues", "--from", "2025-03-03T09:00:00+00:00", "--to"]
    args += ["2025-03-03T10:00:00+00:00", "--interval", "60m", "--formula", "asterisk_sl2"]
    result = await asyncio.to_thread(CliRunner().invoke, root, [*args, "--csv"])
    assert result.exit_code == 0, result.output
    header, row = result.output.strip().splitlines()
    assert ",asterisk_sl2," in row and header.startswith("interval_start,queue,offered")
    result = await asyncio.to_thread(CliRunner().invoke, root, args)
    assert '"service_level_formula": "asterisk_sl2"' in result.output
    bad = await asyncio.to_thread(CliRunner().invoke, root, [*args[:-1], "nope"])
    assert bad.exit_code == 2 and "unknown service-level formula" in bad.output


async def test_bounds_inside_a_slot(db: Database) -> None:
    # From 09:01:05: A (queued 09:01:00, answered 09:01:10) is answered in range but was not
    # offered in it; to 09:15:00 leaves out I's answer (09:15:05), not its entry (09:14:50).
    req = request("15m", "asterisk_sl2", at(9, 1, 5), at(9, 15))
    (row,) = (await queue_report(db, req))["rows"]
    assert row["interval_start"] == "2025-03-03T09:00:00+00:00"
    assert (row["offered"], row["answered"], row["abandoned"], row["overflowed"]) == (8, 3, 2, 2)
    assert row["asa_s"] == 20.0  # A B C: (10 + 30 + 20) / 3


def test_slot_of_is_exact_at_a_boundary() -> None:
    edge = datetime(2025, 3, 11, 14, 15, tzinfo=UTC)
    just_before = edge - timedelta(microseconds=278)
    assert slot_of(edge) == slot_of(just_before) + 1 == int(edge.timestamp()) // 900
    columns = slots({"enqueued_at": just_before, "left_queue_at": edge, "wait_s": 1.0})
    assert columns == {"enter_slot": slot_of(just_before), "leave_slot": slot_of(edge)}

"""Reports over a scripted set of calls, checked against figures computed by hand.

The script (queue ``cards``, T = 20 s, short abandon < 5 s), waits in seconds:

    call  queued    left      outcome                 wait  talk hold wrap  agent
    A     09:01:00  09:01:10  answered                 10   100   20   30   1001
    B     09:02:00  09:02:30  answered                 30   200    0   10   1002
    C     09:03:00  09:03:20  answered (= T: within)   20    60    0    0   1001
    D     09:04:00  09:04:03  short abandon             3
    E     09:05:00  09:05:15  abandoned (within T)     15
    F     09:06:00  09:06:50  abandoned                50
    G     09:07:00  09:07:25  overflowed (timeout)     25
    H     09:08:00  09:08:10  overflowed (within T)    10
    I     09:14:50  09:15:05  answered                 15    40    0    5   1002

Agents: 1001 logged in 09:00–10:00, lunch 09:40–09:50; 1002 logged in 08:30–09:30, training
08:50–09:05, break 09:20–09:25.

The same scenario runs on PostgreSQL (tests/integration/test_reports_postgres.py).
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

from cti.events import DomainEvent, EventKind, make_event
from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.reports.cli import report_app
from hotline.reports.csv_out import to_csv
from hotline.storage import Database
from hotline.storage.simulate import abandoned_call, agent_shift, answered_call
from tests.unit.records import store_events

UTC_ZONE = ZoneInfo("UTC")
DAY = datetime(2025, 3, 3, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY.replace(hour=hh, minute=mm, second=ss)


def overflowed(call_id: str, queued: datetime, wait_s: float) -> list[DomainEvent]:
    return [
        make_event(EventKind.CALL_QUEUED, call_id, queue="cards", ts=queued),
        make_event(
            EventKind.CALL_OVERFLOWED,
            call_id,
            queue="cards",
            ts=queued + timedelta(seconds=wait_s),
            data={"target": "loans", "reason": "timeout", "wait_s": wait_s},
        ),
    ]


def scripted_events() -> list[DomainEvent]:
    def answered(
        call_id: str,
        queued: datetime,
        agent: str,
        *,
        wait_s: float,
        talk_s: float,
        hold_s: float,
        wrap_up_s: float,
    ) -> list[DomainEvent]:
        return answered_call(
            call_id,
            queued,
            ivr_s=0,
            agent_id=agent,
            wait_s=wait_s,
            talk_s=talk_s,
            hold_s=hold_s,
            wrap_up_s=wrap_up_s,
        )

    return [
        *agent_shift("1001", at(9, 0), at(10, 0), [(at(9, 40), 600, "lunch")]),
        *agent_shift(
            "1002", at(8, 30), at(9, 30), [(at(8, 50), 900, "training"), (at(9, 20), 300, "break")]
        ),
        *answered("A", at(9, 1), "1001", wait_s=10, talk_s=100, hold_s=20, wrap_up_s=30),
        *answered("B", at(9, 2), "1002", wait_s=30, talk_s=200, hold_s=0, wrap_up_s=10),
        *answered("C", at(9, 3), "1001", wait_s=20, talk_s=60, hold_s=0, wrap_up_s=0),
        *abandoned_call("D", at(9, 4), ivr_s=0, wait_s=3),
        *abandoned_call("E", at(9, 5), ivr_s=0, wait_s=15),
        *abandoned_call("F", at(9, 6), ivr_s=0, wait_s=50),
        *overflowed("G", at(9, 7), 25),
        *overflowed("H", at(9, 8), 10),
        *answered("I", at(9, 14, 50), "1002", wait_s=15, talk_s=40, hold_s=0, wrap_up_s=5),
    ]


async def load_scenario(db: Database) -> None:
    await store_events(db, scripted_events())


@pytest.fixture
async def db(db: Database) -> Database:
    await load_scenario(db)
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
    monkeypatch.setenv("HOTLINE_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
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
    from hotline.storage.record_ops import slot_of, slots

    edge = datetime(2025, 3, 11, 14, 15, tzinfo=UTC)
    just_before = edge - timedelta(microseconds=278)
    assert slot_of(edge) == slot_of(just_before) + 1 == int(edge.timestamp()) // 900
    columns = slots({"enqueued_at": just_before, "left_queue_at": edge, "wait_s": 1.0})
    assert columns == {"enter_slot": slot_of(just_before), "leave_slot": slot_of(edge)}

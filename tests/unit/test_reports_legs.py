"""Reports over calls that visit two queues (``tests.fakes.mornings.two_queue_morning``),
checked against figures computed by hand. T = 20 s, short abandons < 5 s, UTC. Each queue
visit is a leg: cards is offered O1, O2 and X1; loans is offered O1, O2 and X1 again.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.storage import Database
from hotline.storage.models import Call
from tests.fakes.event_log import store_events
from tests.fakes.mornings import TWO_QUEUE_DAY, two_queue_morning


@pytest.fixture
async def db(db: Database) -> Database:
    await store_events(db, two_queue_morning())
    return db


def at(hms: str) -> datetime:
    hh, mm, ss = (int(part) for part in hms.split(":"))
    return TWO_QUEUE_DAY.replace(hour=hh, minute=mm, second=ss)


def request(formula: str, interval: str = "15m") -> ReportRequest:
    return ReportRequest(
        at("10:00:00"), at("11:00:00"), Period.parse(interval, ZoneInfo("UTC")), formula, 20, 5
    )


# cards: offered 3; answered 1 (X1, 8 s: within T); overflowed 2 (O1 30 s, O2 15 s: within)
# loans: offered 3; answered 2 (O1 12 s: within; X1 30 s); abandoned 1 (O2 40 s)
SERVICE_LEVEL = {
    "answered_within_t_over_answered": {"cards": 1.0, "loans": 0.5},  # 1/1, 1/2
    "asterisk_sl2": {"cards": 1.0, "loans": 0.3333},  # (1+0)/(1+0), (1+0)/(2+1)
    "removed_within_t_over_queued": {"cards": 0.6667, "loans": 0.3333},  # (1+0+1)/3, 1/3
}


@pytest.mark.parametrize("formula", list(SERVICE_LEVEL))
async def test_each_queue_counts_its_own_leg(db: Database, formula: str) -> None:
    rows = {row["queue"]: row for row in (await queue_report(db, request(formula)))["rows"]}
    assert {q: r["interval_start"] for q, r in rows.items()} == {
        "cards": "2025-03-04T10:00:00+00:00",
        "loans": "2025-03-04T10:00:00+00:00",
    }
    assert {q: r["service_level"] for q, r in rows.items()} == SERVICE_LEVEL[formula]
    cards, loans = rows["cards"], rows["loans"]
    figures = ("offered", "answered", "answered_within_t", "abandoned", "overflowed")
    assert [cards[k] for k in figures] == [3, 1, 1, 0, 2]
    assert [loans[k] for k in figures] == [3, 2, 1, 1, 0]
    assert (cards["asa_s"], cards["aht_s"]) == (8.0, 130.0)  # X1: 100 talk + 20 hold + 10 wrap
    assert (cards["talk_s"], cards["hold_s"], cards["wrap_up_s"]) == (100.0, 20.0, 10.0)
    assert cards["longest_wait_s"] == 30.0  # O1 before its overflow
    assert loans["asa_s"] == 21.0  # (12 + 30) / 2
    assert loans["aht_s"] == 92.5  # ((100 + 0 + 20) + (60 + 0 + 5)) / 2
    assert loans["longest_wait_s"] == 40.0  # O2
    assert loans["abandon_rate"] == 0.3333  # 1 abandoned / 3 queued


async def test_agents_are_credited_with_their_own_leg(db: Database) -> None:
    report = await agent_report(db, request("asterisk_sl2", "60m"), now=at("12:00:00"))
    rows = {row["agent_id"]: row for row in report["rows"]}
    figures = ("answered", "talk_s", "hold_s", "wrap_up_s", "aht_s")
    assert [rows["1001"][k] for k in figures] == [1, 100.0, 20.0, 10.0, 130.0]
    assert [rows["2001"][k] for k in figures] == [2, 160.0, 0.0, 25.0, 92.5]


async def test_the_call_record_sums_its_legs(db: Database) -> None:
    async with db.session() as session:
        calls = {c.call_id: c for c in (await session.scalars(select(Call))).all()}
    o1, o2, x1 = calls["O1"], calls["O2"], calls["X1"]
    assert (o1.queue, o1.outcome, o1.wait_s, o1.agent_id, o1.talk_s) == (
        "loans", "answered", 42.0, "2001", 100.0
    )  # fmt: skip
    assert (o2.queue, o2.outcome, o2.wait_s) == ("loans", "abandoned", 55.0)
    assert (x1.queue, x1.agent_id, x1.wait_s, x1.talk_s, x1.hold_s, x1.wrap_up_s) == (
        "loans", "2001", 38.0, 160.0, 20.0, 15.0
    )  # fmt: skip

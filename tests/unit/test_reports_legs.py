"""Reports over calls that visit two queues, checked against figures computed by hand.

T = 20 s, short abandons < 5 s, UTC. Waits, talk, hold and wrap-up in seconds:

    call  queue  queued    left      outcome                       wait talk hold wrap agent
    O1    cards  10:00:00  10:00:30  overflowed → loans             30
          loans  10:00:30  10:00:42  answered                       12   100    0   20  2001
    O2    cards  10:05:00  10:05:15  overflowed → loans (within T)  15
          loans  10:05:15  10:05:55  abandoned                      40
    X1    cards  10:10:00  10:10:08  answered; 1001 holds 20 s and  8    100   20   10  1001
                                     blind-transfers it to loans at 10:12:08
          loans  10:12:08  10:12:38  answered (the same call)       30    60    0    5  2001

Each queue visit is a leg: cards is offered O1, O2 and X1; loans is offered O1, O2 and X1 again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cti.events import DomainEvent, EventKind, make_event
from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.storage import Database
from hotline.storage.models import Call
from tests.unit.records import store_events

K = EventKind
DAY = datetime(2025, 3, 4, tzinfo=UTC)


def at(hms: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in hms.split(":"))
    return DAY.replace(hour=hours, minute=minutes, second=seconds)


def call(
    kind: EventKind, hms: str, call_id: str, queue: str | None = None, **data: Any
) -> DomainEvent:
    agent = data.get("agent")
    return make_event(kind, call_id, agent, queue, data, at(hms))


def agent_state(hms: str, agent: str, state: str) -> DomainEvent:
    return make_event(K.AGENT_STATE, None, agent, None, {"state": state}, at(hms))


def answered(
    call_id: str, queue: str, agent: str, hms: str, wait_s: float, talk_s: float, wrap_s: float
) -> list[DomainEvent]:
    start = at(hms)
    done = (start + timedelta(seconds=talk_s)).strftime("%H:%M:%S")
    free = (start + timedelta(seconds=talk_s + wrap_s)).strftime("%H:%M:%S")
    return [
        call(K.CALL_ANSWERED, hms, call_id, queue, agent=agent, wait_s=wait_s),
        agent_state(hms, agent, "on_call"),
        call(K.CALL_COMPLETED, done, call_id, queue, agent=agent, by="caller", talk_s=talk_s),
        call(K.CALL_ENDED, done, call_id, queue),
        agent_state(done, agent, "wrap_up"),
        agent_state(free, agent, "available"),
    ]


def overflow(hms: str, call_id: str, wait_s: float) -> list[DomainEvent]:
    return [
        call(K.CALL_OVERFLOWED, hms, call_id, "cards", target="loans", target_kind="queue",
             reason="max_wait", wait_s=wait_s),
        call(K.CALL_QUEUED, hms, call_id, "loans", position=1),
    ]  # fmt: skip


def scripted_events() -> list[DomainEvent]:
    events = [call(K.CALL_QUEUED, "10:00:00", "O1", "cards", position=1)]
    events += overflow("10:00:30", "O1", 30)
    events += answered("O1", "loans", "2001", "10:00:42", 12, 100, 20)
    events += [call(K.CALL_QUEUED, "10:05:00", "O2", "cards", position=1)]
    events += overflow("10:05:15", "O2", 15)
    events += [
        call(K.CALL_ABANDONED, "10:05:55", "O2", "loans", wait_s=40.0),
        call(K.CALL_ENDED, "10:05:55", "O2", "loans"),
        call(K.CALL_QUEUED, "10:10:00", "X1", "cards", position=1),
        call(K.CALL_ANSWERED, "10:10:08", "X1", "cards", agent="1001", wait_s=8.0),
        agent_state("10:10:08", "1001", "on_call"),
        call(K.CALL_HELD, "10:11:00", "X1", "cards", agent="1001"),
        call(K.CALL_UNHELD, "10:11:20", "X1", "cards", agent="1001", hold_s=20.0),
        # The ACD's blind transfer: the agent's part ends (talk 120 s less 20 s on hold), the
        # agent wraps up, the caller waits in loans as a new leg.
        call(K.CALL_TRANSFERRED, "10:12:08", "X1", "cards", agent="1001", target_kind="queue",
             target="loans", attended=False),
        call(K.CALL_COMPLETED, "10:12:08", "X1", "cards", agent="1001", by="transfer",
             talk_s=100.0),
        agent_state("10:12:08", "1001", "wrap_up"),
        call(K.CALL_QUEUED, "10:12:08", "X1", "loans", position=1),
        agent_state("10:12:18", "1001", "available"),
    ]  # fmt: skip
    events += answered("X1", "loans", "2001", "10:12:38", 30, 60, 5)
    return sorted(events, key=lambda e: e.ts)


@pytest.fixture
async def db(db: Database) -> Database:
    await store_events(db, scripted_events())
    return db


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

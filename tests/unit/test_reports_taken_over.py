"""An attended transfer to another agent, in reports and live statistics, by hand (T = 20 s):

    call  queue  10:00:00 queued; 10:00:10 answered by 1001 (wait 10)
    A1    cards  10:01:10 1001 hands it to 1002 after consulting (talk 60, wrap-up 10)
                 10:01:10 1002 has it (taken over: no wait, not a new offer)
                 10:02:40 the caller hangs up (1002 talked 90, wrap-up 10)

The queue was offered one call and answered it once (1001's leg: ASA 10, AHT 60 + 10); each
agent is credited with the call it handled (1002's leg is its own, outside the queue's figures).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cti.events import (
    AgentStateChanged,
    AgentStateName,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallQueued,
    CallTransferred,
    DomainEvent,
)
from cti.settings import LiveSettings
from hotline.live.model import QueueDefinition
from hotline.live.stats import LiveStats
from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.storage import Database
from tests.fakes.event_log import store_events
from tests.fakes.events import leg

DAY = datetime(2025, 3, 4, tzinfo=UTC)


def at(hms: str) -> datetime:
    hh, mm, ss = (int(part) for part in hms.split(":"))
    return DAY.replace(hour=hh, minute=mm, second=ss)


def state(hms: str, agent: str, name: AgentStateName) -> DomainEvent:
    return AgentStateChanged(agent_id=agent, state=name, ts=at(hms))


def events() -> list[DomainEvent]:
    first, second = leg("A1", "cards", "1001"), leg("A1", "cards", "1002")
    return [
        CallQueued(call_id="A1", queue="cards", ts=at("10:00:00")),
        CallAnswered(**first, wait_s=10.0, ts=at("10:00:10")),
        state("10:00:10", "1001", "on_call"),
        CallTransferred(**first, target_kind="agent", target="1002", attended=True,
                        ts=at("10:01:10")),
        CallCompleted(**first, by="transfer", talk_s=60.0, ts=at("10:01:10")),
        state("10:01:10", "1001", "wrap_up"),
        CallAnswered(**second, wait_s=0.0, taken_over=True, ts=at("10:01:10")),
        state("10:01:10", "1002", "on_call"),
        state("10:01:20", "1001", "available"),
        CallCompleted(**second, by="caller", talk_s=90.0, ts=at("10:02:40")),
        CallEnded(call_id="A1", queue="cards", ts=at("10:02:40")),
        state("10:02:40", "1002", "wrap_up"),
        state("10:02:50", "1002", "available"),
    ]  # fmt: skip


def request(formula: str, interval: str = "15m") -> ReportRequest:
    return ReportRequest(
        at("10:00:00"), at("11:00:00"), Period.parse(interval, ZoneInfo("UTC")), formula, 20, 5
    )


@dataclass
class Clock:
    """Live statistics' clock, set by hand (``LiveClock``)."""

    now: str = "10:00:00"

    def wall(self) -> datetime:
        return at(self.now)

    def mono(self) -> float:
        return at(self.now).timestamp()


@pytest.fixture
async def db(db: Database) -> Database:
    await store_events(db, events())
    return db


async def test_the_queue_counts_one_offer_and_one_answer(db: Database) -> None:
    rows = (await queue_report(db, request("answered_within_t_over_answered")))["rows"]
    assert len(rows) == 1
    cards = rows[0]
    figures = ("offered", "answered", "answered_within_t", "abandoned", "overflowed")
    assert [cards[k] for k in figures] == [1, 1, 1, 0, 0]
    assert (cards["asa_s"], cards["aht_s"], cards["talk_s"]) == (10.0, 70.0, 60.0)


async def test_each_agent_is_credited_with_the_call_it_handled(db: Database) -> None:
    report = await agent_report(db, request("asterisk_sl2", "60m"), now=at("12:00:00"))
    rows = {row["agent_id"]: row for row in report["rows"]}
    figures = ("answered", "talk_s", "wrap_up_s", "aht_s")
    assert [rows["1001"][k] for k in figures] == [1, 60.0, 10.0, 70.0]
    assert [rows["1002"][k] for k in figures] == [1, 90.0, 10.0, 100.0]


def test_live_statistics_agree() -> None:
    clock = Clock("10:00:00")
    settings = LiveSettings.model_validate(
        {"sl_formula": "answered_within_t_over_answered", "sl_threshold_s": 20}
    )
    stats = LiveStats(settings, [QueueDefinition("cards", "Credit cards")], clock=clock)
    for event in events():
        clock.now = event.ts.strftime("%H:%M:%S")
        stats.apply(replace(event, mono=event.ts.timestamp()))  # live measures by mono
    clock.now = "10:05:00"
    queue = stats.queue_stats("cards")
    assert queue is not None
    today = queue.today
    assert (today.offered, today.answered, today.answered_within_t) == (1, 1, 1)
    assert (today.asa_s, today.aht_s) == (10.0, 70.0)
    for agent_id in ("1001", "1002"):
        view = stats.agent_view(agent_id)
        assert view is not None and view.answered_today == 1, agent_id

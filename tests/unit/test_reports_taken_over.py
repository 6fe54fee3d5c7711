"""An attended transfer to another agent, in reports and live statistics, by hand (T = 20 s):

    call  queue  10:00:00 queued; 10:00:10 answered by 1001 (wait 10)
    A1    cards  10:01:10 1001 hands it to 1002 after consulting (talk 60, wrap-up 10)
                 10:01:10 1002 has it (taken over: no wait, not a new offer)
                 10:02:40 the caller hangs up (1002 talked 90, wrap-up 10)

The queue was offered one call and answered it once (1001's leg: ASA 10, AHT 60 + 10); each
agent is credited with the call it handled (1002's leg is its own, outside the queue's figures).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from cti.events import DomainEvent
from cti.settings import LiveSettings
from hotline.live.model import QueueDefinition
from hotline.live.stats import LiveStats
from hotline.reports.build import agent_report, queue_report
from hotline.storage import Database
from tests.unit.records import store_events
from tests.unit.test_live_stats import FakeClock
from tests.unit.test_reports_legs import K, agent_state, at, call, request


def events() -> list[DomainEvent]:
    return [
        call(K.CALL_QUEUED, "10:00:00", "A1", "cards", position=1),
        call(K.CALL_ANSWERED, "10:00:10", "A1", "cards", agent="1001", wait_s=10.0),
        agent_state("10:00:10", "1001", "on_call"),
        call(K.CALL_TRANSFERRED, "10:01:10", "A1", "cards", agent="1001", target_kind="agent",
             target="1002", attended=True),
        call(K.CALL_COMPLETED, "10:01:10", "A1", "cards", agent="1001", by="transfer",
             talk_s=60.0),
        agent_state("10:01:10", "1001", "wrap_up"),
        call(K.CALL_ANSWERED, "10:01:10", "A1", "cards", agent="1002", wait_s=0.0,
             taken_over=True),
        agent_state("10:01:10", "1002", "on_call"),
        agent_state("10:01:20", "1001", "available"),
        call(K.CALL_COMPLETED, "10:02:40", "A1", "cards", agent="1002", by="caller",
             talk_s=90.0),
        call(K.CALL_ENDED, "10:02:40", "A1", "cards"),
        agent_state("10:02:40", "1002", "wrap_up"),
        agent_state("10:02:50", "1002", "available"),
    ]  # fmt: skip


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
    clock = FakeClock("10:00:00")
    settings = LiveSettings(sl_formula="answered_within_t_over_answered", sl_threshold_s=20)
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

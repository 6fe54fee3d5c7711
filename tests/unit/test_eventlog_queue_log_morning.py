"""``hotline export queue-log`` for a scripted morning, compared whole with the queue_log written
by hand in ``tests/fixtures/queue_log/scripted_morning.log`` (field layouts: app_queue.c).

5 March 2025, UTC (09:00:00 is 1741165200). Call ids are caller channels' uniqueids.

    08:59:00  1001 logs in (cards, loans); 08:59:30  1002 logs in (cards)
    c1  09:00:05 queued in cards; 1002 rings 15.004 s, no answer, is paused (no-answer);
        09:00:24 1001 answers (waited 19.37 s, rang 2.9 s), holds, the caller hangs up 09:02:00
    09:03:00  1002 unpaused
    c2  09:04:05 queued in cards, abandons at 09:04:48 (waited 42.8 s)
    c3  09:05:00 queued in loans (2nd), overflows to cards after 60 s (max_wait); 1002 answers
        after 9.2 s (rang 3.6 s) and hangs up at 09:07:59 (talked 110.4 s)
    c4  09:07:00 queued in cards (2nd): the estimated wait is too long, to voicemail (ewt)
    c5  09:10:00 queued in cards; 1001 answers at 09:10:04, blind-transfers the caller to
        88001234 (context hotline-transfer) at 09:12:04
    c6  09:15:00 queued in cards; 1002 answers at 09:15:10, consults 1001 and hands the caller
        over at 09:17:10; 1001 talks until 09:18:10 (not a queue call any more)
    11:00–12:00  1001 at lunch; 13:00:00 1001 logs out, 13:00:30 1002
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cti.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentStateChanged,
    AgentUnpaused,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    CallStarted,
    CallTransferred,
    CallUnheld,
    DomainEvent,
)
from hotline.storage import Database
from hotline.storage.cli import export_app
from tests.fakes.event_log import store_events
from tests.fakes.events import leg

EXPECTED = Path(__file__).parents[1] / "fixtures" / "queue_log" / "scripted_morning.log"
NINE = datetime(2025, 3, 5, 9, tzinfo=UTC)


def at(hms: str) -> datetime:
    hh, mm, ss = (int(part) for part in hms.split(":"))
    return NINE.replace(hour=hh, minute=mm, second=ss)


def call(call_id: str, caller: str, hms: str, queue: str, position: int = 1) -> list[DomainEvent]:
    return [
        CallStarted(
            call_id=call_id, caller=caller, hotline="bank", ts=at(hms) - timedelta(seconds=5)
        ),
        CallQueued(call_id=call_id, queue=queue, position=position, ts=at(hms)),
    ]


def offered(call_id: str, queue: str, agent: str, hms: str) -> DomainEvent:
    return CallOffered(
        **leg(call_id, queue, agent), decision=1, device=f"PJSIP/{agent}", ring_timeout_s=15.0,
        ts=at(hms),
    )  # fmt: skip


def morning() -> list[DomainEvent]:
    c1, c3, c5, c6 = "1741165200.1", "1741165500.9", "1741165800.20", "1741166100.30"
    c1_1001 = leg(c1, "cards", "1001")
    c6_1002, c6_1001 = leg(c6, "cards", "1002"), leg(c6, "cards", "1001")
    return [
        AgentLoggedIn(agent_id="1001", device="PJSIP/1001", queues=("cards", "loans"),
                      ts=at("08:59:00")),
        AgentLoggedIn(agent_id="1002", device="PJSIP/1002", queues=("cards",), ts=at("08:59:30")),
        # c1: a ring with no answer, then an answer with its ring time and agent channel
        *call(c1, "13800000001", "09:00:05", "cards"),
        offered(c1, "cards", "1002", "09:00:06"),
        CallRingNoAnswer(**leg(c1, "cards", "1002"), ring_s=15.004, reason="noanswer",
                         ts=at("09:00:21")),
        AgentPaused(agent_id="1002", reason="no-answer", ts=at("09:00:21")),
        AgentStateChanged(agent_id="1002", state="paused", reason="no-answer", ts=at("09:00:21")),
        offered(c1, "cards", "1001", "09:00:21"),
        CallAnswered(**c1_1001, wait_s=19.37, ring_s=2.9, agent_channel_id="1741165221.4",
                     predicted_wait_s=25.0, ts=at("09:00:24")),
        CallHeld(**c1_1001, ts=at("09:01:00")),
        CallUnheld(**c1_1001, hold_s=10.0, ts=at("09:01:10")),
        CallCompleted(**c1_1001, by="caller", talk_s=85.6, ts=at("09:02:00")),
        CallEnded(call_id=c1, queue="cards", ts=at("09:02:00")),
        AgentUnpaused(agent_id="1002", ts=at("09:03:00")),
        # c2: abandoned
        *call("1741165440.7", "13800000002", "09:04:05", "cards"),
        CallAbandoned(call_id="1741165440.7", queue="cards", wait_s=42.8, ts=at("09:04:48")),
        CallEnded(call_id="1741165440.7", queue="cards", ts=at("09:04:48")),
        # c3: overflows after waiting too long, answered in the other queue
        *call(c3, "13800000003", "09:05:00", "loans", position=2),
        CallOverflowed(call_id=c3, queue="loans", target="cards", target_kind="queue",
                       reason="max_wait", wait_s=60.0, ts=at("09:06:00")),
        CallQueued(call_id=c3, queue="cards", position=1, ts=at("09:06:00")),
        offered(c3, "cards", "1002", "09:06:05"),
        CallAnswered(**leg(c3, "cards", "1002"), wait_s=9.2, ring_s=3.6,
                     agent_channel_id="1741165565.12", ts=at("09:06:09")),
        CallCompleted(**leg(c3, "cards", "1002"), by="agent", talk_s=110.4, ts=at("09:07:59")),
        CallEnded(call_id=c3, queue="cards", ts=at("09:07:59")),
        # c4: the estimated wait at entry is too long
        *call("1741165620.14", "13800000004", "09:07:00", "cards", position=2),
        CallOverflowed(call_id="1741165620.14", queue="cards", target="9001",
                       target_kind="voicemail", reason="ewt", wait_s=0.0, ts=at("09:07:00")),
        CallEnded(call_id="1741165620.14", queue="cards", ts=at("09:08:30")),
        # c5: a blind transfer to a number
        *call(c5, "13800000005", "09:10:00", "cards"),
        CallAnswered(**leg(c5, "cards", "1001"), wait_s=4.3, ring_s=1.2,
                     agent_channel_id="1741165803.22", ts=at("09:10:04")),
        CallTransferred(**leg(c5, "cards", "1001"), target_kind="number", target="88001234",
                        context="hotline-transfer", ts=at("09:12:04")),
        CallCompleted(**leg(c5, "cards", "1001"), by="transfer", talk_s=120.0, ts=at("09:12:04")),
        CallEnded(call_id=c5, queue="cards", ts=at("09:14:00")),
        # c6: an attended transfer to another agent
        *call(c6, "13800000006", "09:15:00", "cards"),
        CallAnswered(**c6_1002, wait_s=10.0, ring_s=4.4, agent_channel_id="1741166105.32",
                     ts=at("09:15:10")),
        CallTransferred(**c6_1002, target_kind="agent", target="1001", attended=True,
                        context="hotline-acd-consult", ts=at("09:17:10")),
        CallCompleted(**c6_1002, by="transfer", talk_s=120.0, ts=at("09:17:10")),
        CallAnswered(**c6_1001, wait_s=0.0, taken_over=True, agent_channel_id="1741166200.35",
                     ts=at("09:17:10")),
        CallCompleted(**c6_1001, by="caller", talk_s=60.0, ts=at("09:18:10")),
        CallEnded(call_id=c6, queue="cards", ts=at("09:18:10")),
        # the agents' day
        AgentPaused(agent_id="1001", reason="lunch", ts=at("11:00:00")),
        AgentUnpaused(agent_id="1001", ts=at("12:00:00")),
        AgentLoggedOut(agent_id="1001", ts=at("13:00:00")),
        AgentLoggedOut(agent_id="1002", ts=at("13:00:30")),
    ]  # fmt: skip


async def test_the_scripted_morning_is_the_hand_written_queue_log(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store_events(db, morning())
    monkeypatch.setenv("HOTLINE_DATABASE__URL", db.engine.url.render_as_string(False))
    out = tmp_path / "queue_log"
    root = typer.Typer()  # mounted as hotline.cli does
    root.add_typer(export_app, name="export")
    # typer's runner calls asyncio.run: run it outside this test's loop, in a thread.
    result = await asyncio.to_thread(
        CliRunner().invoke, root, ["export", "queue-log", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == EXPECTED.read_text(encoding="utf-8")

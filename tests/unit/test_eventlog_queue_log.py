"""``hotline export queue-log``: our events as Asterisk queue_log lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cti.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    CallTransferred,
    DomainEvent,
)
from hotline.storage import Database, EventStore
from hotline.storage.cli import export_app
from hotline.storage.event_log import to_stored
from hotline.storage.queue_log import export_queue_log
from hotline.storage.simulate import abandoned_call, answered_call
from tests.fakes.events import leg
from tests.fakes.mornings import two_queue_morning

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
E0 = int(T0.timestamp())  # 1740963600


def scripted() -> list[DomainEvent]:
    login = AgentLoggedIn(agent_id="1001", device="PJSIP/1001", queues=("cards",), ts=T0)
    rna = CallRingNoAnswer(
        **leg("c1", "cards", "1002"), ring_s=15.0, reason="noanswer", ts=T0 + timedelta(seconds=20)
    )
    pause = AgentPaused(agent_id="1002", reason="no-answer", ts=T0 + timedelta(seconds=20))
    overflow: list[DomainEvent] = [
        CallQueued(call_id="c3", queue="loans", position=3, ts=T0),
        CallOverflowed(call_id="c3", queue="loans", target="cards", target_kind="queue",
                       reason="max_wait", wait_s=90.0, ts=T0 + timedelta(seconds=90)),
    ]  # fmt: skip
    logout = AgentLoggedOut(agent_id="1001", ts=T0 + timedelta(hours=8))
    return [
        login,
        *answered_call("c1", T0, agent_id="1001", wait_s=12.6, talk_s=100, hold_s=20, by="agent"),
        rna,
        pause,
        *abandoned_call("c2", T0, wait_s=30),
        *overflow,
        logout,
    ]


EXPECTED = [
    f"{E0}|NONE|NONE|1001|AGENTLOGIN|PJSIP/1001",
    f"{E0}|NONE|cards|1001|ADDMEMBER|",
    f"{E0 + 10}|c1|cards|NONE|ENTERQUEUE||13800000000|1",
    f"{E0 + 20}|c1|cards|1002|RINGNOANSWER|15000",
    f"{E0 + 20}|NONE|NONE|1002|PAUSE|no-answer",
    f"{E0 + 22}|c1|cards|1001|CONNECT|12||0",  # holdtime 12.6 s → 12, like time(NULL) - start
    f"{E0 + 142}|c1|cards|1001|COMPLETEAGENT|12|120|1",  # calltime: talk 100 + hold 20
    f"{E0 + 10}|c2|cards|NONE|ENTERQUEUE||13900000000|2",
    f"{E0 + 40}|c2|cards|NONE|ABANDON|2|2|30",
    f"{E0}|c3|loans|NONE|ENTERQUEUE|||3",
    f"{E0 + 90}|c3|loans|NONE|EXITWITHTIMEOUT|3|3|90",
    f"{E0 + 28800}|NONE|cards|1001|REMOVEMEMBER|",
    f"{E0 + 28800}|NONE|NONE|1001|AGENTLOGOFF|PJSIP/1001|28800",
]


async def test_queue_log_lines(db: Database) -> None:
    await EventStore(db).append_many([to_stored(e) for e in scripted()])
    lines = [line async for line in export_queue_log(db, None, None)]
    # The export is in time order; compare as sets of lines per timestamp order.
    assert sorted(lines, key=lambda s: (int(s.split("|")[0]), s)) == sorted(
        EXPECTED, key=lambda s: (int(s.split("|")[0]), s)
    )
    assert [int(line.split("|")[0]) for line in lines] == sorted(
        int(s.split("|")[0]) for s in lines
    )
    # --since/--until select by time: [T0 + 30 s, T0 + 100 s)
    window = [
        s
        async for s in export_queue_log(db, T0 + timedelta(seconds=30), T0 + timedelta(seconds=100))
    ]
    assert [s.split("|")[4] for s in window] == ["ABANDON", "EXITWITHTIMEOUT"]


async def test_cli_writes_a_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await EventStore(db).append_many([to_stored(e) for e in scripted()])
    monkeypatch.setenv("HOTLINE_DATABASE__URL", db.engine.url.render_as_string(False))
    out = tmp_path / "queue_log"
    root = typer.Typer()  # mounted as hotline.cli does
    root.add_typer(export_app, name="export")
    # typer's runner calls asyncio.run: run it outside this test's loop, in a thread.
    import asyncio

    result = await asyncio.to_thread(
        CliRunner().invoke,
        root,
        ["export", "queue-log", "--since", "2025-03-03T01:00:30+00:00", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert [s.split("|")[4] for s in out.read_text().splitlines()] == [
        "ABANDON",
        "EXITWITHTIMEOUT",
        "COMPLETEAGENT",  # c1 began before --since; its end is inside
        # no REMOVEMEMBER: the login (which named the queues) is before --since
        "AGENTLOGOFF",
    ]


async def test_overflow_and_blind_transfer_into_another_queue(db: Database) -> None:
    await EventStore(db).append_many([to_stored(e) for e in two_queue_morning()])
    lines = [line.split("|", 1)[1] async for line in export_queue_log(db, None, None)]
    assert [s for s in lines if s.startswith(("O1|", "X1|"))] == [
        "O1|cards|NONE|ENTERQUEUE|||1",
        "O1|cards|NONE|EXITWITHTIMEOUT|1|1|30",  # the ACD's max_wait overflow
        "O1|loans|NONE|ENTERQUEUE|||1",
        "O1|loans|2001|CONNECT|12||0",
        "O1|loans|2001|COMPLETECALLER|12|100|1",
        "X1|cards|NONE|ENTERQUEUE|||1",
        "X1|cards|1001|CONNECT|8||0",
        # As Asterisk writes it: BLINDTRANSFER instead of a COMPLETE line for this connection
        # (calltime counts the hold, as Asterisk's does).
        "X1|cards|1001|BLINDTRANSFER|loans|hotline-acd-hold|8|120|1",
        "X1|loans|NONE|ENTERQUEUE|||1",
        "X1|loans|2001|CONNECT|30||0",
        "X1|loans|2001|COMPLETECALLER|30|60|1",
    ]


async def test_attended_transfer_is_written_as_asterisk_does(db: Database) -> None:
    t = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    a1 = leg("A1", "cards", "1001")
    script: list[DomainEvent] = [
        CallQueued(call_id="A1", queue="cards", position=2, ts=t),
        CallAnswered(**a1, wait_s=6, ts=t + timedelta(seconds=6)),
        CallTransferred(**a1, target_kind="agent", target="1002", attended=True,
                        ts=t + timedelta(seconds=96)),
        CallCompleted(**a1, by="transfer", talk_s=90, ts=t + timedelta(seconds=96)),
        # The consulted agent has the caller now: not a queue call, as app_queue sees it.
        CallAnswered(**leg("A1", "cards", "1002"), wait_s=0.0, taken_over=True,
                     ts=t + timedelta(seconds=96)),
        CallCompleted(**leg("A1", "cards", "1002"), by="caller", talk_s=104,
                      ts=t + timedelta(seconds=200)),
        CallEnded(call_id="A1", queue="cards", ts=t + timedelta(seconds=200)),
    ]  # fmt: skip
    await EventStore(db).append_many([to_stored(e) for e in script])
    lines = [line.split("|", 1)[1] async for line in export_queue_log(db, None, None)]
    assert lines == [
        "A1|cards|NONE|ENTERQUEUE|||2",
        "A1|cards|1001|CONNECT|6||0",
        "A1|cards|1001|ATTENDEDTRANSFER|BRIDGE|1002|6|90|2",
    ]


async def test_a_resync_does_not_enter_the_queue_twice(db: Database) -> None:
    # The ACD restarted while R1 waited in cards (seen entering) and R2 in loans (its
    # call.queued lost): only R2 enters at the resync, with the wait it had.
    t = datetime(2025, 3, 3, 3, 0, tzinfo=UTC)
    script: list[DomainEvent] = [
        CallQueued(call_id="R1", queue="cards", position=1, ts=t),
        CallQueued(call_id="R1", queue="cards", resync=True, wait_s=30.0,
                   ts=t + timedelta(seconds=30)),
        CallQueued(call_id="R2", queue="loans", position=2, resync=True, wait_s=12.0,
                   ts=t + timedelta(seconds=30)),
        CallAbandoned(call_id="R1", queue="cards", wait_s=40.0, ts=t + timedelta(seconds=40)),
    ]  # fmt: skip
    await EventStore(db).append_many([to_stored(e) for e in script])
    lines = [line.split("|", 1)[1] async for line in export_queue_log(db, None, None)]
    assert lines == [
        "R1|cards|NONE|ENTERQUEUE|||1",
        "R2|loans|NONE|ENTERQUEUE|||2",
        "R1|cards|NONE|ABANDON|1|1|40",
    ]

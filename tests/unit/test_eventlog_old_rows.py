"""Rows of the event log's first shape (written before typed events: flat data, lists joined in
one string, IVR fields as ``field.<name>`` keys) stored next to rows of the current one, on
SQLite and PostgreSQL: every reader reads both the same.

The same morning twice: call ``old-c1`` (agents ``old-1001``, ``old-1002``) as hand-written
rows of the first shape, as the publishers wrote them then; call ``new-c1`` (``new-...``) as
typed events written by today's writer. Readers: ``event_store.to_event`` (the live
statistics' warm start reads rows through it), the queue_log export, and the call records'
SQL (a leg's hold summed from the stored ``call.unheld`` rows after a restart).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from cti.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentStateChanged,
    AgentUnpaused,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallOffered,
    CallQueued,
    CallRingNoAnswer,
    CallStarted,
    CallTransferred,
    CallUnheld,
    DomainEvent,
    IvrEnded,
)
from hotline.storage import Database, EventStore, StoredEvent
from hotline.storage.call_records import RecordFolder
from hotline.storage.event_log import to_batch
from hotline.storage.event_store import to_event
from hotline.storage.models import CallLeg
from hotline.storage.queue_log import export_queue_log
from hotline.storage.record_sql import write_batch
from tests.fakes.events import leg

T0 = datetime(2025, 3, 6, 9, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# (seconds, kind, call_id, agent_id, queue, data of the first shape); "X" stands for the
# prefix (old- or new-) of ids.
FIRST_SHAPE: list[tuple[float, str, str | None, str | None, str | None, dict[str, Any]]] = [
    (0, "agent.logged_in", None, "X1001", None, {"device": "PJSIP/1001", "queues": "cards,loans"}),
    (0, "agent.state", None, "X1001", None, {"state": "available"}),
    (1, "agent.logged_in", None, "X1002", None, {"device": "PJSIP/1002", "queues": "cards"}),
    (
        5,
        "call.started",
        "Xc1",
        None,
        None,
        {
            "event": "CallStarted",
            "seq": 1,
            "node": "welcome",
            "hotline": "bank",
            "did": "95555",
            "caller": "13800000001",
            "language": "zh",
            "vip": False,
            "config_version": "3f2a",
            "channel": "PJSIP/trunk-00000001",
            "product": "cards",
        },
    ),
    (
        9,
        "ivr.ended",
        "Xc1",
        None,
        None,
        {
            "event": "SessionEnded",
            "seq": 4,
            "node": "to-cards",
            "outcome": "queue",
            "path": "welcome>menu>to-cards",
            "language": "zh",
            "hotline": "bank",
            "config_version": "3f2a",
        },
    ),
    (
        10,
        "call.queued",
        "Xc1",
        None,
        "cards",
        {
            "queue": "cards",
            "skills": "credit_card:5,mandarin:1",
            "priority": 0,
            "language": "zh",
            "vip": False,
            "ewt_s": 30.5,
            "position": 2,
            "field.account": "****1234",
            "field.reason": "lost card",
            "path": "welcome>menu>to-cards",
        },
    ),
    (
        11,
        "call.offered",
        "Xc1",
        "X1002",
        "cards",
        {
            "agent": "X1002",
            "decision": 7,
            "device": "PJSIP/1002",
            "ring_timeout_s": 15.0,
        },
    ),
    (
        26,
        "call.ring_no_answer",
        "Xc1",
        "X1002",
        "cards",
        {
            "agent": "X1002",
            "ring_s": 15.0,
            "reason": "noanswer",
        },
    ),
    (26, "agent.paused", None, "X1002", None, {"reason": "no-answer"}),
    (
        27,
        "call.offered",
        "Xc1",
        "X1001",
        "cards",
        {
            "agent": "X1001",
            "decision": 8,
            "device": "PJSIP/1001",
            "ring_timeout_s": 15.0,
        },
    ),
    (
        30,
        "call.answered",
        "Xc1",
        "X1001",
        "cards",
        {
            "agent": "X1001",
            "wait_s": 20.0,
            "predicted_wait_s": 30.5,
            "asterisk_predicted_wait_s": 42.0,
        },
    ),
    (30, "agent.state", None, "X1001", None, {"state": "on_call"}),
    (60, "call.held", "Xc1", "X1001", "cards", {"agent": "X1001"}),
    (90, "call.unheld", "Xc1", "X1001", "cards", {"agent": "X1001", "hold_s": 30.0}),
    (100, "agent.unpaused", None, "X1002", None, {}),
]
# After a restart (the folder remembers nothing): a second hold, then a blind transfer.
AFTER_RESTART: list[tuple[float, str, str | None, str | None, str | None, dict[str, Any]]] = [
    (120, "call.held", "Xc1", "X1001", "cards", {"agent": "X1001"}),
    (125, "call.unheld", "Xc1", "X1001", "cards", {"agent": "X1001", "hold_s": 5.0}),
    (150, "call.transferred", "Xc1", "X1001", "cards", {
        "agent": "X1001", "target_kind": "number", "target": "88001234", "attended": False,
    }),
    (150, "call.completed", "Xc1", "X1001", "cards", {
        "agent": "X1001", "by": "transfer", "talk_s": 85.0,
    }),
    (150, "call.ended", "Xc1", None, "cards", {}),
    (150, "agent.state", None, "X1001", None, {"state": "wrap_up"}),
    (3600, "agent.logged_out", None, "X1001", None, {}),
    (3600, "agent.logged_out", None, "X1002", None, {}),
]  # fmt: skip


def ids(value: str | None, prefix: str) -> str | None:
    return None if value is None else value.replace("X", prefix, 1)


def old_rows(script: list[tuple[float, str, str | None, str | None, str | None, dict[str, Any]]]
             ) -> list[StoredEvent]:  # fmt: skip
    """The rows as the first version stored them, ids ``old-``."""
    rows = []
    for seconds, kind, call_id, agent_id, queue, data in script:
        payload = {k: ids(v, "old-") if k == "agent" else v for k, v in data.items()}
        rows.append(StoredEvent(
            kind=kind, ts=at(seconds), call_id=ids(call_id, "old-"),
            agent_id=ids(agent_id, "old-"), queue=queue, payload=payload,
        ))  # fmt: skip
    return rows


def typed(prefix: str, first: bool) -> list[DomainEvent]:
    """The same events, typed, ids ``prefix``: before the restart (``first``) or after."""
    c1 = f"{prefix}c1"
    a, b = f"{prefix}1001", f"{prefix}1002"
    if not first:
        return [
            CallHeld(**leg(c1, "cards", a), ts=at(120)),
            CallUnheld(**leg(c1, "cards", a), hold_s=5.0, ts=at(125)),
            CallTransferred(**leg(c1, "cards", a), target_kind="number", target="88001234",
                            ts=at(150)),
            CallCompleted(**leg(c1, "cards", a), by="transfer", talk_s=85.0, ts=at(150)),
            CallEnded(call_id=c1, queue="cards", ts=at(150)),
            AgentStateChanged(agent_id=a, state="wrap_up", ts=at(150)),
            AgentLoggedOut(agent_id=a, ts=at(3600)),
            AgentLoggedOut(agent_id=b, ts=at(3600)),
        ]  # fmt: skip
    return [
        AgentLoggedIn(agent_id=a, device="PJSIP/1001", queues=("cards", "loans"), ts=at(0)),
        AgentStateChanged(agent_id=a, state="available", ts=at(0)),
        AgentLoggedIn(agent_id=b, device="PJSIP/1002", queues=("cards",), ts=at(1)),
        CallStarted(call_id=c1, seq=1, node="welcome", hotline="bank", did="95555",
                    caller="13800000001", language="zh", config_version="3f2a",
                    channel="PJSIP/trunk-00000001", product="cards", ts=at(5)),
        IvrEnded(call_id=c1, seq=4, node="to-cards", outcome="queue",
                 path=("welcome", "menu", "to-cards"), language="zh", hotline="bank",
                 config_version="3f2a", ts=at(9)),
        CallQueued(call_id=c1, queue="cards", skills={"credit_card": 5, "mandarin": 1},
                   language="zh", ewt_s=30.5, position=2,
                   fields={"account": "****1234", "reason": "lost card"},
                   path=("welcome", "menu", "to-cards"), ts=at(10)),
        CallOffered(**leg(c1, "cards", b), decision=7, device="PJSIP/1002",
                    ring_timeout_s=15.0, ts=at(11)),
        CallRingNoAnswer(**leg(c1, "cards", b), ring_s=15.0, reason="noanswer", ts=at(26)),
        AgentPaused(agent_id=b, reason="no-answer", ts=at(26)),
        CallOffered(**leg(c1, "cards", a), decision=8, device="PJSIP/1001",
                    ring_timeout_s=15.0, ts=at(27)),
        CallAnswered(**leg(c1, "cards", a), wait_s=20.0, predicted_wait_s=30.5,
                     asterisk_predicted_wait_s=42.0, ts=at(30)),
        AgentStateChanged(agent_id=a, state="on_call", ts=at(30)),
        CallHeld(**leg(c1, "cards", a), ts=at(60)),
        CallUnheld(**leg(c1, "cards", a), hold_s=30.0, ts=at(90)),
        AgentUnpaused(agent_id=b, ts=at(100)),
    ]  # fmt: skip


def with_old_ids(event: DomainEvent) -> DomainEvent:
    """``event`` (of the new- call) as the old- call's."""
    names = {f.name for f in dataclasses.fields(event)}
    changes = {
        name: getattr(event, name).replace("new-", "old-", 1)
        for name in ("call_id", "agent_id")
        if name in names and getattr(event, name) is not None
    }
    renamed: DomainEvent = dataclasses.replace(event, **changes)
    return renamed


async def store(db: Database) -> None:
    """Both calls before the restart: the old call's rows in the first shape (its records as
    the first version's writer folded them), the new call's as today's writer writes them."""
    old_events = [with_old_ids(e) for e in typed("new-", first=True)]
    old = to_batch(old_events, RecordFolder())
    rows = [
        dataclasses.replace(hand, uid=row.uid)
        for hand, row in zip(old_rows(FIRST_SHAPE), old.events, strict=True)
    ]
    new = to_batch(typed("new-", first=True), RecordFolder())
    async with db.engine.begin() as conn:
        await write_batch(conn, rows, old.ops)
        await write_batch(conn, new.events, new.ops)
    # The restart: a fresh folder, current rows for both calls from now on.
    after = to_batch(
        [with_old_ids(e) for e in typed("new-", first=False)] + typed("new-", first=False),
        RecordFolder(),
    )
    async with db.engine.begin() as conn:
        await write_batch(conn, after.events, after.ops)


def test_rows_of_the_first_shape_decode_to_the_typed_events() -> None:
    for hand, event in zip(old_rows(FIRST_SHAPE), typed("new-", first=True), strict=True):
        assert to_event(hand, mono=event.mono) == with_old_ids(event), hand.kind
    for hand, event in zip(old_rows(AFTER_RESTART), typed("new-", first=False), strict=True):
        assert to_event(hand, mono=event.mono) == with_old_ids(event), hand.kind


async def test_both_shapes_are_read_the_same(db: Database) -> None:
    await store(db)
    stored = await EventStore(db).since(T0)
    restart = at(AFTER_RESTART[0][0])
    shapes = {
        ((row.call_id or row.agent_id or "")[:4], row.ts < restart, "v" in row.payload)
        for row in stored
    }
    # The old call's rows up to the restart are of the first shape; all else is current.
    assert shapes == {("old-", True, False), ("old-", False, True), ("new-", True, True),
                      ("new-", False, True)}  # fmt: skip

    # Read back as events (the warm start's way): the same, but for the ids.
    by_prefix: dict[str, list[DomainEvent]] = {"old-": [], "new-": []}
    for row in stored:
        event = to_event(row, mono=0.0)
        owner = row.call_id or row.agent_id or ""
        by_prefix[owner[:4]].append(event if owner.startswith("old-") else with_old_ids(event))
    assert by_prefix["old-"] == by_prefix["new-"]
    assert len(by_prefix["old-"]) == len(FIRST_SHAPE) + len(AFTER_RESTART)

    # The queue_log export.
    lines = [line async for line in export_queue_log(db, None, None)]
    old = [line for line in lines if "|old-" in line]
    new = [line.replace("|new-", "|old-") for line in lines if "|new-" in line]
    assert old == new
    assert [line.split("|")[4] for line in old] == [
        "AGENTLOGIN", "ADDMEMBER", "ADDMEMBER", "AGENTLOGIN", "ADDMEMBER", "ENTERQUEUE",
        "RINGNOANSWER", "PAUSE", "CONNECT", "UNPAUSE", "BLINDTRANSFER", "REMOVEMEMBER",
        "REMOVEMEMBER", "AGENTLOGOFF", "REMOVEMEMBER", "AGENTLOGOFF",
    ]  # fmt: skip

    # The call records: after the restart the leg's hold is summed from the stored call.unheld
    # rows, of either shape (30 s before the restart, 5 s after).
    async with db.session() as session:
        legs = {
            leg.call_id: (leg.queue, leg.wait_s, leg.talk_s, leg.hold_s, leg.agent_id[:4])
            for leg in (await session.scalars(select(CallLeg))).all()
            if leg.agent_id is not None
        }
    assert legs == {"old-c1": ("cards", 20.0, 85.0, 35.0, "old-"),
                    "new-c1": ("cards", 20.0, 85.0, 35.0, "new-")}  # fmt: skip

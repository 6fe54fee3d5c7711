"""The sans-IO fold of domain events into call records and agent intervals, and the codec."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cti.events import (
    AgentStateChanged,
    AgentStateName,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallFallback,
    CallHeld,
    CallOverflowed,
    CallQueued,
    CallStarted,
    CallTransferred,
    CallUnheld,
    DomainEvent,
    IvrNode,
)
from hotline.storage.batch_codec import decode, encode
from hotline.storage.call_records import RecordFolder
from hotline.storage.event_log import to_batch
from hotline.storage.record_ops import (
    CallPatch,
    CloseIntervals,
    IntervalCategory,
    LegPatch,
    OpenInterval,
    OpenLeg,
    RecordOp,
    merge_patches,
)
from hotline.storage.record_sql import interval_rounds
from hotline.storage.simulate import abandoned_call, agent_shift, answered_call
from tests.fakes.events import leg as fake_leg

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def fold(events: list[DomainEvent], short_abandon_s: float = 5.0) -> list[RecordOp]:
    return list(to_batch(events, RecordFolder(short_abandon_s)).ops)


Row = dict[str, Any]


def _patch(row: Row, values: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    row.update(values)
    for key, value in defaults.items():
        if row.get(key) is None:
            row[key] = value


def apply(ops: list[RecordOp]) -> tuple[dict[str, Row], dict[str, Row]]:
    """Calls and legs as the writer would leave them (``record_sql``), without slots: COALESCE
    for defaults, a patch without leg id goes to the call's latest leg entered by then, and a
    call's durations are the sums over its legs."""
    calls: dict[str, Row] = {}
    legs: dict[str, Row] = {}
    for op in ops:
        if isinstance(op, CallPatch):
            _patch(calls.setdefault(op.call_id, {}), op.values, op.defaults)
        elif isinstance(op, OpenLeg):
            row = {"call_id": op.call_id, "queue": op.queue, "enqueued_at": op.enqueued_at}
            legs.setdefault(op.leg_id, row | {"outcome": "queued", **op.values})
        elif isinstance(op, LegPatch):
            assert not op.sum_hold  # needs the stored events: tested on a database
            leg_id = op.leg_id
            if leg_id is None:
                mine = [
                    (row["enqueued_at"], key)
                    for key, row in legs.items()
                    if row["call_id"] == op.call_id
                    and row["enqueued_at"] <= op.at
                    and (op.agent_id is None or row.get("agent_id") == op.agent_id)
                ]
                leg_id = max(mine)[1] if mine else None
            if leg_id is not None:
                _patch(legs[leg_id], op.values, op.defaults)
    for call_id, call in calls.items():
        visits = [row for row in legs.values() if row["call_id"] == call_id]
        if visits:
            for column in ("wait_s", "talk_s", "hold_s", "wrap_up_s"):
                given = [row[column] for row in visits if row.get(column) is not None]
                call[column] = sum(given) if given else None
    return calls, legs


def record(events: list[DomainEvent], call_id: str) -> Row:
    """The call record the operations build; columns still NULL left out."""
    calls, _ = apply(fold(events))
    assert set(calls) == {call_id}
    return {k: v for k, v in calls[call_id].items() if v is not None}


def legs_of(events: list[DomainEvent], folder: RecordFolder | None = None) -> list[Row]:
    """The legs the operations build, in the order they entered a queue."""
    _, legs = apply(list(to_batch(events, folder or RecordFolder()).ops))
    return sorted(legs.values(), key=lambda row: row["enqueued_at"])


def test_answered_call_record() -> None:
    row = record(answered_call("c1", T0, wait_s=12, talk_s=100, hold_s=20, wrap_up_s=15), "c1")
    assert row == {
        "started_at": T0,
        "did": "95555",
        "caller": "13800000000",
        "hotline": "bank",
        "product": "cards",
        "ivr_path": ["welcome", "menu"],
        "language": "zh",
        "vip": False,  # the IVR and the ACD always say
        "queue": "cards",
        "position": 1,
        "enqueued_at": T0 + timedelta(seconds=10),
        "answered_at": T0 + timedelta(seconds=22),
        "left_queue_at": T0 + timedelta(seconds=22),
        "agent_id": "1001",
        "wait_s": 12,
        "predicted_wait_s": 12,
        "outcome": "answered",
        "talk_s": 100,
        "hold_s": 20,
        "ended_by": "caller",
        "ended_at": T0 + timedelta(seconds=142),
        # wrap_up: from agent.state wrap_up (142 s) to available (157 s)
        "wrap_up_s": 15.0,
        "disposition": "resolved",
    }


def test_hold_time_from_held_and_unheld() -> None:
    events = answered_call("h1", T0, talk_s=100, hold_s=0)
    answered = T0 + timedelta(seconds=22)
    leg = fake_leg("h1", "cards", "1001")
    hold: list[DomainEvent] = [
        CallHeld(**leg, ts=answered + timedelta(seconds=10)),
        CallUnheld(**leg, ts=answered + timedelta(seconds=40)),  # no hold_s: measured
        CallHeld(**leg, ts=answered + timedelta(seconds=50)),
        CallUnheld(**leg, ts=answered + timedelta(seconds=55)),
    ]
    completed = next(i for i, e in enumerate(events) if isinstance(e, CallCompleted))
    events[completed:completed] = hold
    assert record(events, "h1")["hold_s"] == 35.0  # 30 s + 5 s


def test_abandons_short_and_long() -> None:
    assert record(abandoned_call("c2", T0, wait_s=3), "c2")["outcome"] == "short_abandon"
    long = record(abandoned_call("c2", T0, wait_s=30), "c2")
    assert (long["outcome"], long["wait_s"]) == ("abandoned", 30)
    # The threshold is the folder's: 30 s is short under a 60 s threshold.
    patches = [
        op for op in fold(abandoned_call("c2", T0, wait_s=30), 60) if isinstance(op, CallPatch)
    ]
    assert patches[-2].values["outcome"] == "short_abandon"


def test_hang_up_while_queued_without_abandon_event_is_an_abandon() -> None:
    events: list[DomainEvent] = [
        CallQueued(call_id="c3", queue="loans", ts=T0),
        CallEnded(call_id="c3", ts=T0 + timedelta(seconds=9)),
    ]
    row = record(events, "c3")
    assert (row["outcome"], row["wait_s"], row["queue"]) == ("abandoned", 9.0, "loans")


def test_ivr_only_and_fallback() -> None:
    ivr_only: list[DomainEvent] = [
        CallStarted(call_id="c4", caller="1", ts=T0),
        IvrNode(call_id="c4", node="balance", ts=T0),
        CallEnded(call_id="c4", ts=T0 + timedelta(seconds=40)),
    ]
    row = record(ivr_only, "c4")
    assert (row["outcome"], row["ivr_path"]) == ("ivr_only", ["balance"])
    fallback: list[DomainEvent] = [
        CallFallback(call_id="c5", queue="cards", reason="hold-timeout", ts=T0),
        CallEnded(call_id="c5", ts=T0),
    ]
    assert record(fallback, "c5")["outcome"] == "fallback"


def test_transfer_before_and_after_answer() -> None:
    before: list[DomainEvent] = [
        CallStarted(call_id="c6", ts=T0),
        CallTransferred(
            call_id="c6", queue="ivr", agent_id="", target_kind="number", target="8000", ts=T0
        ),
        CallEnded(call_id="c6", ts=T0),
    ]
    assert record(before, "c6")["outcome"] == "transferred"
    after = answered_call("c7", T0)
    transfer = CallTransferred(
        call_id="c7", queue="cards", agent_id="1001", target_kind="number", target="x", ts=T0
    )
    after.insert(6, transfer)
    assert record(after, "c7")["outcome"] == "answered"


def test_after_a_restart_the_end_of_a_call_does_not_overwrite_its_outcome() -> None:
    # A fresh folder (restart) sees only call.ended: the outcome is a default (COALESCE).
    (patch,) = fold([CallEnded(call_id="c8", ts=T0)])
    assert isinstance(patch, CallPatch)
    assert patch.values == {"ended_at": T0} and patch.defaults == {"outcome": "ivr_only"}


def test_agent_intervals() -> None:
    events = agent_shift(
        "1001", T0, T0 + timedelta(hours=1), [(T0 + timedelta(minutes=10), 300, "lunch")]
    )
    ops = fold(events)
    s, p, u = IntervalCategory.SESSION, IntervalCategory.PAUSE, IntervalCategory.STATE
    uids = [e for e in ops if isinstance(e, OpenInterval)]
    assert ops == [
        CloseIntervals("1001", s, T0),
        OpenInterval(uids[0].uid, "1001", s, "logged_in", None, T0),
        CloseIntervals("1001", p, T0 + timedelta(minutes=10)),
        OpenInterval(uids[1].uid, "1001", p, "paused", "lunch", T0 + timedelta(minutes=10)),
        CloseIntervals("1001", p, T0 + timedelta(minutes=15)),
        CloseIntervals("1001", s, T0 + timedelta(hours=1)),
        CloseIntervals("1001", p, T0 + timedelta(hours=1)),
        CloseIntervals("1001", u, T0 + timedelta(hours=1)),
    ]


def test_merge_patches_keeps_apply_in_order_semantics() -> None:
    merged = merge_patches(
        [
            CallPatch("a", {"x": 1}, {"outcome": "ivr_only"}),
            CallPatch("b", {"x": 5}),
            CallPatch("a", {"outcome": "answered", "x": 2}, {"y": 1}),
            CallPatch("a", {}, {"y": 2, "outcome": "zzz"}),
        ]
    )
    assert merged == [
        CallPatch("a", {"x": 2, "outcome": "answered"}, {"y": 1}),
        CallPatch("b", {"x": 5}, {}),
    ]


def test_codec_round_trip() -> None:
    batch = to_batch(answered_call("c9", T0) + agent_shift("7", T0, T0, []), RecordFolder())
    decoded = decode(encode(batch))
    assert list(decoded.events) == list(batch.events)
    assert list(decoded.ops) == list(batch.ops)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def state(agent: str, seconds: float, name: AgentStateName) -> AgentStateChanged:
    return AgentStateChanged(agent_id=agent, state=name, ts=at(seconds))


def leg_view(leg: Row) -> tuple[object, ...]:
    return tuple(leg.get(k) for k in ("queue", "outcome", "wait_s", "agent_id", "talk_s", "hold_s"))


def test_overflow_into_another_queue_opens_a_second_leg() -> None:
    events: list[DomainEvent] = [
        CallQueued(call_id="x", queue="cards", ts=at(0)),
        CallOverflowed(call_id="x", queue="cards", target="loans", target_kind="queue",
                       reason="max_wait", wait_s=30.0, ts=at(30)),
        CallQueued(call_id="x", queue="loans", ts=at(30)),
        CallAnswered(call_id="x", queue="loans", agent_id="C", ts=at(45)),  # wait measured
        CallCompleted(call_id="x", queue="loans", agent_id="C", talk_s=90.0, ts=at(135)),
        CallEnded(call_id="x", queue="loans", ts=at(135)),
    ]  # fmt: skip
    assert [leg_view(leg) for leg in legs_of(events)] == [
        ("cards", "overflow", 30.0, None, None, None),
        ("loans", "answered", 15.0, "C", 90.0, 0.0),
    ]
    row = record(events, "x")
    assert (row["queue"], row["outcome"], row["wait_s"], row["talk_s"]) == (
        "loans", "answered", 45.0, 90.0
    )  # fmt: skip


def test_transfer_back_into_a_queue_after_an_answer() -> None:
    b = fake_leg("x", "cards", "B")
    events: list[DomainEvent] = [
        CallQueued(call_id="x", queue="cards", ts=at(0)),
        CallAnswered(**b, wait_s=10, ts=at(10)),
        CallHeld(**b, ts=at(20)),
        CallUnheld(**b, hold_s=15.0, ts=at(35)),
        CallTransferred(**b, target_kind="queue", target="loans", ts=at(70)),
        CallCompleted(**b, by="transfer", talk_s=45, ts=at(70)),
        state("B", 70, "wrap_up"),
        CallQueued(call_id="x", queue="loans", ts=at(70)),
        state("B", 80, "available"),
        CallAnswered(call_id="x", queue="loans", agent_id="C", wait_s=30, ts=at(100)),
        CallCompleted(call_id="x", queue="loans", agent_id="C", talk_s=50, ts=at(150)),
    ]
    cards, loans = legs_of(events)
    assert leg_view(cards) == ("cards", "answered", 10, "B", 45, 15.0)
    assert cards["wrap_up_s"] == 10.0  # B's wrap-up, though the call moved on
    assert leg_view(loans) == ("loans", "answered", 30, "C", 50, 0.0)
    row = record(events, "x")
    assert (row["agent_id"], row["talk_s"], row["hold_s"], row["wait_s"]) == ("C", 95, 15.0, 40)


def test_queued_elsewhere_without_an_exit_event_leaves_the_first_queue() -> None:
    events: list[DomainEvent] = [
        CallQueued(call_id="x", queue="cards", ts=at(0)),
        CallQueued(call_id="x", queue="loans", ts=at(12)),
        CallEnded(call_id="x", ts=at(20)),  # hung up waiting in loans, no abandon event
    ]
    assert [leg_view(leg) for leg in legs_of(events)] == [
        ("cards", "transferred", 12.0, None, None, None),
        ("loans", "abandoned", 8.0, None, None, None),
    ]


def test_interval_rounds_keep_each_agents_order() -> None:
    events = agent_shift("1", T0, at(3600), [(at(60), 30, "lunch")])
    events += agent_shift("2", T0, at(600), [])
    events += [state("1", 10, "on_call"), state("1", 20, "wrap_up"), state("1", 25, "available")]
    ops = fold(sorted(events, key=lambda e: e.ts))
    rounds = interval_rounds([op for op in ops if isinstance(op, OpenInterval | CloseIntervals)])
    flat = [op for closes, opens in rounds for op in (*closes, *opens)]
    assert sorted(map(repr, flat)) == sorted(map(repr, ops))

    def chain(seq: Sequence[object], agent: str, category: IntervalCategory) -> list[object]:
        return [
            op
            for op in seq
            if isinstance(op, OpenInterval | CloseIntervals)
            and (op.agent_id, op.category) == (agent, category)
        ]

    for agent in "12":
        for category in IntervalCategory:
            assert chain(flat, agent, category) == chain(ops, agent, category)
    assert len(rounds) < len(ops) / 2

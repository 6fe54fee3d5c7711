"""The sans-IO fold of domain events into call records and agent intervals, and the codec."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cti.events import DomainEvent, EventKind, make_event
from hotline.storage.batch_codec import Batch, decode, encode
from hotline.storage.call_records import (
    CallPatch,
    CloseIntervals,
    IntervalCategory,
    LegPatch,
    OpenInterval,
    OpenLeg,
    RecordFolder,
    merge_patches,
)
from hotline.storage.event_log import to_stored
from hotline.storage.simulate import abandoned_call, agent_shift, answered_call

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def fold(events: list[DomainEvent], short_abandon_s: float = 5.0) -> list[object]:
    folder = RecordFolder(short_abandon_s)
    return list(folder.fold_many([to_stored(e) for e in events]))


Row = dict[str, Any]


def _patch(row: Row, values: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    row.update(values)
    for key, value in defaults.items():
        if row.get(key) is None:
            row[key] = value


def apply(ops: list[object]) -> tuple[dict[str, Row], dict[str, Row]]:
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
        mine = [row for row in legs.values() if row["call_id"] == call_id]
        if mine:
            for column in ("wait_s", "talk_s", "hold_s", "wrap_up_s"):
                given = [row[column] for row in mine if row.get(column) is not None]
                call[column] = sum(given) if given else None
    return calls, legs


def record(events: list[DomainEvent], call_id: str) -> Row:
    """The call record the operations build; columns still NULL left out."""
    calls, _ = apply(fold(events))
    assert set(calls) == {call_id}
    return {k: v for k, v in calls[call_id].items() if v is not None}


def legs_of(events: list[DomainEvent], folder: RecordFolder | None = None) -> list[Row]:
    """The legs the operations build, in the order they entered a queue."""
    folder = folder or RecordFolder()
    _, legs = apply(list(folder.fold_many([to_stored(e) for e in events])))
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
    hold = [
        make_event(EventKind.CALL_HELD, "h1", ts=answered + timedelta(seconds=10)),
        make_event(EventKind.CALL_UNHELD, "h1", ts=answered + timedelta(seconds=40)),
        make_event(EventKind.CALL_HELD, "h1", ts=answered + timedelta(seconds=50)),
        make_event(EventKind.CALL_UNHELD, "h1", ts=answered + timedelta(seconds=55)),
    ]
    completed = [e.kind for e in events].index(EventKind.CALL_COMPLETED)
    events[completed:completed] = hold
    # completed says hold_s=0 explicitly in simulate; drop it so the fold's own sum is used
    done = events[completed + 4]
    events[completed + 4] = make_event(
        done.kind, done.call_id, done.agent_id, done.queue, {"by": "agent", "talk_s": 100}, done.ts
    )
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
    events = [
        make_event(EventKind.CALL_QUEUED, "c3", queue="loans", ts=T0),
        make_event(EventKind.CALL_ENDED, "c3", ts=T0 + timedelta(seconds=9)),
    ]
    row = record(events, "c3")
    assert (row["outcome"], row["wait_s"], row["queue"]) == ("abandoned", 9.0, "loans")


def test_ivr_only_and_fallback() -> None:
    ivr_only = [
        make_event(EventKind.CALL_STARTED, "c4", ts=T0, data={"caller": "1"}),
        make_event(EventKind.IVR_NODE, "c4", ts=T0, data={"node": "balance"}),
        make_event(EventKind.CALL_ENDED, "c4", ts=T0 + timedelta(seconds=40)),
    ]
    row = record(ivr_only, "c4")
    assert (row["outcome"], row["ivr_path"]) == ("ivr_only", ["balance"])
    fallback = [
        make_event(EventKind.CALL_FALLBACK, "c5", ts=T0, data={"queue": "fallback"}),
        make_event(EventKind.CALL_ENDED, "c5", ts=T0),
    ]
    assert record(fallback, "c5")["outcome"] == "fallback"


def test_transfer_before_and_after_answer() -> None:
    before = [
        make_event(EventKind.CALL_STARTED, "c6", ts=T0),
        make_event(EventKind.CALL_TRANSFERRED, "c6", ts=T0, data={"target": "8000"}),
        make_event(EventKind.CALL_ENDED, "c6", ts=T0),
    ]
    assert record(before, "c6")["outcome"] == "transferred"
    after = answered_call("c7", T0)
    after.insert(6, make_event(EventKind.CALL_TRANSFERRED, "c7", ts=T0, data={"target": "x"}))
    assert record(after, "c7")["outcome"] == "answered"


def test_after_a_restart_the_end_of_a_call_does_not_overwrite_its_outcome() -> None:
    # A fresh folder (restart) sees only call.ended: the outcome is a default (COALESCE).
    (patch,) = fold([make_event(EventKind.CALL_ENDED, "c8", ts=T0)])
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
    stored = [to_stored(e) for e in answered_call("c9", T0) + agent_shift("7", T0, T0, [])]
    ops = RecordFolder().fold_many(stored)
    batch = decode(encode(Batch(stored, ops)))
    assert list(batch.events) == stored
    assert list(batch.ops) == ops


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call_ev(kind: EventKind, seconds: float, **fields: Any) -> DomainEvent:
    data = fields.pop("data", {})
    return make_event(kind, "x", ts=at(seconds), data=data, **fields)


def leg_view(leg: Row) -> tuple[object, ...]:
    return tuple(leg.get(k) for k in ("queue", "outcome", "wait_s", "agent_id", "talk_s", "hold_s"))


def test_overflow_into_another_queue_opens_a_second_leg() -> None:
    events = [
        call_ev(EventKind.CALL_QUEUED, 0, queue="cards"),
        call_ev(EventKind.CALL_OVERFLOWED, 30, queue="cards",
                data={"target": "loans", "target_kind": "queue", "wait_s": 30.0}),
        call_ev(EventKind.CALL_QUEUED, 30, queue="loans"),
        call_ev(EventKind.CALL_ANSWERED, 45, agent_id="C", queue="loans"),  # wait measured
        call_ev(EventKind.CALL_COMPLETED, 135, agent_id="C", data={"talk_s": 90.0}),
        call_ev(EventKind.CALL_ENDED, 135),
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
    events = [
        call_ev(EventKind.CALL_QUEUED, 0, queue="cards"),
        call_ev(EventKind.CALL_ANSWERED, 10, agent_id="B", queue="cards", data={"wait_s": 10}),
        call_ev(EventKind.CALL_HELD, 20, agent_id="B"),
        call_ev(EventKind.CALL_UNHELD, 35, agent_id="B", data={"hold_s": 15.0}),
        call_ev(EventKind.CALL_TRANSFERRED, 70, agent_id="B",
                data={"target_kind": "queue", "target": "loans"}),
        call_ev(EventKind.CALL_COMPLETED, 70, agent_id="B", data={"by": "transfer", "talk_s": 45}),
        make_event(EventKind.AGENT_STATE, None, "B", ts=at(70), data={"state": "wrap_up"}),
        call_ev(EventKind.CALL_QUEUED, 70, queue="loans"),
        make_event(EventKind.AGENT_STATE, None, "B", ts=at(80), data={"state": "available"}),
        call_ev(EventKind.CALL_ANSWERED, 100, agent_id="C", queue="loans", data={"wait_s": 30}),
        call_ev(EventKind.CALL_COMPLETED, 150, agent_id="C", data={"talk_s": 50}),
    ]  # fmt: skip
    cards, loans = legs_of(events)
    assert leg_view(cards) == ("cards", "answered", 10, "B", 45, 15.0)
    assert cards["wrap_up_s"] == 10.0  # B's wrap-up, though the call moved on
    assert leg_view(loans) == ("loans", "answered", 30, "C", 50, 0.0)
    row = record(events, "x")
    assert (row["agent_id"], row["talk_s"], row["hold_s"], row["wait_s"]) == ("C", 95, 15.0, 40)


def test_queued_elsewhere_without_an_exit_event_leaves_the_first_queue() -> None:
    events = [
        call_ev(EventKind.CALL_QUEUED, 0, queue="cards"),
        call_ev(EventKind.CALL_QUEUED, 12, queue="loans"),
        call_ev(EventKind.CALL_ENDED, 20),  # hung up waiting in loans, no abandon event
    ]
    assert [leg_view(leg) for leg in legs_of(events)] == [
        ("cards", "transferred", 12.0, None, None, None),
        ("loans", "abandoned", 8.0, None, None, None),
    ]


def test_interval_rounds_keep_each_agents_order() -> None:
    from hotline.storage.record_sql import interval_rounds

    events = agent_shift("1", T0, at(3600), [(at(60), 30, "lunch")])
    events += agent_shift("2", T0, at(600), [])
    events += [
        make_event(EventKind.AGENT_STATE, None, "1", ts=at(s), data={"state": state})
        for s, state in ((10, "on_call"), (20, "wrap_up"), (25, "available"))
    ]
    ops = fold(sorted(events, key=lambda e: e.ts))
    rounds = interval_rounds(ops)  # type: ignore[arg-type]
    flat = [op for closes, opens in rounds for op in (*closes, *opens)]
    assert sorted(map(repr, flat)) == sorted(map(repr, ops))

    def chain(seq: list[object], agent: str, category: IntervalCategory) -> list[object]:
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

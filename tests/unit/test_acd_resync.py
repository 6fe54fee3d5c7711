"""Planning a resync (acd/resync.py), pure: old state + what Asterisk holds → the plan."""

from __future__ import annotations

import pytest

from acd.agent_state import AgentState, AgentStatus
from acd.call_record import CallRecord
from acd.effects import CallArrived
from acd.indexes import CallEntry
from acd.pbx_events import ConnectingCall, HoldEntered, PbxSnapshot, SavedAgent
from acd.resync import adoption, agents_to_restore, plan_resync

NOW = 1000.0
EPOCH_AT_NOW = 1_700_000_000.0


def from_epoch(epoch: float) -> float:
    return NOW - (EPOCH_AT_NOW - epoch)


def test_saved_agents_come_back_unless_this_process_knows_better() -> None:
    saved = [
        SavedAgent("a1", "PJSIP/1001", "lunch"),
        SavedAgent("a2", "PJSIP/1002"),
        SavedAgent("ghost", "PJSIP/9"),  # not an agent of this configuration
    ]
    old = {
        # touched: logged out since the copy in Asterisk was written
        "a2": AgentStatus("a2", AgentState.LOGGED_OUT),
        # touched: paused by the service itself, which means nothing to the next engine
        "a3": AgentStatus("a3", AgentState.PAUSED, device="PJSIP/1003", pause_reason="busy"),
    }
    restored = agents_to_restore(
        old, saved, known_agents={"a1", "a2", "a3"}, touched={"a2", "a3"},
        internal_reasons={"busy"},
    )  # fmt: skip
    assert restored == [SavedAgent("a1", "PJSIP/1001", "lunch"), SavedAgent("a3", "PJSIP/1003")]


def test_a_connected_call_is_taken_back_as_the_old_engine_had_it() -> None:
    entry = CallEntry("c1", "cards", 50, 900.0, 1, 1.0)
    before = CallRecord(entry, {"credit_card": 4}, "zh", 900.0, "connected", "a1", 950.0)
    found = ConnectingCall("c1", "a1", True, "cards", 50, EPOCH_AT_NOW - 999, None, None)
    taken = adoption(found, before, NOW, from_epoch)
    assert taken.arrived == CallArrived("c1", "cards", 900.0, 50, {"credit_card": 4}, "zh")
    assert taken.answered_at == 950.0


def test_after_a_restart_the_channel_says_when_it_queued_and_was_answered() -> None:
    found = ConnectingCall("c1", "a1", True, "cards", 5, EPOCH_AT_NOW - 60, None, EPOCH_AT_NOW - 20)
    taken = adoption(found, None, NOW, from_epoch)
    assert taken.arrived == CallArrived("c1", "cards", NOW - 60, 5, {}, None)
    assert taken.answered_at == pytest.approx(NOW - 20)
    future = ConnectingCall("c2", "a1", True, "cards", 0, EPOCH_AT_NOW + 99, None, None)
    assert adoption(future, None, NOW, from_epoch).arrived.enqueued_at == NOW  # never ahead


def test_the_plan_puts_callers_on_hold_back_oldest_first() -> None:
    def held(call_id: str, epoch: float | None) -> HoldEntered:
        return HoldEntered(call_id, call_id, "cards", 0, None, {}, epoch)

    snapshot = PbxSnapshot(
        held=[held("late", EPOCH_AT_NOW - 5), held("unknown", None), held("early", 1.0)],
        device_states={"PJSIP/1001": "UNAVAILABLE"},
    )
    plan = plan_resync(
        old_agents={}, old_calls={}, snapshot=snapshot, known_agents=(), touched=(),
        internal_reasons=(), now=NOW, from_epoch=from_epoch,
    )  # fmt: skip
    assert [h.call_id for h in plan.held] == ["early", "late", "unknown"]
    assert plan.device_states == {"PJSIP/1001": "UNAVAILABLE"}
    assert (plan.agents, plan.connected) == ((), ())

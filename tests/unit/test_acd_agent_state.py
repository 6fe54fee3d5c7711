"""The agent state table: legal and illegal transitions, no-answer pause, wrap-up effect."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.agent_state import (
    NO_ANSWER_REASON,
    TRANSITIONS,
    AgentInput,
    AgentPaused,
    AgentState,
    AgentStatus,
    IllegalTransition,
    WrapUpEnds,
    allowed_inputs,
    mermaid_diagram,
    step,
)

S, In = AgentState, AgentInput


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        (S.LOGGED_OUT, In.LOGIN, S.AVAILABLE),
        (S.AVAILABLE, In.OFFER, S.RESERVED),
        (S.RESERVED, In.ANSWER, S.ON_CALL),
        (S.RESERVED, In.OFFER_CANCELLED, S.AVAILABLE),
        (S.ON_CALL, In.CALL_END, S.WRAP_UP),
        (S.WRAP_UP, In.WRAP_UP_DONE, S.AVAILABLE),
        (S.WRAP_UP, In.PAUSE, S.PAUSED),
        (S.AVAILABLE, In.PAUSE, S.PAUSED),
        (S.PAUSED, In.UNPAUSE, S.AVAILABLE),
        (S.PAUSED, In.LOGOUT, S.LOGGED_OUT),
        (S.AVAILABLE, In.LOGOUT, S.LOGGED_OUT),
    ],
)
def test_legal_transitions(state: AgentState, event: AgentInput, expected: AgentState) -> None:
    new, _ = step(AgentStatus("a1", state), event, now=5.0, wrap_up_s=10.0)
    assert new.state is expected
    assert new.since == 5.0


@pytest.mark.parametrize(
    ("state", "event"),
    [(s, e) for s in AgentState for e in AgentInput if (s, e) not in TRANSITIONS],
)
def test_every_missing_pair_is_illegal(state: AgentState, event: AgentInput) -> None:
    with pytest.raises(IllegalTransition) as caught:
        step(AgentStatus("a1", state), event, now=0.0)
    assert caught.value.state is state and caught.value.event is event


def test_call_end_schedules_wrap_up_end() -> None:
    new, effects = step(AgentStatus("a1", S.ON_CALL), In.CALL_END, now=100.0, wrap_up_s=12.5)
    assert effects == (WrapUpEnds("a1", 112.5),)
    assert new.wrap_up_until == 112.5


def test_no_answer_pauses_after_the_limit_of_consecutive_misses() -> None:
    status = AgentStatus("a1", S.RESERVED)
    status, effects = step(status, In.NO_ANSWER, now=1.0, no_answer_limit=2)
    assert status.state is S.AVAILABLE and status.misses == 1 and effects == ()
    status, _ = step(status, In.OFFER, now=2.0)
    status, effects = step(status, In.NO_ANSWER, now=3.0, no_answer_limit=2)
    assert status.state is S.PAUSED
    assert status.pause_reason == NO_ANSWER_REASON
    assert effects == (AgentPaused("a1", NO_ANSWER_REASON),)


def test_an_answer_resets_consecutive_misses() -> None:
    status = AgentStatus("a1", S.RESERVED, misses=1)
    status, _ = step(status, In.ANSWER, now=1.0)
    assert status.misses == 0


def test_pause_keeps_its_reason_and_unpause_forgets_it() -> None:
    status, _ = step(AgentStatus("a1", S.AVAILABLE), In.PAUSE, now=1.0, reason="lunch")
    assert status.pause_reason == "lunch"
    status, _ = step(status, In.UNPAUSE, now=2.0)
    assert status.pause_reason is None


def test_mermaid_diagram_lists_every_edge() -> None:
    diagram = mermaid_diagram()
    assert diagram.startswith("stateDiagram-v2")
    for (source, event), (target, _) in TRANSITIONS.items():
        assert f"{source.value} --> {target.value}: {event.value}" in diagram
    assert "[misses >= limit]" in diagram


@given(st.lists(st.sampled_from(list(AgentInput)), max_size=60), st.integers(1, 4))
def test_random_inputs_follow_the_table(events: list[AgentInput], limit: int) -> None:
    status = AgentStatus("a1")
    for index, event in enumerate(events):
        if event not in allowed_inputs(status.state):
            with pytest.raises(IllegalTransition):
                step(status, event, now=float(index), no_answer_limit=limit)
            continue
        before = status
        status, effects = step(status, event, now=float(index), no_answer_limit=limit)
        target = TRANSITIONS[(before.state, event)][0]
        diverted = event is In.NO_ANSWER and status.state is S.PAUSED
        assert status.state is target or diverted
        assert 0 <= status.misses <= limit
        assert (status.state is S.PAUSED) == (status.pause_reason is not None)
        assert (status.state is S.WRAP_UP) == (status.wrap_up_until is not None)
        if status.state is S.LOGGED_OUT:
            assert status.misses == 0
        assert all(isinstance(e, WrapUpEnds | AgentPaused) for e in effects)

"""Domain events: one class per kind, one codec to the stored JSON (both shapes), the bus."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.events import (
    EVENT_CLASSES,
    AcdResynced,
    AgentLoggedIn,
    AgentPaused,
    AgentSkillsChanged,
    CallAbandoned,
    CallAnswered,
    CallQueued,
    CallStarted,
    DomainBus,
    EventKind,
    IvrEnded,
    IvrNode,
    UnreadableEvent,
    decode,
    encode,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def roundtrip(event: Any) -> Any:
    stored = encode(event)
    return decode(
        stored.kind, stored.data, ts=stored.ts, mono=stored.mono, call_id=stored.call_id,
        agent_id=stored.agent_id, queue=stored.queue,
    )  # fmt: skip


def test_one_class_per_kind() -> None:
    assert set(EVENT_CLASSES) == set(EventKind)
    assert all(cls.kind is kind for kind, cls in EVENT_CLASSES.items())


def test_an_event_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CallStarted(call_id="c1", ts=datetime(2026, 1, 1))


def test_the_stored_shape_has_lists_and_objects_and_a_version() -> None:
    queued = CallQueued(
        call_id="c1", queue="cards", skills={"credit_card": 4}, priority=50, vip=True,
        fields={"account": "62******1234"}, path=("welcome", "menu"), ts=T0, mono=5.0,
    )  # fmt: skip
    stored = encode(queued)
    assert (stored.kind, stored.call_id, stored.agent_id, stored.queue) == (
        "call.queued", "c1", None, "cards",
    )  # fmt: skip
    assert stored.data == {  # defaults (position 1, resync false ...) are left out
        "v": 2, "skills": {"credit_card": 4}, "priority": 50, "vip": True,
        "fields": {"account": "62******1234"}, "path": ["welcome", "menu"],
    }  # fmt: skip
    assert roundtrip(queued) == queued


def test_an_agent_column_is_also_in_the_data() -> None:
    answered = CallAnswered(call_id="c1", queue="cards", agent_id="1001", wait_s=3.5, ts=T0)
    stored = encode(answered)
    assert (stored.agent_id, stored.data["agent"]) == ("1001", "1001")
    assert roundtrip(answered) == answered


def test_rows_of_the_first_shape_still_read() -> None:
    """What the event log holds from before typed events: joined lists, flat IVR fields."""
    queued = decode(
        "call.queued",
        {"queue": "cards", "skills": "credit_card:4,language_zh:1", "priority": 0,
         "language": None, "vip": False, "ewt_s": None, "position": 2,
         "field.account": "62******1234", "path": "welcome>menu"},
        ts=T0, call_id="c1", queue="cards",
    )  # fmt: skip
    assert queued == CallQueued(
        call_id="c1", queue="cards", skills={"credit_card": 4, "language_zh": 1}, position=2,
        fields={"account": "62******1234"}, path=("welcome", "menu"), ts=T0, mono=queued.mono,
    )  # fmt: skip
    login = decode("agent.logged_in", {"device": "Local/1001@agents", "queues": "cards,loans"},
                   ts=T0, agent_id="1001")  # fmt: skip
    assert login == AgentLoggedIn(
        agent_id="1001",
        device="Local/1001@agents",
        queues=("cards", "loans"),
        ts=T0,
        mono=login.mono,
    )
    resynced = decode("acd.resynced", {"calls": "c1,c2", "agents": ""}, ts=T0)
    assert isinstance(resynced, AcdResynced)
    assert (resynced.calls, resynced.agents) == (("c1", "c2"), ())
    skills = decode("agent.skills_changed", {"skills": "cards:3", "previous": "", "by": "x"},
                    ts=T0, agent_id="1001")  # fmt: skip
    assert isinstance(skills, AgentSkillsChanged)
    assert (dict(skills.skills), dict(skills.previous)) == ({"cards": 3}, {})


def test_an_ivr_step_keeps_its_details() -> None:
    step = IvrNode(call_id="c1", node="menu", event="InputTimedOut", detail={"attempt": 2})
    assert roundtrip(step) == step
    entered = decode("ivr.node", {"node": "menu", "kind": "menu", "event": "NodeEntered",
                                  "seq": 3}, ts=T0, call_id="c1")  # fmt: skip
    assert isinstance(entered, IvrNode)
    assert (entered.node_kind, entered.seq, dict(entered.detail)) == ("menu", 3, {})


@pytest.mark.parametrize(
    ("kind", "data", "problem"),
    [
        ("call.wandered", {}, "unknown event kind"),
        ("call.queued", {}, "call_id is missing"),
        ("call.queued", {"priority": "high"}, "priority: expected a whole number"),
        ("call.completed", {"by": "martians"}, "by:"),
        ("call.queued", {"skills": "a:b"}, "bad skill"),
        ("call.queued", {"skills": [1]}, "expected skills"),
        ("acd.resynced", {"calls": [1, 2]}, "expected a list of ids"),
        ("call.queued", ["not", "an", "object"], "not an object"),
    ],
)
def test_a_row_that_is_not_an_event_is_refused_with_the_reason(
    kind: str, data: Any, problem: str
) -> None:
    with pytest.raises(UnreadableEvent, match=problem):
        decode(kind, data, ts=T0, call_id="c1" if "call_id" not in problem else None,
               queue="cards", agent_id="1001")  # fmt: skip


def test_none_is_not_stored_and_reads_back_as_the_default() -> None:
    abandoned = CallAbandoned(call_id="c1", queue="cards", wait_s=None, ts=T0)
    assert encode(abandoned).data == {"v": 2}
    assert roundtrip(abandoned) == abandoned


_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)


@given(
    skills=st.dictionaries(st.text("abc_", min_size=1, max_size=5), st.integers(1, 10)),
    fields=st.dictionaries(st.text("abcxyz", min_size=1, max_size=5), _text),
    path=st.none() | st.lists(st.text("abc", min_size=1, max_size=4), max_size=4).map(tuple),
    wait=st.none() | st.floats(0, 1e6),
)
def test_every_queued_call_survives_the_codec(
    skills: dict[str, int], fields: dict[str, str], path: tuple[str, ...] | None, wait: float | None
) -> None:
    queued = CallQueued(call_id="c", queue="q", skills=skills, fields=fields, path=path,
                        wait_s=wait, ts=T0, mono=1.0)  # fmt: skip
    assert roundtrip(queued) == queued


def test_every_kind_roundtrips_with_its_required_fields() -> None:
    samples = [
        IvrEnded(call_id="c", outcome="queue", path=("a", "b"), ts=T0, mono=1.0),
        AgentPaused(agent_id="1001", reason="lunch", ts=T0, mono=1.0),
        AcdResynced(calls=("c1",), agents=("1001", "1002"), ts=T0, mono=1.0),
    ]
    for event in samples:
        assert roundtrip(event) == event


async def test_subscribers_get_their_kinds_in_order() -> None:
    bus = DomainBus()
    calls = bus.subscribe({"call.queued", "call.answered"})
    everything = bus.subscribe()
    bus.publish(CallQueued(call_id="c1", queue="cards"))
    bus.publish(AgentPaused(agent_id="1001", reason="lunch"))
    bus.publish(CallAnswered(call_id="c1", queue="cards", agent_id="1001"))
    bus.close()
    assert [e.kind async for e in calls] == [EventKind.CALL_QUEUED, EventKind.CALL_ANSWERED]
    assert len([e async for e in everything]) == 3


async def test_slow_subscriber_loses_its_own_events_only() -> None:
    bus = DomainBus()
    slow = bus.subscribe(maxsize=2)
    fast = bus.subscribe(maxsize=100)
    for n in range(5):
        bus.publish(CallStarted(call_id=f"c{n}"))  # never awaits
    assert slow.dropped == 3
    kept = [slow.get_nowait(), slow.get_nowait()]
    assert [event.call_id for event in kept if event is not None] == ["c3", "c4"]
    assert fast.dropped == 0
    assert bus.dropped == 3
    fast.unsubscribe()
    await asyncio.sleep(0)

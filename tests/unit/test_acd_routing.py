"""Routing rules through the engine's inputs (time is passed in; no clock anywhere)."""

from __future__ import annotations

from collections.abc import Sequence

from acd.agent_state import AgentPaused, AgentState, WrapUpEnds
from acd.effects import (
    CallArrived,
    Effect,
    Ignored,
    OfferCall,
    OfferWithdrawn,
    OverflowCall,
    Rejected,
    WakeUpAt,
)
from acd.engine import AcdEngine
from acd.model import (
    AcdConfig,
    Agent,
    OverflowRule,
    OverflowTarget,
    Queue,
    RelaxationStep,
    Strategy,
)


def make_engine(queues: Sequence[Queue], agents: Sequence[Agent]) -> AcdEngine:
    return AcdEngine(AcdConfig(queues=tuple(queues), agents=tuple(agents)))


def agent(agent_id: str, wrap_up_s: float = 0.0, limit: int = 2, **skills: int) -> Agent:
    return Agent(
        id=agent_id,
        device=f"PJSIP/{agent_id}",
        skills=skills,
        wrap_up_s=wrap_up_s,
        no_answer_limit=limit,
    )


def offers(effects: Sequence[Effect]) -> list[tuple[str, str]]:
    return [(e.call_id, e.agent_id) for e in effects if isinstance(e, OfferCall)]


def arrive(
    engine: AcdEngine,
    call_id: str,
    queue: str,
    at: float,
    priority: int = 0,
    language: str | None = None,
    **skills: int,
) -> list[Effect]:
    return engine.call_arrived(CallArrived(call_id, queue, at, priority, skills, language), now=at)


def position(engine: AcdEngine, call_id: str, now: float) -> int:
    announcement = engine.announcement(call_id, now=now)
    assert announcement is not None, f"{call_id} is not waiting"
    return announcement.position


CARD = Queue(id="card", skills={"card": 5})
BANK = Queue(id="bank", skills={"bank": 1})


def test_call_goes_to_the_longest_idle_eligible_agent() -> None:
    engine = make_engine([CARD], [agent("a1", card=5), agent("a2", card=9), agent("a3", bank=9)])
    engine.login("a2", now=1.0)
    engine.login("a1", now=2.0)
    engine.login("a3", now=0.5)  # idle longest but lacks the skill
    assert offers(arrive(engine, "c1", "card", at=10.0)) == [("c1", "a2")]


def test_skill_levels_are_respected() -> None:
    engine = make_engine([CARD], [agent("low", card=4)])
    engine.login("low", now=0.0)
    assert offers(arrive(engine, "c1", "card", at=1.0)) == []
    assert engine.calls["c1"].state == "waiting"


def test_best_skill_strategy_prefers_higher_levels_then_idle() -> None:
    queue = Queue(id="card", skills={"card": 5}, strategy=Strategy.BEST_SKILL)
    engine = make_engine([queue], [agent("a1", card=6), agent("a2", card=9), agent("a3", card=9)])
    engine.login("a1", now=0.0)
    engine.login("a3", now=2.0)
    engine.login("a2", now=1.0)
    assert offers(arrive(engine, "c1", "card", at=5.0)) == [("c1", "a2")]


def test_fewest_calls_strategy() -> None:
    queue = Queue(id="card", skills={"card": 1}, strategy=Strategy.FEWEST_CALLS)
    engine = make_engine([queue], [agent("a1", card=1), agent("a2", card=1)])
    engine.login("a1", now=0.0)
    engine.login("a2", now=1.0)
    arrive(engine, "c1", "card", at=2.0)
    engine.offer_answered("c1", "a1", now=3.0)
    engine.call_ended("c1", now=4.0)  # a1 free again, idle since 4.0, one call answered
    assert offers(arrive(engine, "c2", "card", at=5.0)) == [("c2", "a2")]


def test_language_is_a_skill() -> None:
    engine = make_engine(
        [BANK], [agent("zh", bank=5, language_zh=9), agent("en", bank=5, language_en=9)]
    )
    engine.login("zh", now=0.0)
    engine.login("en", now=1.0)
    assert offers(arrive(engine, "c1", "bank", at=2.0, language="en")) == [("c1", "en")]


def test_vip_first_then_oldest() -> None:
    engine = make_engine([BANK], [agent("a1", bank=1)])
    engine.login("a1", now=0.0)
    engine.pause("a1", "meeting", now=0.5)
    arrive(engine, "old", "bank", at=1.0)
    arrive(engine, "vip", "bank", at=2.0, priority=50)
    arrive(engine, "new", "bank", at=3.0)
    assert offers(engine.unpause("a1", now=4.0)) == [("vip", "a1")]
    engine.offer_answered("vip", "a1", now=5.0)
    assert offers(engine.call_ended("vip", now=6.0)) == [("old", "a1")]


def test_oldest_caller_first_across_the_agents_queues() -> None:
    engine = make_engine([CARD, BANK], [agent("both", card=5, bank=5)])
    engine.login("both", now=0.0)
    engine.pause("both", "break", now=0.0)
    arrive(engine, "bank-new", "bank", at=20.0)
    arrive(engine, "card-old", "card", at=10.0)
    arrive(engine, "bank-newer", "bank", at=30.0)
    assert offers(engine.unpause("both", now=40.0)) == [("card-old", "both")]
    trace = engine.traces("card-old")[-1]
    assert trace.kind == "call_for_agent" and trace.agent_id == "both"
    assert {c.id for c in trace.candidates} == {"card-old", "bank-new"}


def test_queue_weight_scales_the_wait() -> None:
    heavy = Queue(id="vipq", skills={"bank": 1}, weight=3.0)
    engine = make_engine([BANK, heavy], [agent("a1", bank=1)])
    engine.login("a1", now=0.0)
    engine.pause("a1", "break", now=0.0)
    arrive(engine, "plain", "bank", at=0.0)  # waited 30 s at t=30
    arrive(engine, "weighted", "vipq", at=15.0)  # waited 15 s × 3 = 45
    assert offers(engine.unpause("a1", now=30.0)) == [("weighted", "a1")]


def test_relaxation_lowers_the_level_after_30_seconds() -> None:
    queue = Queue(
        id="card", skills={"card": 5}, relaxation=(RelaxationStep(after_s=30, min_level=3),)
    )
    engine = make_engine([queue], [agent("junior", card=3)])
    engine.login("junior", now=0.0)
    effects = arrive(engine, "c1", "card", at=100.0)
    assert offers(effects) == [] and WakeUpAt(130.0) in effects
    assert offers(engine.tick(129.9)) == []
    effects = engine.tick(130.0)
    assert offers(effects) == [("c1", "junior")]
    assert engine.traces("c1")[-1].step == 1
    assert "levels >= 3" in engine.traces("c1")[-1].rule


def test_relaxation_applies_even_when_the_tick_is_late() -> None:
    queue = Queue(
        id="card", skills={"card": 5}, relaxation=(RelaxationStep(after_s=30, min_level=3),)
    )
    engine = make_engine([queue], [agent("junior", card=3)])
    engine.login("junior", now=0.0)
    engine.pause("junior", "break", now=0.0)
    arrive(engine, "c1", "card", at=100.0)
    # No tick at 130: the next input (an unpause at 200) applies the due step first.
    assert offers(engine.unpause("junior", now=200.0)) == [("c1", "junior")]


def test_relaxation_lets_in_agents_of_another_queue() -> None:
    queue = Queue(
        id="card",
        skills={"card": 5},
        relaxation=(RelaxationStep(after_s=90, also_queues=("bank",)),),
    )
    engine = make_engine(
        [queue, BANK], [agent("teller", bank=2, language_zh=5), agent("en", bank=2)]
    )
    engine.login("teller", now=0.0)
    engine.login("en", now=0.0)
    arrive(engine, "c1", "card", at=10.0, language="zh")
    assert offers(engine.tick(99.0)) == []
    assert offers(engine.tick(100.0)) == [("c1", "teller")]  # still needs the language


def test_no_answer_returns_the_call_to_its_place_in_line() -> None:
    engine = make_engine([BANK], [agent("a1", bank=1, limit=1), agent("a2", bank=1)])
    engine.login("a1", now=0.0)
    engine.login("a2", now=0.0)
    engine.pause("a2", "break", now=0.0)
    arrive(engine, "first", "bank", at=1.0)  # offered to a1
    arrive(engine, "second", "bank", at=2.0)
    effects = engine.offer_failed("first", "a1", now=16.0)
    assert AgentPaused("a1", "no-answer") in effects
    assert engine.agents["a1"].state is AgentState.PAUSED
    assert position(engine, "first", now=16.0) == 1
    assert offers(engine.unpause("a2", now=17.0)) == [("first", "a2")]


def test_no_answer_does_not_ring_the_same_agent_again_for_that_call() -> None:
    engine = make_engine([BANK], [agent("a1", bank=1, limit=3)])
    engine.login("a1", now=0.0)
    arrive(engine, "c1", "bank", at=1.0)
    arrive(engine, "c2", "bank", at=2.0)
    effects = engine.offer_failed("c1", "a1", now=16.0)
    assert offers(effects) == [("c2", "a1")]
    assert engine.calls["c1"].state == "waiting"


def test_abandon_removes_the_waiting_call() -> None:
    engine = make_engine([BANK], [agent("a1", bank=1)])
    arrive(engine, "c1", "bank", at=1.0)
    arrive(engine, "c2", "bank", at=2.0)
    engine.call_abandoned("c1", now=5.0)
    assert "c1" not in engine.calls
    assert offers(engine.login("a1", now=6.0)) == [("c2", "a1")]


def test_abandon_while_ringing_withdraws_the_offer_and_frees_the_agent() -> None:
    engine = make_engine([BANK], [agent("a1", bank=1)])
    engine.login("a1", now=0.0)
    arrive(engine, "c1", "bank", at=1.0)
    engine.pause("a1", "x", now=1.5)  # rejected: the phone is ringing
    arrive(engine, "c2", "bank", at=2.0)
    effects = engine.call_abandoned("c1", now=3.0)
    assert OfferWithdrawn("c1", "a1", "caller hung up") in effects
    assert offers(effects) == [("c2", "a1")]


def test_wrap_up_is_honoured() -> None:
    engine = make_engine([BANK], [agent("a1", wrap_up_s=30, bank=1)])
    engine.login("a1", now=0.0)
    arrive(engine, "c1", "bank", at=1.0)
    engine.offer_answered("c1", "a1", now=5.0)
    effects = engine.call_ended("c1", now=65.0)
    assert WrapUpEnds("a1", 95.0) in effects
    assert offers(arrive(engine, "c2", "bank", at=70.0)) == []
    assert isinstance(engine.wrap_up_done("a1", now=80.0)[0], Ignored)  # early: stale timer
    assert offers(engine.wrap_up_done("a1", now=95.0)) == [("c2", "a1")]


def test_stale_and_duplicate_events_are_ignored() -> None:
    engine = make_engine([BANK], [agent("a1", bank=1), agent("a2", bank=1)])
    engine.login("a1", now=0.0)
    arrive(engine, "c1", "bank", at=1.0)
    assert isinstance(arrive(engine, "c1", "bank", at=1.5)[0], Ignored)
    assert isinstance(engine.offer_answered("c1", "a2", now=2.0)[0], Ignored)
    engine.offer_answered("c1", "a1", now=2.0)
    assert isinstance(engine.offer_answered("c1", "a1", now=2.1)[0], Ignored)
    assert isinstance(engine.offer_failed("c1", "a1", now=2.2)[0], Ignored)
    assert isinstance(engine.call_abandoned("nope", now=3.0)[0], Ignored)
    assert isinstance(engine.logout("a1", now=3.0)[0], Rejected)  # on a call


def test_max_wait_overflows_to_another_queue_keeping_the_place() -> None:
    rule = OverflowRule(
        when="max_wait", threshold_s=60, target=OverflowTarget(kind="queue", name="bank")
    )
    card = Queue(id="card", skills={"card": 5}, overflow=(rule,))
    engine = make_engine([card, BANK], [agent("teller", bank=1)])
    engine.login("teller", now=0.0)
    engine.pause("teller", "b", now=0.0)
    arrive(engine, "c1", "card", at=0.0)
    arrive(engine, "b1", "bank", at=30.0)
    effects = engine.tick(60.0)
    assert [e.reason for e in effects if isinstance(e, OverflowCall)] == ["max_wait"]
    assert engine.calls["c1"].entry.queue_id == "bank"
    assert offers(engine.unpause("teller", now=61.0)) == [("c1", "teller")]


def test_ewt_overflow_to_voicemail_at_arrival() -> None:
    rule = OverflowRule(
        when="ewt", threshold_s=300, target=OverflowTarget(kind="voicemail", name="bank")
    )
    queue = Queue(id="bank", skills={"bank": 1}, prior_handle_s=200, overflow=(rule,))
    engine = make_engine([queue], [agent("a1", bank=1)])
    engine.login("a1", now=0.0)
    arrive(engine, "c0", "bank", at=0.0)  # a1 busy with it
    arrive(engine, "c1", "bank", at=1.0)  # EWT 200 s: stays
    effects = arrive(engine, "c2", "bank", at=2.0)  # EWT 400 s: voicemail
    assert [e.target.kind for e in effects if isinstance(e, OverflowCall)] == ["voicemail"]
    assert "c2" not in engine.calls and "c1" in engine.calls


def test_trace_records_candidates_and_rule() -> None:
    engine = make_engine([CARD], [agent("a1", card=5), agent("a2", card=7)])
    engine.login("a1", now=0.0)
    engine.login("a2", now=1.0)
    arrive(engine, "c1", "card", at=2.0)
    (trace,) = engine.traces("c1")
    assert trace.kind == "agent_for_call" and trace.agent_id == "a1"
    assert trace.rule == "queue rule" and trace.strategy == "longest_idle"
    assert trace.candidates[0].id == "a1"
    engine.offer_answered("c1", "a1", now=3.0)
    engine.call_ended("c1", now=4.0)
    assert engine.traces("c1") == (trace,)  # kept after the call ends


def test_calls_relaxing_at_the_same_instant_are_served_best_first() -> None:
    # Found by the property test: the VIP relaxed at the same time as an older normal call.
    bank = Queue(
        id="bank",
        skills={"bank": 1},
        relaxation=(RelaxationStep(after_s=20, also_queues=("card",)),),
    )
    engine = make_engine([CARD, bank], [agent("a0", card=5)])
    engine.login("a0", now=0.0)
    arrive(engine, "normal", "bank", at=0.0)
    arrive(engine, "vip", "bank", at=0.0, priority=50)
    assert offers(engine.tick(25.0)) == [("vip", "a0")]


def test_a_late_no_answer_does_not_make_the_call_rung_meanwhile_an_overtaker() -> None:
    # Found by the property test (its oracle was wrong, not the engine): no tick at 30, so the
    # no-answer at 35 first applies the step due at 30, which offers c3 to a0 and then c4 to
    # a2; only then does c3's ring fail. c3 was ringing, not waiting, when c4 went to a2.
    card = Queue(
        id="card", skills={"card": 5}, relaxation=(RelaxationStep(after_s=30, min_level=2),)
    )
    engine = make_engine(
        [card],
        [agent("a0", limit=1, card=2), agent("a1", limit=1), agent("a2", limit=1, card=2)],
    )
    arrive(engine, "c1", "card", at=0.0)
    arrive(engine, "c2", "card", at=0.0)
    engine.login("a0", now=0.0)
    arrive(engine, "c3", "card", at=0.0)
    engine.login("a2", now=0.0)
    for call_id in ("c4", "c5", "c6"):
        arrive(engine, call_id, "card", at=0.0)
    assert isinstance(engine.wrap_up_done("a0", now=7.0)[0], Ignored)
    engine.call_abandoned("c1", now=14.0)
    engine.call_abandoned("c2", now=21.0)
    assert offers(arrive(engine, "c7", "card", at=28.0)) == []

    effects = engine.offer_failed("c3", "a0", now=35.0)

    # Oldest first at 30: c3 to the longest idle agent (a0, by id), the next oldest to a2.
    assert offers(effects) == [("c3", "a0"), ("c4", "a2")]
    c3_offer, c4_offer = [e.decision_id for e in effects if isinstance(e, OfferCall)]
    assert c3_offer < c4_offer
    assert [t.at for t in engine.traces("c4") if t.decision_id == c4_offer] == [30.0]
    # Then the no-answer: c3 is back at its place (same enqueue time and arrival number).
    assert AgentPaused("a0", "no-answer") in effects
    c3 = engine.calls["c3"]
    assert c3.state == "waiting" and c3.entry.declined_by == {"a0"}
    c5 = engine.calls["c5"].entry
    assert (c3.entry.enqueued_at, c3.entry.seq) < (c5.enqueued_at, c5.seq)
    assert position(engine, "c3", now=35.0) == 1
    # And it is a2's next call, before the younger c5 and c6.
    engine.offer_answered("c4", "a2", now=36.0)
    assert offers(engine.call_ended("c4", now=40.0)) == [("c3", "a2")]


def test_logging_out_and_in_again_at_the_same_instant() -> None:
    # Found by the property test: the new login's heap item tied with the stale one of the
    # logged-out entry (same idle time, same epoch) and the heap compared the two entries.
    engine = make_engine([CARD], [agent("a0", card=5)])
    arrive(engine, "c0", "card", at=0.0)  # builds the signature's heap of available agents
    engine.call_abandoned("c0", now=0.0)
    engine.login("a0", now=0.0)
    engine.logout("a0", now=0.0)
    engine.login("a0", now=0.0)
    assert offers(arrive(engine, "c1", "card", at=0.0)) == [("c1", "a0")]

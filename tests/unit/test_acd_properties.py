"""Property tests: random event sequences against brute-force checks of the engine's promises.

After every input: one offer per call and one call per agent; every call is waiting, offered,
connected or finished (no loss); no available agent is eligible for a waiting call; and when
an agent takes a call, no eligible call of the same or higher priority that waited longer is
left behind.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.agent_state import AgentState
from acd.effects import CallArrived, Effect, Ignored, OfferCall, OverflowCall
from acd.engine import AcdEngine
from acd.indexes import requirement, satisfies
from acd.model import AcdConfig, Agent, OverflowRule, OverflowTarget, Queue, RelaxationStep
from acd.routing import own_requirement

QUEUES = (
    Queue(id="card", skills={"card": 5}, relaxation=(RelaxationStep(after_s=30, min_level=2),)),
    Queue(
        id="bank",
        skills={"bank": 1},
        relaxation=(RelaxationStep(after_s=20, also_queues=("card",)),),
        overflow=(
            OverflowRule(
                when="max_wait", threshold_s=200, target=OverflowTarget(kind="queue", name="card")
            ),
        ),
    ),
    Queue(id="loan", skills={"loan": 3, "bank": 2}),
)
SKILLS = ("card", "bank", "loan", "language_zh")


def agents_strategy() -> st.SearchStrategy[tuple[Agent, ...]]:
    agent = st.builds(
        lambda i, skills, wrap, limit: Agent(
            id=f"a{i}", device=f"PJSIP/{i}", skills=skills, wrap_up_s=wrap, no_answer_limit=limit
        ),
        st.just(0),
        st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=4),
        st.sampled_from([0.0, 5.0]),
        st.integers(1, 3),
    )
    return st.lists(agent, min_size=1, max_size=5).map(
        lambda agents: tuple(a.model_copy(update={"id": f"a{i}"}) for i, a in enumerate(agents))
    )


def eligible(engine: AcdEngine, agent_id: str, call_id: str, at: float | None = None) -> bool:
    """Brute force: may the agent take the call (at its step then, if ``at`` is given)?"""
    record = engine.calls[call_id]
    entry = record.entry
    if agent_id in entry.declined_by:
        return False
    sigs = entry.eligibility
    if at is not None:
        router = engine.router
        step = router.step_for(entry.queue_id, at - record.queue_entered_at)
        queue = router.queues[entry.queue_id]
        own = requirement(own_requirement(queue, record.skills, record.language))
        sigs = router.eligibility(entry.queue_id, step, own, record.language)
    skills = engine.agent_config[agent_id].skills
    return any(satisfies(skills, engine.router.pool.requirements[sig]) for sig in sigs)


def waiting_at(engine: AcdEngine, call_id: str, decision_id: int) -> bool:
    """Was the call waiting when decision ``decision_id`` was taken?

    Every routing decision about a call is in its traces: the last one before ``decision_id``
    either found no agent (the call waited) or offered it to one (it was ringing).
    """
    before = [t for t in engine.traces(call_id) if t.decision_id < decision_id]
    return bool(before) and before[-1].agent_id is None


def check_invariants(
    engine: AcdEngine, effects: list[Effect], live: set[str], arrived: str = ""
) -> None:
    calls = engine.calls
    # No loss: every call not finished is known to the engine, and vice versa.
    assert set(calls) == live
    waiting = [c for c in calls.values() if c.state == "waiting"]
    assert engine.router.calls.count == len(waiting)
    assert sum(engine.lines.waiting(q.id) for q in QUEUES) == len(waiting)
    # One offer per call, one call per agent.
    holders: dict[str, str] = {}
    for record in calls.values():
        if record.state in ("offered", "connected"):
            assert record.agent_id is not None
            assert record.agent_id not in holders, "two calls for one agent"
            holders[record.agent_id] = record.entry.call_id
            expected = AgentState.RESERVED if record.state == "offered" else AgentState.ON_CALL
            assert engine.agents[record.agent_id].state is expected
        else:
            assert record.agent_id is None
    for agent_id, status in engine.agents.items():
        if status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            assert agent_id in holders, "agent busy without a call"
    # Work conservation: no available agent is eligible for a waiting call.
    available = [a for a, s in engine.agents.items() if s.state is AgentState.AVAILABLE]
    for agent_id in available:
        for record in waiting:
            assert not eligible(engine, agent_id, record.entry.call_id), (
                f"{agent_id} idle while {record.entry.call_id} waits"
            )
    # Nobody overtaken: a call given to an agent outranks every call still waiting for it.
    for effect in effects:
        if not isinstance(effect, OfferCall) or effect.call_id not in calls:
            continue
        taken = calls[effect.call_id].entry
        (decided_at,) = [
            t.at for t in engine.traces(effect.call_id) if t.decision_id == effect.decision_id
        ]
        for record in waiting:
            other = record.entry
            # A call that arrived in this input came after decisions due at earlier times;
            # a late tick applies each step at its own time, so judge eligibility then.
            if other.call_id == arrived or not eligible(
                engine, effect.agent_id, other.call_id, decided_at
            ):
                continue
            # A call ringing another agent when this decision was taken was not left behind:
            # it is back in line only because this input's no-answer came after the timers
            # that the input ran first (a late tick).
            if not waiting_at(engine, other.call_id, effect.decision_id):
                continue
            # Equal queue weights: the cross-queue rank is (priority, enqueue time, arrival).
            assert (-other.priority, other.enqueued_at, other.seq) > (
                -taken.priority,
                taken.enqueued_at,
                taken.seq,
            ), f"{other.call_id} overtaken by {taken.call_id} for {effect.agent_id}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=agents_strategy(), data=st.data())
def test_random_event_sequences_keep_every_promise(
    agents: tuple[Agent, ...], data: st.DataObject
) -> None:
    engine = AcdEngine(AcdConfig(queues=QUEUES, agents=agents))
    now = 0.0
    live: set[str] = set()
    next_call = 0
    for _ in range(data.draw(st.integers(5, 60), label="steps")):
        now += data.draw(st.sampled_from([0.0, 1.0, 7.0, 25.0]), label="dt")
        op = data.draw(
            st.sampled_from(
                [
                    "arrive",
                    "arrive",
                    "abandon",
                    "answer",
                    "fail",
                    "end",
                    "wrap",
                    "login",
                    "logout",
                    "pause",
                    "unpause",
                    "tick",
                    "stale",
                ]
            ),
            label="op",
        )
        agent_id = data.draw(st.sampled_from([a.id for a in agents]), label="agent")
        effects: list[Effect] = []
        call_id = ""
        if op == "arrive":
            next_call += 1
            call = CallArrived(
                f"c{next_call}",
                data.draw(st.sampled_from([q.id for q in QUEUES]), label="queue"),
                now - data.draw(st.sampled_from([0.0, 3.0]), label="ivr"),
                data.draw(st.sampled_from([0, 0, 50]), label="priority"),
                language=data.draw(st.sampled_from([None, "zh"]), label="language"),
            )
            effects = engine.call_arrived(call, now)
            live.add(call.call_id)
            call_id = call.call_id
        elif op in ("abandon", "answer", "fail", "end", "stale") and engine.calls:
            call_id = data.draw(st.sampled_from(sorted(engine.calls)), label="call")
            record = engine.calls[call_id]
            holder = record.agent_id or agent_id
            if op == "abandon":
                effects = engine.call_abandoned(call_id, now)
            elif op == "answer":
                effects = engine.offer_answered(call_id, holder, now)
            elif op == "fail":
                effects = engine.offer_failed(call_id, holder, now)
            elif op == "end":
                effects = engine.call_ended(call_id, now)
            else:  # an event for the wrong agent must change nothing
                effects = engine.offer_answered(call_id, agent_id + "x", now)
        elif op == "wrap":
            status = engine.agents.get(agent_id)
            if status is not None and status.wrap_up_until is not None:
                now = max(now, status.wrap_up_until)
            effects = engine.wrap_up_done(agent_id, now)
        elif op == "login":
            effects = engine.login(agent_id, now)
        elif op == "logout":
            effects = engine.logout(agent_id, now)
        elif op == "pause":
            effects = engine.pause(agent_id, "break", now)
        elif op == "unpause":
            effects = engine.unpause(agent_id, now)
        else:
            effects = engine.tick(now)
        for effect in effects:  # calls that left legitimately
            if isinstance(effect, OverflowCall) and effect.target.kind != "queue":
                live.discard(effect.call_id)
        ignored = any(isinstance(e, Ignored) for e in effects)
        if op in ("end", "abandon") and call_id and not ignored:
            live.discard(call_id)
        check_invariants(engine, effects, live, arrived=call_id if op == "arrive" else "")

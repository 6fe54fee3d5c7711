"""Routing decisions: the best agent for a call, the best call for an agent. Pure, no clock.

Rules:
- a call arrives (or relaxes) and agents are free → the best eligible available agent by the
  queue's strategy (``longest_idle``, ``best_skill``, ``fewest_calls``), ties by longest idle,
  then agent id;
- an agent becomes free → among the calls it is eligible for, the highest priority, then the
  longest (queue-weighted) wait across all its queues, then arrival order. With equal weights
  an older caller of the same priority is never overtaken by a newer one for the same agent;
- a call is eligible for an agent when the agent satisfies any requirement of the call's
  current relaxation step (own skills and levels with the language; a step may lower the
  minimum levels, drop skills, or let in the agents of other queues);
- an agent never gets a call it failed to answer while that call keeps waiting (it would ring
  the same phone again); that call stays in line for everyone else.

Invariant kept by the callers of ``call_waiting``/``agent_available`` (the engine): after every
input, no available agent is eligible for a waiting call. That is why a freed agent only needs
the heads of its buckets, and an arriving call only the heads of its signatures' heaps.

Complexity: ``select_agent`` O(e log A) for e = signatures in the call's eligibility (1–3);
``select_call`` O(k + p log n) for k = candidate buckets of the agent and p stale heads popped
(amortised O(1) per call that ever left a bucket). See ``acd.indexes`` for the index upkeep.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from acd.indexes import (
    AgentEntry,
    AgentOrder,
    AgentPool,
    CallEntry,
    Requirement,
    WaitingCalls,
    requirement,
)
from acd.model import LANGUAGE_SKILL_LEVEL, Queue, Strategy, language_skill


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    key: tuple[float | int | str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class DecisionTrace:
    """Why a routing decision went the way it did (kept per call, readable through the API)."""

    decision_id: int
    at: float
    kind: Literal["agent_for_call", "call_for_agent"]
    call_id: str | None
    agent_id: str | None
    queue_id: str | None
    step: int  # relaxation step in force for the chosen call (0: the queue's own rule)
    rule: str
    strategy: str
    candidates: tuple[Candidate, ...]
    reason: str


def own_requirement(
    queue: Queue, skills: Mapping[str, int], language: str | None
) -> dict[str, int]:
    """The queue's skills, the call's own (from the IVR), and its language: highest level wins."""
    need = dict(queue.skills)
    for skill, level in skills.items():
        need[skill] = max(level, need.get(skill, 0))
    if language:
        lang = language_skill(language)
        need[lang] = max(LANGUAGE_SKILL_LEVEL, need.get(lang, 0))
    return need


class Router:
    def __init__(self, queues: Iterable[Queue]) -> None:
        self.queues: dict[str, Queue] = {q.id: q for q in queues}
        self.pool = AgentPool()
        self.calls = WaitingCalls()
        self._orders: dict[str, AgentOrder] = {
            q.id: (q.strategy, tuple(sorted(q.skills)) if q.strategy is Strategy.BEST_SKILL else ())
            for q in self.queues.values()
        }
        self._eligibility: dict[tuple[str, int, Requirement, str | None], tuple[int, ...]] = {}
        self._decisions = 0

    # --- relaxation ---------------------------------------------------------------------------

    def step_for(self, queue_id: str, waited_s: float) -> int:
        steps = self.queues[queue_id].relaxation
        step = 0
        while step < len(steps) and steps[step].after_s <= waited_s:
            step += 1
        return step

    def next_step_at(self, queue_id: str, step: int, entered_at: float) -> float | None:
        steps = self.queues[queue_id].relaxation
        return entered_at + steps[step].after_s if step < len(steps) else None

    def step_rule(self, queue_id: str, step: int) -> str:
        if step == 0:
            return "queue rule"
        rule = self.queues[queue_id].relaxation[step - 1]
        parts = [f"step {step} (after {rule.after_s:g} s)"]
        if rule.min_level is not None:
            parts.append(f"levels >= {rule.min_level} accepted")
        if rule.drop_skills:
            parts.append("dropped " + ",".join(rule.drop_skills))
        if rule.also_queues:
            parts.append("agents of " + ",".join(rule.also_queues))
        return "; ".join(parts)

    def eligibility(
        self, queue_id: str, step: int, own: Requirement, language: str | None
    ) -> tuple[int, ...]:
        key = (queue_id, step, own, language)
        cached = self._eligibility.get(key)
        if cached is not None:
            return cached
        needs = [own]
        if step > 0:
            rule = self.queues[queue_id].relaxation[step - 1]
            cap = rule.min_level
            needs = [
                tuple(
                    (skill, min(level, cap) if cap is not None else level)
                    for skill, level in own
                    if skill not in rule.drop_skills
                )
            ]
            for other in rule.also_queues:
                other_need = dict(self.queues[other].skills)
                lang = language_skill(language) if language else None
                if lang and lang not in rule.drop_skills:
                    other_need[lang] = max(LANGUAGE_SKILL_LEVEL, other_need.get(lang, 0))
                needs.append(requirement(other_need))
        sigs = tuple(sorted({self.pool.signature(need) for need in needs}))
        self._eligibility[key] = sigs
        return sigs

    # --- decisions ------------------------------------------------------------------------------

    def select_agent(self, call: CallEntry, now: float) -> tuple[AgentEntry | None, DecisionTrace]:
        """Best available agent for ``call`` by its queue's strategy; does not change state."""
        order = self._orders[call.queue_id]
        best: AgentEntry | None = None
        best_key: tuple[float, float, str] | None = None
        candidates: list[Candidate] = []
        for sig in call.eligibility:
            agent = self._best_available(sig, order, call.declined_by)
            if agent is None:
                continue
            key = agent.order_key(order)
            candidates.append(Candidate(agent.agent_id, key, f"head of signature {sig}"))
            if best_key is None or key < best_key:
                best, best_key = agent, key
        if best is None:
            reason = "no eligible agent available; the call waits"
        else:
            reason = (
                f"{order[0].value}: best of {len(candidates)} head(s), "
                f"idle since {best.available_since:g}"
            )
        return best, self._trace(
            now, "agent_for_call", call, best, order[0].value, tuple(candidates), reason
        )

    def select_call(self, agent: AgentEntry, now: float) -> tuple[CallEntry | None, DecisionTrace]:
        """Best waiting call ``agent`` may take (k-way merge of bucket heads); no state change."""
        best: CallEntry | None = None
        best_rank: tuple[int, float, float, int] | None = None
        candidates: list[Candidate] = []
        for bucket in self.calls.candidate_buckets(agent):
            if bucket.live == 0:
                continue
            call = bucket.head(agent.declined)
            if call is None:
                continue
            rank = call.rank(now)
            candidates.append(Candidate(call.call_id, rank, f"head of {bucket.queue_id}"))
            if best_rank is None or rank < best_rank:
                best, best_rank = call, rank
        if best is None:
            reason = "no eligible call waiting; the agent becomes available"
        else:
            reason = (
                f"priority {best.priority}, waited {now - best.enqueued_at:g} s "
                f"(weight {best.weight:g}); best of {len(candidates)} queue head(s)"
            )
        return best, self._trace(
            now,
            "call_for_agent",
            best,
            agent,
            "priority_then_longest_wait",
            tuple(candidates),
            reason,
        )

    # --- inputs -------------------------------------------------------------------------------

    def call_waiting(self, call: CallEntry, now: float) -> tuple[AgentEntry | None, DecisionTrace]:
        """A call needs an agent: returns the chosen one, or files the call in its bucket."""
        agent, trace = self.select_agent(call, now)
        if agent is None:
            self.calls.insert(call)
        else:
            self.pool.mark_unavailable(agent.agent_id)
        return agent, trace

    def agent_available(self, agent_id: str, now: float) -> tuple[CallEntry | None, DecisionTrace]:
        """An agent is free: returns the call it takes, or files it among available agents."""
        agent = self.pool.agents[agent_id]
        call, trace = self.select_call(agent, now)
        if call is None:
            self.pool.mark_available(agent_id, now)
        else:
            self.calls.remove(call)
        return call, trace

    def agent_unavailable(self, agent_id: str) -> None:
        self.pool.mark_unavailable(agent_id)

    # --- helpers ------------------------------------------------------------------------------

    def _best_available(self, sig: int, order: AgentOrder, skip: set[str]) -> AgentEntry | None:
        head = self.pool.best_available(sig, order)
        if head is None or head.agent_id not in skip:
            return head
        # Rare: the head failed to answer this very call; look past such agents only.
        heap = self.pool.heap(sig, order)
        popped = []
        found: AgentEntry | None = None
        while heap:
            item = heapq.heappop(heap)
            entry = item[2]
            if not (entry.available and entry.epoch == item[1]):
                continue
            popped.append(item)
            if entry.agent_id not in skip:
                found = entry
                break
        for item in popped:
            heapq.heappush(heap, item)
        return found

    def _trace(
        self,
        now: float,
        kind: Literal["agent_for_call", "call_for_agent"],
        call: CallEntry | None,
        agent: AgentEntry | None,
        strategy: str,
        candidates: tuple[Candidate, ...],
        reason: str,
    ) -> DecisionTrace:
        self._decisions += 1
        return DecisionTrace(
            decision_id=self._decisions,
            at=now,
            kind=kind,
            call_id=call.call_id if call else None,
            agent_id=agent.agent_id if agent else None,
            queue_id=call.queue_id if call else None,
            step=call.step if call else 0,
            rule=self.step_rule(call.queue_id, call.step) if call else "",
            strategy=strategy,
            candidates=candidates,
            reason=reason,
        )

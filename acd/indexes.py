"""Routing indexes: who can take what, kept sorted so a decision only looks at a few heads.

Vocabulary:
- a *requirement* is a sorted tuple of ``(skill, min_level)``; an agent *satisfies* it when
  each of its levels is at least the minimum. Requirements are interned as *signatures* (ints);
- a call's *eligibility* at its current relaxation step is a tuple of signatures (its own
  requirement, plus the requirements of queues the step lets in); an agent may take the call
  when it satisfies any of them;
- a *bucket* holds the waiting calls of one ``(queue, eligibility)``, as a heap keyed by
  ``(-priority, enqueued_at, seq)``.

Indexes and their costs (A logged-in agents, S signatures, B buckets, n calls in a bucket):
- ``AgentPool.members[sig]``: logged-in agents satisfying ``sig``. Filled when a signature is
  first seen (O(A), once per distinct requirement) and at login (O(S) checks of a few skills);
- ``AgentPool`` available heaps per ``(sig, order)``: available agents satisfying ``sig`` in the
  order of a strategy. Becoming available pushes into the heaps of the agent's signatures,
  O(s log A) for s = the agent's signatures; becoming unavailable bumps an epoch (O(1)) and
  stale entries are dropped when they surface (amortised O(log A));
- ``WaitingCalls.sig_buckets[sig]``: buckets whose eligibility contains ``sig``. An agent's
  candidate buckets are the union over its signatures, cached per agent until a new bucket
  appears.

So a decision costs: call arrives → one heap peek per signature of its eligibility (usually
1–3); agent frees → one heap peek per candidate bucket (the k-way merge of heads), plus
amortised stale pops. Nothing iterates over all agents or all calls.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from acd.model import Strategy

Requirement = tuple[tuple[str, int], ...]
# How available agents are ordered in a heap: (strategy, skills scored for best_skill).
AgentOrder = tuple[Strategy, tuple[str, ...]]
# Rebuild a heap when it holds more than this many stale entries beyond its live ones.
_COMPACT_SLACK = 256


def requirement(skills: Mapping[str, int]) -> Requirement:
    return tuple(sorted(skills.items()))


def satisfies(skills: Mapping[str, int], need: Requirement) -> bool:
    return all(skills.get(skill, 0) >= level for skill, level in need)


@dataclass(slots=True, eq=False)
class AgentEntry:
    """Routing view of one logged-in agent (mutable; owned by ``AgentPool``)."""

    agent_id: str
    skills: dict[str, int]
    signatures: list[int] = field(default_factory=list)
    available: bool = False
    available_since: float = 0.0
    # Set from a pool-wide counter on every availability change; heap items carry it. Unique
    # across entries, so the stale items of an agent that logged out and back in at the same
    # instant never tie with the new entry's (a tie would compare AgentEntry objects).
    epoch: int = 0
    calls_answered: int = 0
    declined: set[str] = field(default_factory=set)  # waiting calls it failed to answer
    bucket_cache_generation: int = -1
    bucket_cache: list[Bucket] = field(default_factory=list)

    def order_key(self, order: AgentOrder) -> tuple[float, float, str]:
        strategy, scored = order
        if strategy is Strategy.BEST_SKILL:
            primary = -float(sum(self.skills.get(skill, 0) for skill in scored))
        elif strategy is Strategy.FEWEST_CALLS:
            primary = float(self.calls_answered)
        else:
            primary = 0.0
        # Ties by longest idle, then by id so decisions are reproducible.
        return (primary, self.available_since, self.agent_id)


_AgentHeapItem = tuple[tuple[float, float, str], int, AgentEntry]


class AgentPool:
    def __init__(self) -> None:
        self.agents: dict[str, AgentEntry] = {}
        self.signature_ids: dict[Requirement, int] = {}
        self.requirements: list[Requirement] = []
        self.members: list[set[str]] = []
        self._heaps: dict[tuple[int, AgentOrder], list[_AgentHeapItem]] = {}
        self._heaps_by_sig: list[list[tuple[AgentOrder, list[_AgentHeapItem]]]] = []
        self._epochs = itertools.count(1)

    # --- signatures -------------------------------------------------------------------------

    def signature(self, need: Requirement) -> int:
        sig = self.signature_ids.get(need)
        if sig is not None:
            return sig
        sig = len(self.requirements)
        self.signature_ids[need] = sig
        self.requirements.append(need)
        self._heaps_by_sig.append([])
        matching = {a.agent_id for a in self.agents.values() if satisfies(a.skills, need)}
        self.members.append(matching)
        for agent_id in matching:
            self.agents[agent_id].signatures.append(sig)
        return sig

    # --- agents -----------------------------------------------------------------------------

    def add_agent(self, agent_id: str, skills: Mapping[str, int], calls_answered: int = 0) -> None:
        entry = AgentEntry(agent_id, dict(skills), calls_answered=calls_answered)
        for sig, need in enumerate(self.requirements):
            if satisfies(entry.skills, need):
                entry.signatures.append(sig)
                self.members[sig].add(agent_id)
        self.agents[agent_id] = entry

    def remove_agent(self, agent_id: str) -> None:
        entry = self.agents.pop(agent_id)
        entry.epoch = next(self._epochs)
        entry.available = False
        for sig in entry.signatures:
            self.members[sig].discard(agent_id)

    def mark_available(self, agent_id: str, now: float) -> None:
        entry = self.agents[agent_id]
        entry.available = True
        entry.available_since = now
        entry.epoch = next(self._epochs)
        for sig in entry.signatures:
            for order, heap in self._heaps_by_sig[sig]:
                self._push(heap, entry, order)

    def mark_unavailable(self, agent_id: str) -> None:
        entry = self.agents.get(agent_id)
        if entry is not None and entry.available:
            entry.available = False
            entry.epoch = next(self._epochs)

    # --- queries ----------------------------------------------------------------------------

    def heap(self, sig: int, order: AgentOrder) -> list[_AgentHeapItem]:
        heap = self._heaps.get((sig, order))
        return self._build_heap(sig, order) if heap is None else heap

    def best_available(self, sig: int, order: AgentOrder) -> AgentEntry | None:
        heap = self.heap(sig, order)
        while heap:
            _, epoch, entry = heap[0]
            if entry.available and entry.epoch == epoch:
                return entry
            heapq.heappop(heap)
        return None

    def _push(self, heap: list[_AgentHeapItem], entry: AgentEntry, order: AgentOrder) -> None:
        heapq.heappush(heap, (entry.order_key(order), entry.epoch, entry))
        if len(heap) > 2 * len(self.agents) + _COMPACT_SLACK:
            live = [item for item in heap if item[2].available and item[2].epoch == item[1]]
            heapq.heapify(live)
            heap[:] = live

    def _build_heap(self, sig: int, order: AgentOrder) -> list[_AgentHeapItem]:
        # Once per (signature, strategy): later availability changes keep it current.
        heap = [
            (entry.order_key(order), entry.epoch, entry)
            for agent_id in self.members[sig]
            if (entry := self.agents[agent_id]).available
        ]
        heapq.heapify(heap)
        self._heaps[(sig, order)] = heap
        self._heaps_by_sig[sig].append((order, heap))
        return heap

    def eligible_count(self, sigs: Sequence[int], exclude: set[str]) -> int:
        """Logged-in agents satisfying any of ``sigs``, less ``exclude`` (the wait estimate)."""
        if len(sigs) == 1:
            members = self.members[sigs[0]]
            # Set intersection walks the smaller set: the paused ones, usually.
            return len(members) - len(members & exclude)
        seen: set[str] = set()
        for sig in sigs:
            seen |= self.members[sig]
        return len(seen - exclude)


@dataclass(slots=True, eq=False)
class CallEntry:
    """Routing view of one call that waits or rings (mutable; owned by ``WaitingCalls``)."""

    call_id: str
    queue_id: str
    priority: int
    enqueued_at: float  # kept through no-answer and overflow: the place in line
    seq: int  # arrival order, breaks ties between equal enqueue times
    weight: float = 1.0
    step: int = 0
    eligibility: tuple[int, ...] = ()
    bucket: Bucket | None = None
    version: int = 0  # bumped whenever the call leaves a bucket; heap entries carry it
    declined_by: set[str] = field(default_factory=set)

    def heap_key(self) -> tuple[int, float, int]:
        return (-self.priority, self.enqueued_at, self.seq)

    def rank(self, now: float) -> tuple[int, float, float, int]:
        """Across queues: priority, then the longest (weighted) wait, then arrival."""
        return (-self.priority, -(now - self.enqueued_at) * self.weight, self.enqueued_at, self.seq)


_CallHeapItem = tuple[tuple[int, float, int], int, CallEntry]


@dataclass(slots=True, eq=False)
class Bucket:
    queue_id: str
    eligibility: tuple[int, ...]
    heap: list[_CallHeapItem] = field(default_factory=list)
    live: int = 0

    def head(self, skip: set[str]) -> CallEntry | None:
        """Best waiting call whose id is not in ``skip`` (calls this agent failed to answer)."""
        heap = self.heap
        while heap:
            _, version, call = heap[0]
            if call.bucket is self and call.version == version:
                break
            heapq.heappop(heap)
        else:
            return None
        call = heap[0][2]
        if call.call_id not in skip:
            return call
        # Rare: look past the calls this agent declined (at most len(skip) of them).
        popped: list[_CallHeapItem] = []
        found: CallEntry | None = None
        while heap:
            item = heapq.heappop(heap)
            _, version, candidate = item
            if candidate.bucket is not self or candidate.version != version:
                continue
            popped.append(item)
            if candidate.call_id not in skip:
                found = candidate
                break
        for item in popped:
            heapq.heappush(heap, item)
        return found


class WaitingCalls:
    def __init__(self) -> None:
        self.buckets: dict[tuple[str, tuple[int, ...]], Bucket] = {}
        self.sig_buckets: dict[int, list[Bucket]] = {}
        self.generation = 0  # bumped when a bucket appears; invalidates agents' caches
        self.count = 0

    def insert(self, call: CallEntry) -> None:
        key = (call.queue_id, call.eligibility)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = Bucket(call.queue_id, call.eligibility)
            self.buckets[key] = bucket
            for sig in call.eligibility:
                self.sig_buckets.setdefault(sig, []).append(bucket)
            self.generation += 1
        call.bucket = bucket
        bucket.live += 1
        self.count += 1
        heapq.heappush(bucket.heap, (call.heap_key(), call.version, call))
        if len(bucket.heap) > 2 * bucket.live + _COMPACT_SLACK:
            live = [it for it in bucket.heap if it[2].bucket is bucket and it[2].version == it[1]]
            heapq.heapify(live)
            bucket.heap[:] = live

    def remove(self, call: CallEntry) -> None:
        if call.bucket is not None:
            call.bucket.live -= 1
            self.count -= 1
            call.bucket = None
        call.version += 1

    def candidate_buckets(self, agent: AgentEntry) -> list[Bucket]:
        if agent.bucket_cache_generation != self.generation:
            seen: dict[int, Bucket] = {}
            for sig in agent.signatures:
                for bucket in self.sig_buckets.get(sig, ()):
                    seen[id(bucket)] = bucket
            agent.bucket_cache = list(seen.values())
            agent.bucket_cache_generation = self.generation
        return agent.bucket_cache


class QueueLines:
    """Per queue and priority, the sorted ``(enqueued_at, seq)`` of calls waiting in line.

    Gives a caller's position in its queue in O(P + log n) (P = distinct priorities waiting)
    for announcements and the wait estimate; insert/remove are a bisect and a memmove.
    """

    def __init__(self) -> None:
        self._lines: dict[str, dict[int, list[tuple[float, int]]]] = {}

    def add(self, call: CallEntry) -> None:
        line = self._lines.setdefault(call.queue_id, {}).setdefault(call.priority, [])
        bisect.insort(line, (call.enqueued_at, call.seq))

    def discard(self, call: CallEntry) -> None:
        line = self._lines.get(call.queue_id, {}).get(call.priority)
        if not line:
            return
        key = (call.enqueued_at, call.seq)
        index = bisect.bisect_left(line, key)
        if index < len(line) and line[index] == key:
            del line[index]

    def position(self, call: CallEntry) -> int:
        """1-based place in its queue's line (higher priorities first, then arrival)."""
        by_priority = self._lines.get(call.queue_id, {})
        ahead = sum(len(line) for prio, line in by_priority.items() if prio > call.priority)
        line = by_priority.get(call.priority, [])
        return ahead + bisect.bisect_left(line, (call.enqueued_at, call.seq)) + 1

    def waiting(self, queue_id: str) -> int:
        return sum(len(line) for line in self._lines.get(queue_id, {}).values())

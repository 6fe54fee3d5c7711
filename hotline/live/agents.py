"""The agent side of live statistics: each agent's state (``acd.agent_state.AgentState``, the
ACD's own states), its queues, its call, and the agent time its queues' occupancy counts. Pure.

Live statistics do not run the ACD's state machine: they follow what the events say, in any
order, so a state is set, not stepped (``Agents.set_state``); a dropped or reordered event
leaves the next one right.

Invariants:
- agent time accrues to each of the agent's queues at every change of state and at period
  boundaries (``accrue``): staffed while available, ringing, on a call or in wrap-up; busy
  while on a call or in wrap-up;
- the wrap-up time of an agent goes to the queue of the call it wrapped up (``last_queue``)
  when the wrap-up ends, whatever state follows;
- an agent that becomes available, paused or logged out has no call any more;
- ``members`` is the inverse of every agent's ``queues``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from acd.agent_state import AgentState
from cti.events import Event
from hotline.live.model import AgentView
from hotline.live.queues import Queues

S = AgentState
BUSY = frozenset({S.ON_CALL, S.WRAP_UP})
STAFFED = frozenset({S.AVAILABLE, S.RESERVED, S.ON_CALL, S.WRAP_UP})
WITHOUT_CALL = frozenset({S.AVAILABLE, S.PAUSED, S.LOGGED_OUT})


@dataclass
class LiveAgent:
    agent_id: str
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None  # why paused
    since_ts: datetime | None = None
    since_mono: float = 0.0
    accrued_mono: float = 0.0  # occupancy time is counted up to here
    device: str | None = None
    queues: tuple[str, ...] = ()
    call_id: str | None = None
    last_queue: str | None = None  # where the wrap-up time goes
    answered_today: int = 0

    def view(self) -> AgentView:
        return AgentView(
            agent_id=self.agent_id,
            state=self.state.value,
            reason=self.reason,
            since=self.since_ts.isoformat() if self.since_ts else None,
            device=self.device,
            queues=list(self.queues),
            call_id=self.call_id,
            answered_today=self.answered_today,
        )


class Agents:
    """Every agent live statistics know, the members of each queue, and which changed."""

    def __init__(
        self, queues: Queues, queues_of_agent: Callable[[str], Collection[str]] | None = None
    ) -> None:
        self._queues = queues
        self._queues_of_agent = queues_of_agent  # membership of an agent no login told us of
        self._agents: dict[str, LiveAgent] = {}
        self._members: dict[str, set[str]] = {}
        self.dirty: set[str] = set()

    def __iter__(self) -> Iterator[LiveAgent]:
        return iter(self._agents.values())

    def ids(self) -> list[str]:
        return sorted(self._agents)

    def get(self, agent_id: str) -> LiveAgent | None:
        return self._agents.get(agent_id)

    def members(self, queue_id: str) -> list[LiveAgent]:
        return [self._agents[a] for a in sorted(self._members.get(queue_id, ()))]

    def agent(self, agent_id: str, event: Event) -> LiveAgent:
        """The agent, made on first sight (logged out, since ``event``)."""
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = LiveAgent(agent_id, since_mono=event.mono)
            agent.accrued_mono = event.mono
            if self._queues_of_agent is not None:
                self.set_queues(agent, self._queues_of_agent(agent_id))
        self.dirty.add(agent_id)
        return agent

    def set_queues(self, agent: LiveAgent, queues: Iterable[str]) -> None:
        dirty = self._queues.dirty
        for queue_id in agent.queues:
            self._members.get(queue_id, set()).discard(agent.agent_id)
            dirty.add(queue_id)
        agent.queues = tuple(sorted(set(queues)))
        for queue_id in agent.queues:
            self._queues.queue(queue_id)
            self._members.setdefault(queue_id, set()).add(agent.agent_id)

    def set_state(
        self, agent: LiveAgent, state: AgentState, event: Event, reason: str | None = None
    ) -> None:
        if agent.state is state and agent.reason == reason:
            return
        self.accrue(agent, event.mono)
        if agent.state is S.WRAP_UP and agent.last_queue is not None:
            wrap = max(event.mono - agent.since_mono, 0.0)
            self._queues.queue(agent.last_queue).count_wrap_up(event.mono, wrap)
        if state in WITHOUT_CALL:
            agent.call_id = None
        agent.state, agent.reason = state, reason
        agent.since_ts, agent.since_mono = event.ts, event.mono
        self.dirty.add(agent.agent_id)
        self._queues.dirty.update(agent.queues)

    def accrue(self, agent: LiveAgent, upto: float) -> None:
        elapsed = upto - agent.accrued_mono
        if elapsed <= 0:
            return
        agent.accrued_mono = upto
        if agent.state not in STAFFED:
            return
        busy = elapsed if agent.state in BUSY else 0.0
        for queue_id in agent.queues:
            self._queues.queue(queue_id).count_agent_time(elapsed, busy)

    def accrue_all(self, upto: float) -> None:
        for agent in self._agents.values():
            self.accrue(agent, upto)

    def new_day(self) -> None:
        for agent in self._agents.values():
            agent.answered_today = 0

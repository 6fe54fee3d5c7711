"""The engine's agents: their configuration, their status (``acd.agent_state``), who is paused,
and one step of the state table at a time.

A step that the table forbids adds ``Rejected`` to the input's effects and changes nothing.
A step that passes replaces the agent's frozen status, adds the table's own effects (wrap-up
end, automatic pause) and, when asked (``report``), an ``AgentChanged`` first.
"""

from __future__ import annotations

from collections.abc import Iterable

from acd.agent_state import AgentInput, AgentPaused, AgentStatus, IllegalTransition, step
from acd.effects import AgentChanged, Effect, Rejected
from acd.model import Agent


class AgentTable:
    def __init__(self, agents: Iterable[Agent], *, report: bool = False) -> None:
        self.config: dict[str, Agent] = {a.id: a for a in agents}
        self.status: dict[str, AgentStatus] = {}
        self.paused: set[str] = set()  # logged in, not counted as staff
        self._report = report  # AgentChanged effects (the simulator needs none)

    def step(
        self,
        agent_id: str,
        event: AgentInput,
        now: float,
        effects: list[Effect],
        device: str | None = None,
        reason: str | None = None,
    ) -> bool:
        before = self.status.get(agent_id)
        status = before or AgentStatus(agent_id)
        config = self.config.get(agent_id)
        try:
            new, produced = step(
                status,
                event,
                now=now,
                wrap_up_s=config.wrap_up_s if config else 0.0,
                no_answer_limit=config.no_answer_limit if config else 2,
                device=device,
                reason=reason,
            )
        except IllegalTransition as exc:
            effects.append(Rejected(event.value, agent_id, str(exc)))
            return False
        self.status[agent_id] = new
        if self._report:
            effects.append(AgentChanged(agent_id, before, new))
        effects.extend(produced)
        if any(isinstance(e, AgentPaused) for e in produced):
            self.paused.add(agent_id)
        return True

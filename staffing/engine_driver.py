"""The routing engine as the simulator drives it: ``AcdEngine``'s inputs, plus the read-only
queries the simulator needs for its figures."""

from __future__ import annotations

import math
from typing import Protocol

from acd.agent_state import AgentState
from acd.effects import CallArrived, Effect
from acd.engine import AcdEngine


class RoutingEngine(Protocol):
    """The engine inputs the simulator uses (``AcdEngine``'s, or a recorder around one)."""

    def login(self, agent_id: str, now: float, device: str | None = None) -> list[Effect]: ...
    def logout(self, agent_id: str, now: float) -> list[Effect]: ...
    def wrap_up_done(self, agent_id: str, now: float) -> list[Effect]: ...
    def call_arrived(self, call: CallArrived, now: float) -> list[Effect]: ...
    def call_abandoned(self, call_id: str, now: float) -> list[Effect]: ...
    def offer_answered(self, call_id: str, agent_id: str, now: float) -> list[Effect]: ...
    def call_ended(self, call_id: str, now: float) -> list[Effect]: ...
    def tick(self, now: float) -> list[Effect]: ...
    def predicted_wait(self, call_id: str) -> tuple[float, float]: ...
    def agent_state(self, agent_id: str) -> AgentState: ...
    def has_call(self, call_id: str) -> bool: ...
    def next_wakeup(self) -> float | None: ...


class EngineDriver:
    """``AcdEngine`` plus the two read-only queries the simulator needs for its figures."""

    def __init__(self, engine: AcdEngine) -> None:
        self.engine = engine
        self.login = engine.login
        self.logout = engine.logout
        self.wrap_up_done = engine.wrap_up_done
        self.call_arrived = engine.call_arrived
        self.call_abandoned = engine.call_abandoned
        self.offer_answered = engine.offer_answered
        self.call_ended = engine.call_ended
        self.tick = engine.tick
        self.next_wakeup = engine.next_wakeup

    def predicted_wait(self, call_id: str) -> tuple[float, float]:
        """Hotline's and Asterisk's wait estimates made at arrival (inf: unknown)."""
        record = self.engine.calls.get(call_id)
        if record is None:
            return math.inf, math.inf
        return record.predicted_wait, record.asterisk_predicted

    def has_call(self, call_id: str) -> bool:
        return call_id in self.engine.calls

    def agent_state(self, agent_id: str) -> AgentState:
        status = self.engine.agents.get(agent_id)
        return status.state if status else AgentState.LOGGED_OUT

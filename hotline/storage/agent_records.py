"""Fold agents' events into their intervals (sessions, pauses, states) and what they record
about the calls they handled (wrap-up time, disposition). Sans-IO: operations only, in
``record_ops``; ``call_records.RecordFolder`` hands agents' events here and says which call
(and leg) each agent answered.

Invariants (as ``call_records``): operations carry absolute values and are keyed by the uid
of the event that opened an interval, so replays converge. The memory (each agent's last
call and leg, and when its wrap-up began) may be lost in a restart: a wrap-up that spans it
is lost, and a patch for a leg the folder did not see is addressed to "the agent's latest leg
of that call", found by the writer in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from cti.events import (
    AgentDisposition,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentStateChanged,
    AgentUnpaused,
)
from hotline.storage.record_ops import (
    CallPatch,
    CloseIntervals,
    IntervalCategory,
    LegPatch,
    OpenInterval,
    RecordOp,
)

AgentEvent = (
    AgentLoggedIn
    | AgentLoggedOut
    | AgentPaused
    | AgentUnpaused
    | AgentStateChanged
    | AgentDisposition
)
"""The agents' events that make records (skills changes make none)."""


@dataclass(slots=True)
class _Agent:
    last_call: str | None = None
    last_leg: str | None = None  # its leg of ``last_call``, when the folder saw it open
    wrap_started: datetime | None = None


class AgentRecords:
    def __init__(self) -> None:
        self._agents: dict[str, _Agent] = {}

    def _agent(self, agent_id: str) -> _Agent:
        return self._agents.setdefault(agent_id, _Agent())

    def answered(self, agent_id: str, call_id: str, leg_id: str | None) -> None:
        """``agent_id`` has ``call_id`` now (its leg ``leg_id``): its wrap-up is that leg's."""
        agent = self._agent(agent_id)
        agent.last_call, agent.last_leg = call_id, leg_id

    def completed(self, agent_id: str, call_id: str, leg_id: str | None) -> None:
        """``agent_id``'s talk on ``call_id`` ended; after a restart the folder learns here
        which call the wrap-up that follows belongs to."""
        if self._agent(agent_id).last_call != call_id:
            self.answered(agent_id, call_id, leg_id)

    def fold(self, event: AgentEvent, uid: str) -> list[RecordOp]:
        agent_id, ts = event.agent_id, event.ts
        if not agent_id:
            return []
        agent = self._agent(agent_id)
        match event:
            case AgentLoggedIn():
                return [
                    CloseIntervals(agent_id, IntervalCategory.SESSION, ts),
                    OpenInterval(uid, agent_id, IntervalCategory.SESSION, "logged_in", None, ts),
                ]
            case AgentLoggedOut():
                ops: list[RecordOp] = [CloseIntervals(agent_id, c, ts) for c in IntervalCategory]
                return ops + self._end_wrap_up(agent_id, agent, ts)
            case AgentPaused(reason=reason):
                return [
                    CloseIntervals(agent_id, IntervalCategory.PAUSE, ts),
                    OpenInterval(uid, agent_id, IntervalCategory.PAUSE, "paused", reason, ts),
                ]
            case AgentUnpaused():
                return [CloseIntervals(agent_id, IntervalCategory.PAUSE, ts)]
            case AgentStateChanged(state=state, reason=reason):
                ops = self._end_wrap_up(agent_id, agent, ts)
                if state == "wrap_up":
                    agent.wrap_started = ts
                return [
                    *ops,
                    CloseIntervals(agent_id, IntervalCategory.STATE, ts),
                    OpenInterval(uid, agent_id, IntervalCategory.STATE, state, reason, ts),
                ]
            case AgentDisposition():
                return self._disposition(event, agent_id, agent)
            case _:
                assert_never(event)

    def _leg_of(self, agent: _Agent, call_id: str) -> str | None:
        """The id of the agent's leg of ``call_id`` when the folder knows it."""
        return agent.last_leg if agent.last_call == call_id else None

    def _disposition(self, ev: AgentDisposition, agent_id: str, agent: _Agent) -> list[RecordOp]:
        call_id = ev.call_id or agent.last_call
        if call_id is None:
            return []
        values: dict[str, Any] = {"disposition": ev.disposition}
        if ev.wrap_up_s is not None:
            values["wrap_up_s"] = ev.wrap_up_s
        leg_id = self._leg_of(agent, call_id)
        return [
            CallPatch(call_id, {"disposition": ev.disposition}),
            LegPatch(call_id, leg_id, ev.ts, values, agent_id=agent_id),
        ]

    def _end_wrap_up(self, agent_id: str, agent: _Agent, ts: datetime) -> list[RecordOp]:
        started, agent.wrap_started = agent.wrap_started, None
        call_id = agent.last_call
        if started is None or call_id is None:
            return []
        wrap = {"wrap_up_s": (ts - started).total_seconds()}
        return [LegPatch(call_id, self._leg_of(agent, call_id), ts, wrap, agent_id=agent_id)]

"""What happens to an agent: its session (login to logout), pauses, every change of state,
and what it records about its calls. Published by the ACD (``acd.publish``) and by the
agents' administration (skills)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from cti.events.base import Event
from cti.events.fields import column, ids, skill_levels
from cti.events.kinds import EventKind

# The ACD's agent states (``acd.agent_state.AgentState`` values).
AgentStateName = Literal["logged_out", "available", "reserved", "on_call", "wrap_up", "paused"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedIn(Event):
    """``queues``: the queues whose own skills the agent meets (None: not told)."""

    kind: ClassVar[EventKind] = EventKind.AGENT_LOGGED_IN
    agent_id: str = column()
    device: str | None = None
    queues: tuple[str, ...] | None = ids(default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOut(Event):
    kind: ClassVar[EventKind] = EventKind.AGENT_LOGGED_OUT
    agent_id: str = column()


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentPaused(Event):
    kind: ClassVar[EventKind] = EventKind.AGENT_PAUSED
    agent_id: str = column()
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentUnpaused(Event):
    kind: ClassVar[EventKind] = EventKind.AGENT_UNPAUSED
    agent_id: str = column()


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(Event):
    """Every change of state (and, after a resync, every agent's state even if unchanged);
    ``reason`` while paused."""

    kind: ClassVar[EventKind] = EventKind.AGENT_STATE
    agent_id: str = column()
    state: AgentStateName
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentDisposition(Event):
    """The agent's disposition and note for a call it handled (wrap-up)."""

    kind: ClassVar[EventKind] = EventKind.AGENT_DISPOSITION
    agent_id: str = column()
    call_id: str = column()
    disposition: str
    note: str = ""
    wrap_up_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSkillsChanged(Event):
    """An admin edited the agent's skills; they apply at its next login (``applies``)."""

    kind: ClassVar[EventKind] = EventKind.AGENT_SKILLS_CHANGED
    agent_id: str = column()
    skills: Mapping[str, int] = skill_levels()
    previous: Mapping[str, int] = skill_levels()
    applies: str = "next_login"
    by: str = ""

"""What the engine knows of one call it holds, and what a caller on hold is told."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from acd.in_call import PERSONAL_SKILL_PREFIX
from acd.indexes import CallEntry
from acd.routing import DecisionTrace


@dataclass(slots=True, eq=False)
class CallRecord:
    entry: CallEntry
    skills: dict[str, int]
    language: str | None
    queue_entered_at: float
    state: Literal["waiting", "offered", "connected"] = "waiting"
    agent_id: str | None = None
    answered_at: float | None = None
    predicted_wait: float = math.inf
    asterisk_predicted: float = math.inf
    hops: int = 0
    traces: list[DecisionTrace] = field(default_factory=list)
    # Transferred to one agent (its personal skill required): no relaxation lets others in.
    pinned: bool = field(init=False)

    def __post_init__(self) -> None:
        self.pinned = any(skill.startswith(PERSONAL_SKILL_PREFIX) for skill in self.skills)


@dataclass(frozen=True, slots=True)
class Announcement:
    call_id: str
    queue_id: str
    position: int
    ewt_s: float
    say_position: bool
    say_ewt: bool

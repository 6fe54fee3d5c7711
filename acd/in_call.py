"""What happens to a connected call between answer and hang-up: hold, consultation, transfer.

Sans-IO bookkeeping for ``AcdService`` (which drives Asterisk through ``AcdPbx``):

- a call on hold knows its agent's channel (both sit in their own hold contexts until the
  agent resumes, see ``extensions_acd.conf``) and since when it is held;
- hold time is summed per call, so the talk time published at the end excludes it
  (reports add talk + hold + wrap-up for handle time: nothing counted twice);
- a consultation (attended transfer) is a call on hold whose agent dialled someone else;
- a requested transfer back into the ACD is remembered until the caller re-enters the hold
  context, which is when the ACD ends the agent's part and queues the caller again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TransferKind = Literal["agent", "queue", "number"]
# The skill an agent gets for itself at login: a call transferred to one agent requires it.
PERSONAL_SKILL_PREFIX = "agent."


def personal_skill(agent_id: str) -> str:
    return f"{PERSONAL_SKILL_PREFIX}{agent_id}"


@dataclass(frozen=True, slots=True)
class Transfer:
    kind: TransferKind
    target: str
    attended: bool = False


@dataclass(slots=True)
class Held:
    agent_channel: str
    since: float  # monotonic seconds
    consult: Transfer | None = None  # the agent is consulting this target
    closing: bool = False  # Hotline hangs the agent's channel up itself: not the agent


@dataclass(slots=True)
class InCallState:
    held: dict[str, Held] = field(default_factory=dict)
    hold_totals: dict[str, float] = field(default_factory=dict)  # ended holds, per call
    requeues: dict[str, Transfer] = field(default_factory=dict)  # sent back to the ACD
    consulted_agents: dict[str, str] = field(default_factory=dict)  # call → paused agent
    acting: set[str] = field(default_factory=set)  # calls with an action under way

    def hold(self, call_id: str, agent_channel: str, now: float) -> None:
        self.held[call_id] = Held(agent_channel, now)

    def unhold(self, call_id: str, now: float) -> float | None:
        """End the call's hold; its length (None if it was not on hold)."""
        held = self.held.pop(call_id, None)
        if held is None:
            return None
        span = max(0.0, now - held.since)
        self.hold_totals[call_id] = self.hold_totals.get(call_id, 0.0) + span
        return span

    def total_hold(self, call_id: str) -> float:
        return self.hold_totals.get(call_id, 0.0)

    def held_by_agent_channel(self, channel: str) -> str | None:
        if not channel:
            return None
        for call_id, held in self.held.items():
            if held.agent_channel == channel:
                return call_id
        return None

    def forget(self, call_id: str) -> None:
        """The agent's part of the call is over (ended or handed on)."""
        self.held.pop(call_id, None)
        self.hold_totals.pop(call_id, None)
        self.requeues.pop(call_id, None)

"""The kinds of domain events, dotted: subject, then what happened. The values are stored in
the event log's ``kind`` column and name bus selectors; they never change meaning."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    # calls, from the first ring to the end
    CALL_STARTED = "call.started"
    IVR_NODE = "ivr.node"
    IVR_INPUT = "ivr.input"
    IVR_ENDED = "ivr.ended"
    CALL_QUEUED = "call.queued"
    CALL_OFFERED = "call.offered"
    CALL_RING_NO_ANSWER = "call.ring_no_answer"
    CALL_ANSWERED = "call.answered"
    CALL_COMPLETED = "call.completed"
    CALL_ABANDONED = "call.abandoned"
    CALL_OVERFLOWED = "call.overflowed"
    CALL_TRANSFERRED = "call.transferred"
    CALL_FALLBACK = "call.fallback"
    CALL_ENDED = "call.ended"
    CALL_HELD = "call.held"
    CALL_UNHELD = "call.unheld"
    # agents
    AGENT_LOGGED_IN = "agent.logged_in"
    AGENT_LOGGED_OUT = "agent.logged_out"
    AGENT_PAUSED = "agent.paused"
    AGENT_UNPAUSED = "agent.unpaused"
    AGENT_STATE = "agent.state"
    AGENT_DISPOSITION = "agent.disposition"
    AGENT_SKILLS_CHANGED = "agent.skills_changed"
    # the ACD rebuilt its state from Asterisk
    ACD_RESYNCED = "acd.resynced"
    # recordings
    RECORDING_STARTED = "recording.started"
    RECORDING_MUTED = "recording.muted"
    RECORDING_UNMUTED = "recording.unmuted"
    RECORDING_STOPPED = "recording.stopped"

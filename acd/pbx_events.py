"""What the ACD hears from Asterisk and finds there after a restart (pure, no IO).

``PbxEvent`` values are what the service consumes; ``translate`` turns one AMI event into at
most one of them (pure, so a capture can be replayed in a test). ``PbxSnapshot`` is what a
resync finds: callers on hold, connected calls, saved agents, device states. The dialplan
contexts named here are those of ``asterisk/etc/extensions_acd.conf``.

Invariants:
- a call id is the Asterisk ``Uniqueid`` of the caller's channel in the holding context (AMI
  actions accept a uniqueid wherever they take a channel name, and it never changes);
- only events raised by ``extensions_acd.conf`` (``HotlineAcd*`` user events, ``DialEnd`` in
  ``hotline-acd-connect``) and ``Hangup``/``DeviceStateChange`` are translated; everything else
  is ``None``, cheaply, because this runs for every AMI event the subscription admits;
- logged-in agents are kept in Asterisk's own database (``SavedAgent``, one key per agent) so
  a restarted Hotline finds them, like it finds the callers still on hold.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cti.ami.messages import Event
from cti.variables import (
    USER_EVENT_ACD_AGENT_HANGUP,
    USER_EVENT_ACD_CONSULT_ENDED,
    USER_EVENT_ACD_HOLD,
    USER_EVENT_ACD_NO_ANSWER,
    USER_EVENT_ACD_TIMEOUT,
)

log = logging.getLogger("acd.pbx")

HOLD_CONTEXT = "hotline-acd-hold"
CONNECT_CONTEXT = "hotline-acd-connect"
OVERFLOW_CONTEXT = "hotline-acd-overflow"
# During a connected call (extensions_acd.conf): the caller on hold, the agent's side of a
# hold, back together, the agent consulting someone, the caller handed to whom it consulted.
ONHOLD_CONTEXT = "hotline-acd-onhold"
AGENT_ONHOLD_CONTEXT = "hotline-acd-agent-onhold"
RESUME_CONTEXT = "hotline-acd-resume"  # runs on the agent's channel
AGENT_GONE_CONTEXT = "hotline-acd-agent-gone"
CONSULT_CONTEXT = "hotline-acd-consult"
TRANSFERRED_CONTEXT = "hotline-acd-transferred"
# Where a caller talks with its agent: a connected call after a restart is found in these.
CONNECTED_CONTEXTS = frozenset({CONNECT_CONTEXT, ONHOLD_CONTEXT, AGENT_GONE_CONTEXT})
# AMI events the service needs; everything else is never queued for it.
EVENT_NAMES = frozenset({"UserEvent", "DialEnd", "Hangup", "DeviceStateChange"})
_USER_EVENTS = frozenset(
    {
        USER_EVENT_ACD_HOLD,
        USER_EVENT_ACD_NO_ANSWER,
        USER_EVENT_ACD_TIMEOUT,
        USER_EVENT_ACD_AGENT_HANGUP,
        USER_EVENT_ACD_CONSULT_ENDED,
    }
)
_SKILL_SEPARATORS = re.compile(r"[,+\s]+")


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldEntered:
    """The caller is on hold for the ACD (first time, or back after an unanswered offer)."""

    call_id: str
    channel: str
    queue_id: str
    priority: int
    language: str | None
    skills: Mapping[str, int]
    enqueued_epoch: float | None
    # What the IVR left on the channel for screen pops: HOTLINE_IVR_DATA (URL-encoded, masked)
    # and HOTLINE_IVR_PATH (node ids, space separated); absent for callers that skip the IVR.
    ivr_data: str | None = None
    ivr_path: str | None = None


@dataclass(frozen=True, slots=True)
class HoldTimedOut:
    """The dialplan's bounded hold ran out: the caller went to the native queue."""

    call_id: str


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    call_id: str
    agent_channel_id: str = ""  # the Asterisk uniqueid of the agent's answering channel


@dataclass(frozen=True, slots=True)
class OfferNotAnswered:
    call_id: str
    agent_id: str
    dial_status: str


@dataclass(frozen=True, slots=True)
class ChannelGone:
    call_id: str  # the channel's uniqueid (a call id when it is a caller's channel)
    channel: str = ""  # its name: how an agent's channel on hold is known


@dataclass(frozen=True, slots=True)
class ConsultEnded:
    """The agent's consultation call ended (the consulted party hung up or never answered):
    the agent is back on the held line."""

    call_id: str
    dial_status: str
    agent_channel: str = ""


@dataclass(frozen=True, slots=True)
class EventsLost:
    """The ACD's AMI subscription overflowed and dropped events: state must be rebuilt."""

    count: int


@dataclass(frozen=True, slots=True)
class AgentHungUp:
    """The agent ended a connected call; the caller's own hang-up (``ChannelGone``) follows."""

    call_id: str


@dataclass(frozen=True, slots=True)
class DeviceState:
    device: str  # as Asterisk names it: no dial options (Local/agent1@test-agents)
    state: str  # NOT_INUSE, INUSE, UNAVAILABLE, ...


# What happened to calls and devices (the service handles each under its lock) ...
PbxCallEvent = (
    HoldEntered
    | HoldTimedOut
    | OfferAnswered
    | OfferNotAnswered
    | ChannelGone
    | ConsultEnded
    | AgentHungUp
    | DeviceState
)
# ... and the feed's own news: it lost events, so state must be rebuilt.
PbxEvent = PbxCallEvent | EventsLost


def parse_skills(text: str | None) -> dict[str, int]:
    """``skill:level`` items separated by commas, ``+`` or spaces; a bare skill is level 1."""
    skills: dict[str, int] = {}
    for item in _SKILL_SEPARATORS.split(text or ""):
        name, _, level = item.partition(":")
        if not name:
            continue
        try:
            skills[name] = max(1, min(10, int(level or "1")))
        except ValueError:
            log.warning("ignoring a malformed skill", extra={"skill": item})
    return skills


def int_or(text: str | None, default: int = 0) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


def float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def device_key(device: str) -> str:
    """How Asterisk names a dial string's device state: ``Local/x@ctx/n`` → ``Local/x@ctx``."""
    tech, _, rest = device.partition("/")
    if tech.lower() == "local":
        rest = rest.split("/", 1)[0]
    return f"{tech}/{rest}"


def translate(event: Event) -> PbxEvent | None:
    name = event.name
    if name == "Hangup":
        uniqueid = event.get("Uniqueid")
        return ChannelGone(uniqueid, event.get("Channel") or "") if uniqueid else None
    if name == "UserEvent":
        kind = event.get("UserEvent")
        if kind not in _USER_EVENTS:
            return None
        call_id = event.get("Uniqueid") or ""
        if kind == USER_EVENT_ACD_HOLD:
            return HoldEntered(
                call_id,
                event.get("Channel") or call_id,
                event.get("Queue") or "",
                # Not "Priority"/"Language": every channel event already carries those (the
                # dialplan priority and the channel's own language) and they come first.
                int_or(event.get("CallPriority")),
                event.get("CallLanguage") or None,
                parse_skills(event.get("Skills")),
                float_or_none(event.get("Enqueued")),
                event.get("IvrData") or None,
                event.get("IvrPath") or None,
            )
        if kind == USER_EVENT_ACD_AGENT_HANGUP:
            return AgentHungUp(call_id)
        if kind == USER_EVENT_ACD_CONSULT_ENDED:
            # Raised on the agent's channel: the caller's id travels in the event.
            return ConsultEnded(
                event.get("CallId") or "", event.get("DialStatus") or "", event.get("Channel") or ""
            )
        if kind == USER_EVENT_ACD_NO_ANSWER:
            return OfferNotAnswered(
                call_id, event.get("Agent") or "", event.get("DialStatus") or "NOANSWER"
            )
        return HoldTimedOut(call_id)
    if name == "DialEnd":
        if event.get("Context") == CONNECT_CONTEXT and event.get("DialStatus") == "ANSWER":
            return OfferAnswered(event.get("Uniqueid") or "", event.get("DestUniqueid") or "")
        return None
    if name == "DeviceStateChange":
        device, state = event.get("Device"), event.get("State")
        return DeviceState(device, state) if device and state else None
    return None


# --- snapshot after a restart --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SavedAgent:
    agent_id: str
    device: str
    pause_reason: str | None = None

    def encode(self) -> str:
        return f"{self.device}|{self.pause_reason or ''}"

    @classmethod
    def decode(cls, agent_id: str, value: str) -> SavedAgent:
        device, _, reason = value.partition("|")
        return cls(agent_id, device, reason or None)


@dataclass(frozen=True, slots=True)
class ConnectingCall:
    """A caller in the connect context (its agent's phone rings, or they talk) or in one of
    the in-call contexts (on hold, back from hold); what its channel says of its queue."""

    call_id: str
    agent_id: str
    bridged: bool
    queue_id: str = ""
    priority: int = 0
    enqueued_epoch: float | None = None
    on_hold_from: str | None = None  # on hold: the agent's channel waiting for it
    answered_epoch: float | None = None  # when its agent answered (kept on the channel)


@dataclass(frozen=True, slots=True)
class PbxSnapshot:
    held: list[HoldEntered] = field(default_factory=list)
    connecting: list[ConnectingCall] = field(default_factory=list)
    agents: list[SavedAgent] = field(default_factory=list)
    device_states: dict[str, str] = field(default_factory=dict)

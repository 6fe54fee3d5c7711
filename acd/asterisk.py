"""The ACD's port to Asterisk: typed PBX events in, connect/overflow/restore actions out.

``PbxEvent`` values are what the service consumes; ``translate`` turns one AMI event into at
most one of them (pure, so a capture can be replayed in a test). ``AmiAcdPbx`` carries out the
service's requests over an ``AmiClient`` and reads the state back after a restart.

Invariants:
- a call id is the Asterisk ``Uniqueid`` of the caller's channel in the holding context (AMI
  actions accept a uniqueid wherever they take a channel name, and it never changes);
- only events raised by ``extensions_acd.conf`` (``HotlineAcd*`` user events, ``DialEnd`` in
  ``hotline-acd-connect``) and ``Hangup``/``DeviceStateChange`` are translated; everything else
  is ``None``, cheaply, because this runs for every AMI event the subscription admits;
- logged-in agents are kept in Asterisk's own database (``DBPut`` under ``AGENT_FAMILY``) so a
  restarted Hotline finds them, like it finds the callers still on hold.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cti.ami.client import AmiClient
from cti.ami.errors import AmiActionError, AmiError
from cti.ami.messages import Event, Response
from cti.variables import (
    HOTLINE_ACD_AGENT,
    HOTLINE_ACD_AGENT_CHANNEL,
    HOTLINE_ACD_ANSWERED,
    HOTLINE_ACD_CALL,
    HOTLINE_ACD_DECISION,
    HOTLINE_ACD_ENQUEUED,
    HOTLINE_AGENT_DEVICE,
    HOTLINE_CONSULT_CHANNEL,
    HOTLINE_CONSULT_DIAL,
    HOTLINE_IVR_DATA,
    HOTLINE_IVR_PATH,
    HOTLINE_LANGUAGE,
    HOTLINE_OVERFLOW_TARGET,
    HOTLINE_PRIORITY,
    HOTLINE_QUEUE,
    HOTLINE_RING_TIMEOUT,
    HOTLINE_SKILLS,
    USER_EVENT_ACD_AGENT_HANGUP,
    USER_EVENT_ACD_CONSULT_ENDED,
    USER_EVENT_ACD_HOLD,
    USER_EVENT_ACD_NO_ANSWER,
    USER_EVENT_ACD_TIMEOUT,
)

log = logging.getLogger("acd.asterisk")

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
_CONNECTED_CONTEXTS = frozenset({CONNECT_CONTEXT, ONHOLD_CONTEXT, AGENT_GONE_CONTEXT})
AGENT_FAMILY = "hotline-acd/agents"
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
_REDIRECT_TRIES = 20
_SKILL_SEPARATORS = re.compile(r"[,+\s]+")


class PbxError(Exception):
    """An action on the PBX failed (the channel is gone, or the link is down)."""


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


PbxEvent = (
    HoldEntered
    | HoldTimedOut
    | OfferAnswered
    | OfferNotAnswered
    | ChannelGone
    | ConsultEnded
    | AgentHungUp
    | DeviceState
    | EventsLost
)


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


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


def _float(text: str | None) -> float | None:
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
                _int(event.get("CallPriority")),
                event.get("CallLanguage") or None,
                parse_skills(event.get("Skills")),
                _float(event.get("Enqueued")),
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
            return OfferAnswered(event.get("Uniqueid") or "")
        return None
    if name == "DeviceStateChange":
        device, state = event.get("Device"), event.get("State")
        return DeviceState(device, state) if device and state else None
    return None


def _peer(channels: list[Event], channel: str) -> str | None:
    """The name of the channel sharing ``channel``'s bridge (by uniqueid or name)."""
    mine = next((c for c in channels if channel in (c.get("Uniqueid"), c.get("Channel"))), None)
    bridge = mine.get("BridgeId") if mine is not None else None
    if not bridge:
        return None
    for other in channels:
        if other is not mine and other.get("BridgeId") == bridge and other.get("Channel"):
            return other["Channel"]
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


# --- the port ------------------------------------------------------------------------------


class AcdPbx(Protocol):
    def events(self) -> AsyncIterator[PbxEvent]: ...

    async def connect(
        self, call_id: str, device: str, ring_timeout_s: float, agent_id: str, decision_id: int
    ) -> None: ...

    async def overflow(self, call_id: str, kind: str, target: str) -> None: ...

    async def bridge_peer(self, call_id: str) -> str | None: ...

    async def mark_answered(self, call_id: str, epoch: float) -> None: ...

    async def hold(self, call_id: str, agent_channel: str) -> None: ...

    async def resume(self, call_id: str, agent_channel: str) -> None: ...

    async def requeue(self, call_id: str, variables: Mapping[str, str]) -> None: ...

    async def send_to_number(self, call_id: str, context: str, number: str) -> None: ...

    async def consult(self, call_id: str, agent_channel: str, dial: str) -> None: ...

    async def hand_over(self, call_id: str, agent_channel: str) -> None: ...

    async def hangup(self, channel: str) -> None: ...

    async def channel_exists(self, call_id: str) -> bool: ...

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None: ...

    async def snapshot(self) -> PbxSnapshot: ...

    def close(self) -> None: ...


class AmiAcdPbx:
    """``AcdPbx`` over the shared ``AmiClient``. The subscription is made at construction so no
    event between construction and the first resync is lost."""

    def __init__(
        self, ami: AmiClient, *, agent_family: str = AGENT_FAMILY, queue_size: int = 100_000
    ) -> None:
        self._ami = ami
        self._family = agent_family  # tests use their own, the PBX may be shared
        # Large: the reader never blocks on us, and losing a Hangup would strand an agent.
        self._subscription = ami.subscribe(EVENT_NAMES, maxsize=queue_size)
        self._reported_dropped = 0

    async def events(self) -> AsyncIterator[PbxEvent]:
        async for event in self._subscription:
            if self._subscription.dropped != self._reported_dropped:
                # A lost Hangup would strand an agent: tell the service to rebuild from Asterisk.
                yield EventsLost(self._subscription.dropped - self._reported_dropped)
                self._reported_dropped = self._subscription.dropped
            translated = translate(event)
            if translated is not None:
                yield translated

    def close(self) -> None:
        self._subscription.unsubscribe()

    async def connect(
        self, call_id: str, device: str, ring_timeout_s: float, agent_id: str, decision_id: int
    ) -> None:
        variables = {
            HOTLINE_AGENT_DEVICE: device,
            HOTLINE_RING_TIMEOUT: f"{ring_timeout_s:g}",
            HOTLINE_ACD_AGENT: agent_id,
            HOTLINE_ACD_DECISION: str(decision_id),
        }
        # Redirect has no Variable header. The actions are written in this order on one AMI
        # connection and Asterisk runs one session's actions in order, so they are pipelined:
        # one round trip, and the variables are set before the Redirect moves the channel.
        actions = [
            self._ami.action("Setvar", Channel=call_id, Variable=name, Value=value)
            for name, value in variables.items()
        ]
        actions.append(
            self._ami.action(
                "Redirect", Channel=call_id, Context=CONNECT_CONTEXT, Exten="s", Priority="1"
            )
        )
        await self._all(actions)

    async def overflow(self, call_id: str, kind: str, target: str) -> None:
        await self._all(
            [
                self._ami.action(
                    "Setvar", Channel=call_id, Variable=HOTLINE_OVERFLOW_TARGET, Value=target
                ),
                self._ami.action(
                    "Redirect", Channel=call_id, Context=OVERFLOW_CONTEXT, Exten=kind, Priority="1"
                ),
            ]
        )

    # --- during a connected call --------------------------------------------------------------

    async def mark_answered(self, call_id: str, epoch: float) -> None:
        """Keep the answer time on the caller's channel: a restarted Hotline reads it back."""
        try:
            await self._setvar(call_id, HOTLINE_ACD_ANSWERED, f"{epoch:.3f}")
        except AmiError as exc:
            raise PbxError(str(exc)) from exc

    async def bridge_peer(self, call_id: str, wait_s: float = 2.0) -> str | None:
        """The other channel in the caller's bridge (its agent's, while they talk). The bridge
        forms a moment after Dial reports the answer: look again for up to ``wait_s``."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            try:
                channels = await self._ami.list_action("CoreShowChannels")
            except AmiError as exc:
                raise PbxError(str(exc)) from exc
            peer = _peer(channels.events, call_id)
            if peer is not None or asyncio.get_running_loop().time() >= deadline:
                return peer
            await asyncio.sleep(0.1)

    async def hold(self, call_id: str, agent_channel: str) -> None:
        # One Redirect moves both out of their bridge at once: neither side is left alone in it
        # (Dial would hang the agent up). The variables first, pipelined on one connection.
        await self._all(
            [
                self._setvar(call_id, HOTLINE_ACD_AGENT_CHANNEL, agent_channel),
                self._setvar(agent_channel, HOTLINE_ACD_CALL, call_id),
                self._ami.action(
                    "Redirect", Channel=call_id, Context=ONHOLD_CONTEXT, Exten="s", Priority="1",
                    ExtraChannel=agent_channel, ExtraContext=AGENT_ONHOLD_CONTEXT,
                    ExtraExten="s", ExtraPriority="1",
                ),
            ]
        )  # fmt: skip

    async def resume(self, call_id: str, agent_channel: str) -> None:
        """Off hold (or back from a consultation): the agent's channel joins the caller."""
        await self._all(
            [
                self._setvar(agent_channel, HOTLINE_ACD_CALL, call_id),
                self._redirect(agent_channel, RESUME_CONTEXT),
            ]
        )

    async def requeue(self, call_id: str, variables: Mapping[str, str]) -> None:
        """Back on hold for the ACD with new queue variables (a blind transfer)."""
        actions = [self._setvar(call_id, name, value) for name, value in variables.items()]
        await self._all([*actions, self._redirect(call_id, HOLD_CONTEXT)])

    async def send_to_number(self, call_id: str, context: str, number: str) -> None:
        await self._all([self._redirect(call_id, context, number)])

    async def consult(self, call_id: str, agent_channel: str, dial: str) -> None:
        await self._all(
            [
                self._setvar(agent_channel, HOTLINE_CONSULT_DIAL, dial),
                self._setvar(agent_channel, HOTLINE_ACD_CALL, call_id),
                self._redirect(agent_channel, CONSULT_CONTEXT),
            ]
        )

    async def hand_over(self, call_id: str, agent_channel: str) -> None:
        """Complete an attended transfer: the held caller joins whom the agent consulted."""
        consulted = await self.bridge_peer(agent_channel)
        if consulted is None:
            raise PbxError("the consulted party has not answered")
        await self._all(
            [
                self._setvar(call_id, HOTLINE_CONSULT_CHANNEL, consulted),
                self._redirect(call_id, TRANSFERRED_CONTEXT),
            ]
        )
        # Only once the caller has the consulted party: hanging the agent up earlier would
        # end the consultation's Dial, and the consulted party with it.
        if await self.bridge_peer(call_id) != consulted:
            log.warning("acd hand-over: the caller did not join the consulted party")
        await self.hangup(agent_channel)

    async def hangup(self, channel: str) -> None:
        """Hang a channel up; one already gone is fine."""
        try:
            await self._ami.action("Hangup", check=False, Channel=channel)
        except AmiError as exc:
            raise PbxError(str(exc)) from exc

    def _setvar(self, channel: str, name: str, value: str) -> Coroutine[Any, Any, Response]:
        return self._ami.action("Setvar", Channel=channel, Variable=name, Value=value)

    async def _redirect(self, channel: str, context: str, exten: str = "s") -> Response:
        # Just after a channel was moved out of a bridge (a hold), Asterisk refuses to move it
        # again for a moment ("channel not up" while the soft hang-up that kicked it is
        # pending): retry briefly rather than fail the agent's click.
        for attempt in range(_REDIRECT_TRIES):
            try:
                return await self._ami.action(
                    "Redirect", Channel=channel, Context=context, Exten=exten, Priority="1"
                )
            except AmiActionError as exc:
                if "not up" not in str(exc) or attempt == _REDIRECT_TRIES - 1:
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError("unreachable")

    async def channel_exists(self, call_id: str) -> bool:
        try:
            await self._ami.action("Getvar", Channel=call_id, Variable="UNIQUEID")
        except AmiActionError:
            return False
        except AmiError as exc:
            raise PbxError(str(exc)) from exc
        return True

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None:
        try:
            if saved is None:
                await self._ami.action("DBDel", check=False, Family=self._family, Key=agent_id)
            else:
                await self._ami.action(
                    "DBPut", Family=self._family, Key=agent_id, Val=saved.encode()
                )
        except AmiError as exc:
            raise PbxError(str(exc)) from exc

    async def snapshot(self) -> PbxSnapshot:
        try:
            return await self._snapshot()
        except AmiError as exc:
            raise PbxError(str(exc)) from exc

    async def _snapshot(self) -> PbxSnapshot:
        channels, tree, states = await asyncio.gather(
            self._ami.list_action("CoreShowChannels"),
            self._ami.list_action("DBGetTree", check=False, Family=self._family),
            self._ami.list_action("DeviceStateList", check=False),
        )
        snapshot = PbxSnapshot()
        prefix = f"/{self._family}/"
        for event in tree.events:
            key = event.get("Key") or ""
            if key.startswith(prefix) and event.get("Val"):
                snapshot.agents.append(SavedAgent.decode(key[len(prefix) :], event["Val"]))
        for event in states.events:
            if event.get("Device") and event.get("State"):
                snapshot.device_states[event["Device"]] = event["State"]
        reads: list[Coroutine[Any, Any, HoldEntered | ConnectingCall | None]] = []
        for channel in channels.events:
            context, call_id = channel.get("Context"), channel.get("Uniqueid")
            if call_id and context == HOLD_CONTEXT:
                reads.append(self._read_held(call_id, channel.get("Channel") or call_id))
            elif call_id and context in _CONNECTED_CONTEXTS:
                bridged = bool(channel.get("BridgeId")) or context != CONNECT_CONTEXT
                on_hold = context == ONHOLD_CONTEXT and not channel.get("BridgeId")
                reads.append(self._read_connecting(call_id, bridged, on_hold=on_hold))
        for found in await asyncio.gather(*reads):
            if isinstance(found, HoldEntered):
                snapshot.held.append(found)
            elif isinstance(found, ConnectingCall):
                snapshot.connecting.append(found)
        return snapshot

    async def _getvars(self, call_id: str, names: list[str]) -> dict[str, str] | None:
        try:
            responses = await asyncio.gather(
                *(self._ami.action("Getvar", Channel=call_id, Variable=name) for name in names)
            )
        except AmiActionError:
            return None  # hung up since the channel list was taken
        return {
            name: response.get("Value") or ""
            for name, response in zip(names, responses, strict=True)
        }

    async def _read_held(self, call_id: str, channel: str) -> HoldEntered | None:
        names = [HOTLINE_QUEUE, HOTLINE_PRIORITY, HOTLINE_LANGUAGE, HOTLINE_SKILLS]
        extra = [HOTLINE_ACD_ENQUEUED, HOTLINE_IVR_DATA, HOTLINE_IVR_PATH]
        values = await self._getvars(call_id, [*names, *extra])
        if values is None:
            return None
        return HoldEntered(
            call_id,
            channel,
            values[HOTLINE_QUEUE],
            _int(values[HOTLINE_PRIORITY]),
            values[HOTLINE_LANGUAGE] or None,
            parse_skills(values[HOTLINE_SKILLS]),
            _float(values[HOTLINE_ACD_ENQUEUED]),
            values[HOTLINE_IVR_DATA] or None,
            values[HOTLINE_IVR_PATH] or None,
        )

    async def _read_connecting(
        self, call_id: str, bridged: bool, *, on_hold: bool = False
    ) -> ConnectingCall | None:
        names = [HOTLINE_ACD_AGENT, HOTLINE_QUEUE, HOTLINE_PRIORITY, HOTLINE_ACD_ENQUEUED]
        extra = [HOTLINE_ACD_AGENT_CHANNEL, HOTLINE_ACD_ANSWERED]
        values = await self._getvars(call_id, [*names, *extra])
        if values is None or not values[HOTLINE_ACD_AGENT]:
            return None
        return ConnectingCall(
            call_id,
            values[HOTLINE_ACD_AGENT],
            bridged,
            values[HOTLINE_QUEUE],
            _int(values[HOTLINE_PRIORITY]),
            _float(values[HOTLINE_ACD_ENQUEUED]),
            (values[HOTLINE_ACD_AGENT_CHANNEL] or None) if on_hold else None,
            _float(values[HOTLINE_ACD_ANSWERED]),
        )

    @staticmethod
    async def _all(actions: list[Coroutine[Any, Any, Response]]) -> None:
        results = await asyncio.gather(*actions, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise PbxError("; ".join(str(e) for e in errors))

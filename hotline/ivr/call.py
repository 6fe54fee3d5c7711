"""``hotline call``: a real test call through the running PBX, and what became of it.

A Local channel ``Local/<did>@hotline-entry`` is originated over AMI; its other half runs the
dialplan's ``dtmf@test-caller`` (answer, wait ``DELAY``, ``SendDTMF(KEYS)``, stay ``HOLD``). The
caller's key groups are sent with a pause between groups, since keys pressed while a prompt that
cannot be interrupted plays are lost (as for a person). The report comes from what the PBX
itself says: the ``HotlineIvr`` user event the IVR raises on leaving (outcome, queue, skills,
path, configuration version), the route's own event (``HotlineHold``, ``HotlineTransfer``,
``HotlineFallback``) and, on hold, the channel variables the ACD will read (AMI ``Getvar``).

The call is placed, read and hung up through the call-control port (``AmiCallControl`` over
the engine's own ``AmiClient``); both halves of the Local channel are named in advance
(``<leg>`` and ``<leg>-ivr``), so the events of this call are picked out from the first one.
``hotline demo`` places its callers with the same ``caller_pressing_keys`` leg.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from cti.ami.call_control import AmiCallControl
from cti.ami.client import AmiClient
from cti.ami.errors import AmiAuthError, AmiError
from cti.ami.messages import Event
from cti.call_control import CallControlError, Originate
from cti.settings import AmiSettings
from cti.variables import (
    HOTLINE_CALLER_LANGUAGE,
    HOTLINE_IVR_DATA,
    HOTLINE_LANGUAGE,
    HOTLINE_PRIORITY,
    HOTLINE_QUEUE,
    HOTLINE_SKILLS,
    USER_EVENT_IVR_DONE,
)

_KEYS = re.compile(r"^[0-9*#A-DwW ]*$")
_ROUTE_EVENTS = ("HotlineHold", "HotlineTransfer", "HotlineFallback")
_HOLD_VARIABLES = (HOTLINE_QUEUE, HOTLINE_SKILLS, HOTLINE_PRIORITY, HOTLINE_LANGUAGE,
                   HOTLINE_IVR_DATA)  # fmt: skip
# How long to wait for the route's event once the IVR is done.
_ROUTE_GRACE_S = 3.0


class CallError(Exception):
    pass


@dataclass(frozen=True)
class CallScript:
    did: str
    keys: str = ""
    caller: str = "13912345678"
    language: str | None = None
    delay_s: float = 4.0  # before the first key: the welcome prompt cannot be interrupted
    gap_s: float = 3.0  # between key groups: let the next prompt start
    timeout_s: float = 120.0
    # The caller hangs up this long after the last key (default: stays until the report is in).
    hold_s: float | None = None
    # Short tones (ms) to send many keys fast: the caller leg then runs SendDTMF itself
    # (tone and gap of this length; Asterisk enforces its own minimum) instead of test-caller.
    tone_ms: int | None = None


@dataclass
class CallReport:
    did: str
    uniqueid: str = ""  # of the IVR's channel
    channel: str = ""
    outcome: str = ""  # queue, transfer, hangup, closed; "" when the IVR never finished
    route: str = ""
    queue: str = ""
    skills: str = ""
    priority: str = ""
    language: str = ""
    path: list[str] = field(default_factory=list)
    config_version: str = ""
    route_event: str = ""
    channel_variables: dict[str, str] = field(default_factory=dict)
    problem: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        if not self.outcome:
            return [f"call to {self.did}: no IVR result ({self.problem or 'unknown'})"]
        lines = [
            f"call to {self.did} on {self.channel} (configuration {self.config_version})",
            f"path: {' → '.join(self.path)}",
            f"outcome: {self.outcome} (route {self.route}, seen: {self.route_event or 'none'})",
        ]
        if self.queue:
            lines.append(f"queue: {self.queue} skills [{self.skills}] priority {self.priority} "
                         f"language {self.language}")  # fmt: skip
        for name, value in self.channel_variables.items():
            lines.append(f"  {name}={value}")
        if self.problem:
            lines.append(f"problem: {self.problem}")
        return lines


def dtmf_script(keys: str, gap_s: float) -> str:
    """``"1 4111# 2"`` → ``"1WWW4111#WWW2"`` for SendDTMF (``w`` = 0.5 s, ``W`` = 1 s)."""
    if not _KEYS.match(keys):
        raise CallError("keys are DTMF characters 0-9 * # A-D, pauses w (0.5 s) and W (1 s)")
    pause = "W" * int(gap_s) + "w" * round((gap_s - int(gap_s)) * 2)
    return pause.join(keys.split())


class CallPbx(Protocol):
    """What a test call does on the PBX (``cti.ami.call_control.AmiCallControl`` fits)."""

    async def originate(self, leg: Originate) -> None: ...

    async def get_variables(self, channel: str, names: Sequence[str]) -> dict[str, str] | None: ...

    async def hangup(self, channel: str) -> None: ...


def ivr_leg(leg: str) -> str:
    """The uniqueid of the half of caller ``leg`` that runs the dialplan (IVR, hold, agent)."""
    return f"{leg}-ivr"


def caller_pressing_keys(
    did: str,
    caller_id: str,
    script: str,
    *,
    leg: str,
    delay_s: float,
    hold_s: float,
    variables: Mapping[str, str] = MappingProxyType({}),
) -> Originate:
    """A caller dialling ``did``: ``Local/<did>@hotline-entry``, whose originated half
    (uniqueid ``leg``) runs ``dtmf@test-caller``: wait ``delay_s``, send the SendDTMF
    ``script``, stay ``hold_s`` and hang up."""
    keys = {"KEYS": script, "DELAY": f"{delay_s:g}", "HOLD": f"{hold_s:g}"}
    return Originate(
        channel=f"Local/{did}@hotline-entry", caller_id=caller_id, context="test-caller",
        exten="dtmf", variables={**variables, **keys}, channel_id=leg,
        other_channel_id=ivr_leg(leg), ring_timeout_s=30,
    )  # fmt: skip


def originate_for(call: CallScript, leg: str) -> Originate:
    script = dtmf_script(call.keys, call.gap_s)
    caller_id = f'"hotline call" <{call.caller}>'
    variables = {HOTLINE_CALLER_LANGUAGE: call.language} if call.language else {}
    # Long enough for the keys, the IVR's last prompts and a look at the hold.
    hold_s = call.hold_s if call.hold_s is not None else call.timeout_s
    if call.tone_ms is None:
        return caller_pressing_keys(call.did, caller_id, script, leg=leg, delay_s=call.delay_s,
                                    hold_s=hold_s, variables=variables)  # fmt: skip
    # SendDTMF pauses are whole seconds here (W); the call ends when SendDTMF does.
    data = "W" * round(call.delay_s) + script + "W" * round(hold_s)
    return Originate(
        channel=f"Local/{call.did}@hotline-entry", caller_id=caller_id, application="SendDTMF",
        data=f"{data},{call.tone_ms},{call.tone_ms}", variables=variables, channel_id=leg,
        other_channel_id=ivr_leg(leg), ring_timeout_s=30,
    )  # fmt: skip


async def place_test_call(settings: AmiSettings, call: CallScript) -> CallReport:
    dtmf_script(call.keys, call.gap_s)  # bad keys fail before connecting
    ami = AmiClient(settings, events="call,user")
    try:
        await ami.start()
    except AmiAuthError as exc:
        raise CallError(f"AMI login refused: {exc}") from exc
    except (AmiError, OSError) as exc:
        raise CallError(f"no AMI at {settings.host}:{settings.port}: is the PBX up?") from exc
    try:
        leg = f"hotline-call-{uuid.uuid4().hex[:12]}"
        ids = {leg, ivr_leg(leg)}
        # Subscribed before the originate: the first events of the call are not missed.
        async with ami.subscribe(lambda event: _of_call(event, ids)) as events:
            return await run_test_call(AmiCallControl(ami), events, call, leg)
    except (AmiError, CallControlError) as exc:
        raise CallError(f"AMI: {exc}") from exc
    finally:
        await ami.close()


def _of_call(event: Event, ids: set[str]) -> bool:
    return event.get("Uniqueid") in ids or event.get("Linkedid") in ids


async def run_test_call(
    pbx: CallPbx, events: AsyncIterator[Event], call: CallScript, leg: str
) -> CallReport:
    """Place the call as ``leg`` and report from ``events`` (those of this call)."""
    report = CallReport(did=call.did, uniqueid=ivr_leg(leg))
    try:
        await pbx.originate(originate_for(call, leg))
    except CallControlError as exc:
        raise CallError(f"originate refused: {exc}") from exc
    try:
        async with asyncio.timeout(call.timeout_s):
            await _follow(pbx, events, report)
    except TimeoutError:
        report.problem = report.problem or f"no IVR result within {call.timeout_s:g} s"
    if report.channel:
        await pbx.hangup(report.channel)
    return report


async def _follow(pbx: CallPbx, events: AsyncIterator[Event], report: CallReport) -> None:
    """Read events of this call until the IVR's result and the route's event are in."""
    deadline: float | None = None
    loop = asyncio.get_running_loop()
    while True:
        timeout = None if deadline is None else max(deadline - loop.time(), 0)
        try:
            async with asyncio.timeout(timeout):
                event = await anext(events)
        except (TimeoutError, StopAsyncIteration):
            return  # the IVR is done and no route event came in the grace time (or AMI closed)
        user_event = event.get("UserEvent") or ""
        if event.name == "Hangup" and event.get("Uniqueid") == report.uniqueid:
            if not report.outcome:
                report.problem = (
                    f"the call ended before the IVR finished ({event.get('Cause-txt')})"
                )
            return
        if user_event == USER_EVENT_IVR_DONE:
            _read_ivr_result(report, event)
            deadline = loop.time() + _ROUTE_GRACE_S
            if report.route not in ("hold", "transfer"):
                return  # hangup: nothing more to see
        elif user_event in _ROUTE_EVENTS:
            report.route_event = user_event
            report.channel = report.channel or event.get("Channel") or ""
            if user_event == "HotlineFallback" and not report.outcome:
                report.problem = "the IVR did not answer: the dialplan fell back to the queue"
            if user_event == "HotlineHold":
                values = await pbx.get_variables(report.channel, _HOLD_VARIABLES)
                report.channel_variables = values or dict.fromkeys(_HOLD_VARIABLES, "")
            return


def _read_ivr_result(report: CallReport, event: Event) -> None:
    def get(name: str) -> str:
        return event.get(name) or ""

    report.channel = get("Channel")
    report.outcome = get("IvrOutcome")
    report.route = get("IvrRoute")
    report.queue = get("IvrQueue")
    report.skills = get("IvrSkills").replace(" ", ",")
    report.priority = get("IvrPriority")
    report.language = get("IvrLanguage")
    report.path = get("IvrPath").split()
    report.config_version = get("IvrVersion")

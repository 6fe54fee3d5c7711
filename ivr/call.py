"""``hotline call``: a real test call through the running PBX, and what became of it.

A Local channel ``Local/<did>@hotline-entry`` is originated over AMI; its other half runs the
dialplan's ``dtmf@test-caller`` (answer, wait ``DELAY``, ``SendDTMF(KEYS)``, stay ``HOLD``). The
caller's key groups are sent with a pause between groups, since keys pressed while a prompt that
cannot be interrupted plays are lost (as for a person). The report comes from what the PBX
itself says: the ``HotlineIvr`` user event the IVR raises on leaving (outcome, queue, skills,
path, configuration version), the route's own event (``HotlineHold``, ``HotlineTransfer``,
``HotlineFallback``) and, on hold, the channel variables the ACD will read (AMI ``Getvar``).

The AMI exchange here is deliberately tiny (login, originate, read events, hang up) and lives
only in this operator tool; the engine's AMI client is ``cti.ami``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

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


class _Ami:
    """Just enough AMI for one test call: framed reads of ``Key: Value`` blocks."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self._responses: dict[str, asyncio.Future[dict[str, str]]] = {}
        self._pump: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, settings: AmiSettings) -> _Ami:
        try:
            async with asyncio.timeout(settings.connect_timeout_s):
                reader, writer = await asyncio.open_connection(settings.host, settings.port)
                await reader.readline()  # greeting
        except (OSError, TimeoutError) as exc:
            raise CallError(f"no AMI at {settings.host}:{settings.port}: is the PBX up?") from exc
        ami = cls(reader, writer)
        ami._pump = asyncio.create_task(ami._read(), name="hotline-call-ami")
        return ami

    async def _read(self) -> None:
        message: dict[str, str] = {}
        while line := await self._reader.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if text:
                key, _, value = text.partition(":")
                message.setdefault(key.strip(), value.strip())
                continue
            action_id = message.get("ActionID", "")
            if "Response" in message and action_id in self._responses:
                self._responses.pop(action_id).set_result(message)
            elif "Event" in message:
                self.events.put_nowait(message)
            message = {}
        for future in self._responses.values():
            future.set_exception(CallError("AMI connection closed"))

    async def action(self, name: str, headers: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
        action_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._responses[action_id] = future
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        async with asyncio.timeout(10):
            return await future

    async def login(self, settings: AmiSettings) -> None:
        secret = settings.secret.get_secret_value()
        if settings.auth == "md5":
            challenge = await self.action("Challenge", [("AuthType", "MD5")])
            key = hashlib.md5((challenge.get("Challenge", "") + secret).encode()).hexdigest()
            credentials = [("AuthType", "MD5"), ("Key", key)]
        else:
            credentials = [("Secret", secret)]
        reply = await self.action(
            "Login", [("Username", settings.username), *credentials, ("Events", "call,user")]
        )
        if reply.get("Response") != "Success":
            raise CallError(f"AMI login refused: {reply.get('Message', '')}")

    async def close(self) -> None:
        try:
            async with asyncio.timeout(2):
                await self.action("Logoff")
        except (CallError, TimeoutError, OSError):
            pass
        self._writer.close()
        if self._pump is not None:
            self._pump.cancel()


async def place_test_call(settings: AmiSettings, call: CallScript) -> CallReport:
    report = CallReport(did=call.did)
    script = dtmf_script(call.keys, call.gap_s)
    ami = await _Ami.connect(settings)
    try:
        await ami.login(settings)
        caller_leg = f"hotline-call-{uuid.uuid4().hex[:12]}"
        ivr_leg = report.uniqueid = f"{caller_leg}-ivr"
        reply = await ami.action("Originate", _originate(call, script, caller_leg, ivr_leg))
        if reply.get("Response") != "Success":
            raise CallError(f"originate refused: {reply.get('Message', '')}")
        try:
            async with asyncio.timeout(call.timeout_s):
                await _follow(ami, report, {caller_leg, ivr_leg}, ivr_leg)
        except TimeoutError:
            report.problem = report.problem or f"no IVR result within {call.timeout_s:g} s"
        if report.channel:
            await ami.action("Hangup", [("Channel", report.channel)])
    finally:
        await ami.close()
    return report


def _originate(
    call: CallScript, script: str, caller_leg: str, ivr_leg: str
) -> list[tuple[str, str]]:
    headers = [("Channel", f"Local/{call.did}@hotline-entry"),
               ("CallerID", f'"hotline call" <{call.caller}>'), ("ChannelId", caller_leg),
               ("OtherChannelId", ivr_leg), ("Async", "true"), ("Timeout", "30000")]  # fmt: skip
    # Long enough for the keys, the IVR's last prompts and a look at the hold.
    hold_s = call.hold_s if call.hold_s is not None else call.timeout_s
    if call.language:
        headers.append(("Variable", f"{HOTLINE_CALLER_LANGUAGE}={call.language}"))
    if call.tone_ms is None:
        variables = [f"KEYS={script}", f"DELAY={call.delay_s:g}", f"HOLD={hold_s:g}"]
        return [*headers, ("Context", "test-caller"), ("Exten", "dtmf"), ("Priority", "1"),
                *(("Variable", variable) for variable in variables)]  # fmt: skip
    # SendDTMF pauses are whole seconds here (W); the call ends when SendDTMF does.
    data = "W" * round(call.delay_s) + script + "W" * round(hold_s)
    return [*headers, ("Application", "SendDTMF"),
            ("Data", f"{data},{call.tone_ms},{call.tone_ms}")]  # fmt: skip


async def _follow(ami: _Ami, report: CallReport, ids: set[str], ivr_leg: str) -> None:
    """Read events of this call until the IVR's result and the route's event are in."""
    deadline: float | None = None
    loop = asyncio.get_running_loop()
    while True:
        timeout = None if deadline is None else max(deadline - loop.time(), 0)
        try:
            async with asyncio.timeout(timeout):
                event = await ami.events.get()
        except TimeoutError:
            return  # the IVR is done; no route event came in the grace time
        if event.get("Uniqueid") not in ids and event.get("Linkedid") not in ids:
            continue
        name, user_event = event.get("Event", ""), event.get("UserEvent", "")
        if name == "Hangup" and event.get("Uniqueid") == ivr_leg:
            if not report.outcome:
                report.problem = (
                    f"the call ended before the IVR finished ({event.get('Cause-txt')})"
                )
            return
        if user_event == USER_EVENT_IVR_DONE:
            report.channel = event.get("Channel", "")
            report.outcome = event.get("IvrOutcome", "")
            report.route = event.get("IvrRoute", "")
            report.queue = event.get("IvrQueue", "")
            report.skills = event.get("IvrSkills", "").replace(" ", ",")
            report.priority = event.get("IvrPriority", "")
            report.language = event.get("IvrLanguage", "")
            report.path = event.get("IvrPath", "").split()
            report.config_version = event.get("IvrVersion", "")
            deadline = loop.time() + _ROUTE_GRACE_S
            if report.route not in ("hold", "transfer"):
                return  # hangup: nothing more to see
        elif user_event in _ROUTE_EVENTS:
            report.route_event = user_event
            report.channel = report.channel or event.get("Channel", "")
            if user_event == "HotlineFallback" and not report.outcome:
                report.problem = "the IVR did not answer: the dialplan fell back to the queue"
            if user_event == "HotlineHold":
                for variable in _HOLD_VARIABLES:
                    value = await ami.action(
                        "Getvar", [("Channel", report.channel), ("Variable", variable)]
                    )
                    report.channel_variables[variable] = value.get("Value", "")
            return

"""The IVR on a real call: a thin async shell that executes ``MenuSession`` commands over FastAGI.

One call = one AGI session = one ``MenuSession`` over the configuration snapshot taken at call
start (a hot reload never changes a call in progress). The shell only does IO; every decision is
the engine's. How each command maps onto AGI:

- ``Play`` → ``STREAM FILE <prompts>/<lang>/<audio>``. A missing file is logged and skipped (the
  caller hears nothing rather than being dropped).
- ``Say`` → the number vocabulary built next to the prompts (``ivr.say``), one ``STREAM FILE``
  per token; if that vocabulary is missing, Asterisk's own ``SAY NUMBER``/``SAY DIGITS``.
- ``Collect`` → one ``GET DATA``: digits are read by Asterisk itself, so none is lost between
  commands (the AGI loop drops DTMF that arrives while it waits for the next command).
  GET DATA has one timeout, used for the first key after the prompt and between keys: we pass
  the node's ``timeout_ms`` (never cutting a slow caller short); ``inter_digit_timeout_ms`` is
  therefore not honoured on AGI. '#' always ends input (Asterisk's rule); another terminator is
  stripped when it ends the keys. Sensitive collects mute the recording around the read and the
  digits are never logged.
- ``CallAction`` → the action registry or the webhook caller, under the node's timeout (capped
  below the AGI idle watchdog). Errors become the node's error branch.
- Terminal commands write channel variables (``cti.variables``) and ``HOTLINE_ROUTE``; the
  dialplan acts on them once the AGI session returns. ``Enqueue`` → route ``hold``, where the
  ACD finds the caller; ``Transfer`` → ``transfer``; ``Hangup``/``Closed`` → ``hangup``.
  A ``HotlineIvr`` user event (AMI) tells observers how the caller left (no sensitive values).
- The caller hanging up anywhere ends the session with outcome ``abandoned``.
- Anything unexpected (a bug, a PBX error) sends the caller to the native queue (route
  ``fallback``) and the server keeps serving other calls.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import assert_never
from urllib.parse import urlencode

from cti.agi.errors import AgiCommandFailed, AgiError, AgiHangup
from cti.variables import (
    HOTLINE_CALLER_LANGUAGE,
    HOTLINE_IVR_DATA,
    HOTLINE_IVR_OUTCOME,
    HOTLINE_IVR_PATH,
    HOTLINE_IVR_VERSION,
    HOTLINE_LANGUAGE,
    HOTLINE_PRIORITY,
    HOTLINE_QUEUE,
    HOTLINE_ROUTE,
    HOTLINE_SKILLS,
    HOTLINE_TRANSFER_CONTEXT,
    HOTLINE_TRANSFER_TARGET,
    HOTLINE_TRANSFER_TYPE,
    ROUTE_FALLBACK,
    ROUTE_HANGUP,
    ROUTE_HOLD,
    ROUTE_TRANSFER,
    USER_EVENT_IVR_DONE,
)
from ivr.actions import ActionError, ActionRegistry
from ivr.commands import (
    ActionResult,
    CallAction,
    CallerHungUp,
    Closed,
    Collect,
    CommandDone,
    Digits,
    Enqueue,
    Event,
    Hangup,
    Outcome,
    Play,
    PlaybackDone,
    Say,
    SessionResult,
    SetVariable,
    Step,
    Terminal,
    Transfer,
)
from ivr.digits import mask
from ivr.engine import MenuSession, State
from ivr.ports import AgiChannel, CallInfo, EventSink, RecordingControl, WebhookPort
from ivr.reload import ConfigSnapshot
from ivr.say import SAY_DIR, CannotSay, spoken_tokens

log = logging.getLogger("hotline.ivr")

# One AGI command line is at most 2047 bytes: keep long values well inside it.
_MAX_VARIABLE_CHARS = 1500
_DIGIT_RUN = re.compile(r"\d{6,}")


class NoRecording:
    async def set_muted(self, call: CallInfo, muted: bool) -> None:
        return None


def log_event(call: CallInfo, event: Event) -> None:
    """The default sink: one log line per event. Events are masked by the engine already."""
    fields = {f"ivr_{key}": value for key, value in asdict(event).items()}
    log.info(
        "ivr %s", type(event).__name__,
        extra={"uniqueid": call.uniqueid, "hotline": call.hotline, "config_version":
               call.config_version, "ivr_event": type(event).__name__, **fields},
    )  # fmt: skip


def redact_digits(text: str) -> str:
    """Mask digit runs in free text we did not write (action errors): they may be account or
    card numbers."""
    return _DIGIT_RUN.sub(lambda match: mask(match.group(0)), text)


def _known(text: str) -> str:
    # Asterisk says "unknown" for a caller id (number or name) the network did not send.
    return "" if text in ("", "unknown") else text


def _bounded(text: str) -> str:
    return text if len(text) <= _MAX_VARIABLE_CHARS else "…" + text[-_MAX_VARIABLE_CHARS:]


def _event_value(text: str) -> str:
    # UserEvent splits its arguments on ',' and AMI headers end at a line break.
    return re.sub(r"[,\r\n|]", " ", text)[:200]


class IvrRunner:
    """The AGI handler for the ``ivr`` route: ``AgiServer(settings, {"ivr": runner})``."""

    def __init__(
        self,
        snapshots: Callable[[], ConfigSnapshot | None],
        registry: ActionRegistry,
        *,
        prompts_dir: str,
        events: EventSink = log_event,
        recording: RecordingControl | None = None,
        webhooks: WebhookPort | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transfer_context: str = "hotline-transfer",
        max_action_s: float = 25.0,
    ) -> None:
        self._snapshots = snapshots
        self._registry = registry
        self._prompts = prompts_dir.rstrip("/")
        self._events = events
        self._recording = recording or NoRecording()
        self._webhooks = webhooks
        self._clock = clock
        self._transfer_context = transfer_context
        self._max_action_s = max_action_s

    async def __call__(self, session: AgiChannel) -> None:
        env = session.env
        did = session.args.get("did") or env.extension
        caller = _known(env.callerid)
        call = CallInfo(
            env.uniqueid, env.channel, did, caller, caller_name=_known(env.calleridname)
        )
        snapshot = self._snapshots()  # once: the whole call runs on this version
        if snapshot is None:
            log.error("no valid IVR configuration loaded: caller goes to the native queue",
                      extra={"uniqueid": call.uniqueid, "did": did})  # fmt: skip
            await session.set_variable(HOTLINE_ROUTE, ROUTE_FALLBACK)
            return
        hotline = snapshot.config.hotline_for_did(did)
        if hotline is None:
            log.warning("no hotline for DID %s: caller goes to the native queue", did,
                        extra={"uniqueid": call.uniqueid, "did": did})  # fmt: skip
            await session.set_variable(HOTLINE_ROUTE, ROUTE_FALLBACK)
            return
        call = replace(
            call, hotline=hotline.id, config_version=snapshot.version, product=hotline.product
        )
        started = time.monotonic()
        await session.answer()
        language = session.args.get("lang") or await session.get_variable(HOTLINE_CALLER_LANGUAGE)
        menu = MenuSession(snapshot.config, hotline, caller, self._clock(), did=did,
                           language=language or None)  # fmt: skip
        route = ""
        try:
            route = await self._walk(session, call, menu)
        except AgiHangup:
            if menu.state is State.WAITING:
                menu.send(CallerHungUp())
            route = "caller hung up"
        except Exception as exc:
            route = ROUTE_FALLBACK
            # AGI errors carry raw replies (which may hold keys): their text is not logged.
            log.error(
                "IVR failed (%s): caller goes to the native queue", type(exc).__name__,
                exc_info=not isinstance(exc, AgiError),
                extra={"uniqueid": call.uniqueid, "hotline": call.hotline, "node":
                       menu.path[-1] if menu.path else ""},
            )  # fmt: skip
            with suppress(AgiError):
                await session.set_variable(HOTLINE_ROUTE, ROUTE_FALLBACK)
        finally:
            self._flush(call, menu)
        result = menu.result
        log.info(
            "ivr call finished: %s", result.outcome if result else "failed",
            extra={"uniqueid": call.uniqueid, "hotline": call.hotline, "did": did,
                   "config_version": call.config_version, "route": route,
                   "outcome": result.outcome if result else "failed",
                   "queue": result.queue if result else None,
                   "path": list(menu.path), "duration_s": round(time.monotonic() - started, 3)},
        )  # fmt: skip

    async def _walk(self, session: AgiChannel, call: CallInfo, menu: MenuSession) -> str:
        command = menu.start()
        while True:
            self._flush(call, menu)
            # The session is finished exactly when it hands out a terminal command.
            match command:
                case Play() | Say() | Collect() | SetVariable() | CallAction():
                    command = menu.send(await self._execute(session, call, command))
                case Enqueue() | Transfer() | Hangup() | Closed():
                    assert menu.result is not None
                    return await self._leave(session, call, command, menu.result)
                case _:
                    assert_never(command)

    def _flush(self, call: CallInfo, menu: MenuSession) -> None:
        for event in menu.take_events():
            try:
                self._events(call, event)
            except Exception:  # a broken sink must not end calls
                log.exception("IVR event sink failed", extra={"uniqueid": call.uniqueid})

    # --- commands ------------------------------------------------------------------------

    async def _execute(self, session: AgiChannel, call: CallInfo, command: Step) -> Outcome:
        match command:
            case Play():
                await self._play(session, call, command.lang, command.audio,
                                 command.interrupt_digits)  # fmt: skip
                return PlaybackDone()
            case Say():
                await self._say(session, call, command)
                return PlaybackDone()
            case Collect():
                return await self._collect(session, call, command)
            case SetVariable():
                await session.set_variable(command.name, command.value)
                return CommandDone()
            case CallAction():
                return await self._action(command)
            case _:
                assert_never(command)

    def _audio(self, language: str, name: str) -> str:
        return f"{self._prompts}/{language}/{name}"

    async def _play(
        self, session: AgiChannel, call: CallInfo, language: str, audio: str, escape: str = ""
    ) -> None:
        try:
            await session.stream_file(self._audio(language, audio), escape)
        except AgiCommandFailed:
            log.warning("prompt audio missing or unplayable: %s", self._audio(language, audio),
                        extra={"uniqueid": call.uniqueid, "hotline": call.hotline})  # fmt: skip

    async def _say(self, session: AgiChannel, call: CallInfo, command: Say) -> None:
        try:
            tokens = spoken_tokens(command.value, command.say_as, command.lang)
            for token in tokens:
                await session.stream_file(self._audio(command.lang, f"{SAY_DIR}/{token}"))
            return
        except (CannotSay, AgiCommandFailed) as exc:
            log.warning("number vocabulary unusable (%s): using Asterisk's own sounds",
                        type(exc).__name__, extra={"uniqueid": call.uniqueid})  # fmt: skip
        whole, _, cents = command.value.lstrip("-").partition(".")
        with suppress(AgiCommandFailed):  # last resort: silence beats dropping the caller
            if command.say_as == "digits":
                await session.say_digits(command.value)
            else:
                await session.say_number(int(whole) * (-1 if command.value[0] == "-" else 1))
                if cents.strip("0"):
                    await session.say_digits(cents.ljust(2, "0"))

    async def _collect(self, session: AgiChannel, call: CallInfo, command: Collect) -> Digits:
        if command.sensitive:
            await self._mute(call, True)
        try:
            prompt = self._audio(command.lang, command.audio)
            try:
                keys, _ = await session.get_data(prompt, command.timeout_ms, command.max_digits)
            except AgiCommandFailed:
                log.warning("prompt audio missing or unplayable: %s; reading keys without it",
                            prompt, extra={"uniqueid": call.uniqueid})  # fmt: skip
                keys, _ = await session.get_data("", command.timeout_ms, command.max_digits)
        finally:
            if command.sensitive:
                await self._mute(call, False)
        if command.terminator and keys.endswith(command.terminator):
            keys = keys[: -len(command.terminator)]
        return Digits(keys or None)

    async def _mute(self, call: CallInfo, muted: bool) -> None:
        try:
            await self._recording.set_muted(call, muted)
        except Exception:  # the keys are still masked everywhere; the recording may hear tones
            log.warning("could not %s the recording", "mute" if muted else "unmute",
                        exc_info=True, extra={"uniqueid": call.uniqueid})  # fmt: skip

    async def _action(self, command: CallAction) -> ActionResult:
        timeout_s = min(command.timeout_ms / 1000, self._max_action_s)
        try:
            if command.webhook is None:
                values = await self._registry.call(command.name, command.params, timeout_s)
            elif self._webhooks is None:
                raise ActionError("webhooks are not enabled")
            else:
                values = await self._webhooks.call(
                    command.webhook, command.name, command.params, timeout_s
                )
        except ActionError as exc:
            return ActionResult(error=redact_digits(str(exc)))
        return ActionResult(values=dict(values))

    # --- leaving the IVR -----------------------------------------------------------------

    async def _leave(
        self, session: AgiChannel, call: CallInfo, command: Terminal, result: SessionResult
    ) -> str:
        variables = {
            HOTLINE_IVR_OUTCOME: result.outcome,
            HOTLINE_IVR_PATH: _bounded(" ".join(result.path)),
            HOTLINE_IVR_VERSION: call.config_version,
            HOTLINE_LANGUAGE: result.language,
        }
        event: dict[str, str] = {}
        match command:
            case Enqueue():
                skills = [f"{name}:{level}" for name, level in command.skills.items()]
                variables |= {
                    HOTLINE_QUEUE: command.queue,
                    HOTLINE_SKILLS: ",".join(skills),
                    HOTLINE_PRIORITY: str(command.priority),
                    HOTLINE_LANGUAGE: command.language,
                    HOTLINE_IVR_DATA: _bounded(urlencode(sorted(command.data.items()))),
                }
                event = {"IvrQueue": command.queue, "IvrSkills": " ".join(skills),
                         "IvrPriority": str(command.priority)}  # fmt: skip
                route = ROUTE_HOLD
            case Transfer():
                variables |= {
                    HOTLINE_TRANSFER_TARGET: command.destination,
                    HOTLINE_TRANSFER_TYPE: command.destination_type,
                    HOTLINE_TRANSFER_CONTEXT: self._transfer_context,
                }
                event = {"IvrTarget": command.destination}
                route = ROUTE_TRANSFER
            case Hangup() | Closed():
                route = ROUTE_HANGUP
            case _:
                assert_never(command)
        for name, value in variables.items():
            await session.set_variable(name, value)
        await session.set_variable(HOTLINE_ROUTE, route)
        # Keys carry an "Ivr" prefix: AMI adds the channel's own headers (Priority, Language,
        # Uniqueid...) to every user event, and a reader must not confuse the two.
        event = {"IvrOutcome": result.outcome, "IvrRoute": route,
                 "IvrLanguage": variables[HOTLINE_LANGUAGE], **event,
                 "IvrVersion": call.config_version,
                 "IvrPath": " ".join(result.path[-40:])}  # fmt: skip
        await session.exec(
            "UserEvent", USER_EVENT_IVR_DONE,
            *(f"{key}: {_event_value(value)}" for key, value in event.items()),
        )  # fmt: skip
        return route

"""Run the real menu session against a simulated channel: scripted keys, instant playback.

Key groups answer ``Collect`` commands in order ("1 4111111111111111# 2"); a trailing
terminator is dropped as Asterisk's GET DATA does; ``_`` is an explicit timeout, and running out
of keys is silence. With a preset language, language menus answer themselves (no key group is
used). Registered actions really run (the demo ones are deterministic); webhooks are not
called here: they answer with an error, so their error branch is what the simulation shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never

from ivr.actions import ActionError, ActionRegistry
from ivr.commands import (
    TERMINAL_COMMANDS,
    ActionResult,
    CallAction,
    Closed,
    Collect,
    Command,
    CommandDone,
    Digits,
    Enqueue,
    Hangup,
    Outcome,
    Play,
    PlaybackDone,
    Say,
    SessionResult,
    SetVariable,
    Step,
    Transfer,
)
from ivr.config import IvrConfig
from ivr.digits import mask
from ivr.engine import MenuSession
from ivr.model import LanguageNode

TIMEOUT_TOKEN = "_"
# A simulation is a review tool: far more commands than any menu needs means a bug upstream.
MAX_COMMANDS = 5000


class SimulationError(Exception):
    pass


@dataclass
class Simulation:
    hotline: str
    did: str
    result: SessionResult
    transcript: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        result = self.result
        return {
            "outcome": result.outcome,
            "hotline": self.hotline,
            "did": self.did,
            "queue": result.queue,
            "skills": dict(result.skills),
            "priority": result.priority,
            "language": result.language,
            "destination": result.destination,
            "reason": result.reason,
            "path": list(result.path),
            "variables": dict(result.variables),
        }


def _describe(command: Command) -> str:
    match command:
        case Play():
            return f"play    {command.prompt} [{command.lang}] {command.text}"
        case Collect():
            secret = ", sensitive" if command.sensitive else ""
            return (
                f"ask     {command.prompt} [{command.lang}] {command.text} "
                f"({command.min_digits}-{command.max_digits} digits{secret})"
            )
        case Say():
            return f"say     {command.value} as {command.say_as} [{command.lang}]"
        case SetVariable():
            return f"set     {command.name}={command.value}"
        case CallAction():
            return f"action  {command.name}"
        case Enqueue():
            skills = ", ".join(f"{name}:{level}" for name, level in command.skills.items())
            return (
                f"queue   {command.queue} skills [{skills}] priority {command.priority} "
                f"language {command.language}"
            )
        case Transfer():
            return f"transfer {command.destination_type} {command.destination}"
        case Hangup():
            return f"hangup  ({command.reason})"
        case Closed():
            return f"closed  (schedule {command.schedule})"
        case _:
            assert_never(command)


def simulate(
    config: IvrConfig,
    did: str,
    keys: str,
    *,
    registry: ActionRegistry,
    now: datetime,
    caller: str = "13912345678",
    language: str | None = None,
) -> Simulation:
    hotline = config.hotline_for_did(did)
    if hotline is None:
        raise SimulationError(f"no hotline answers DID {did}")
    if language is not None and language not in hotline.languages:
        offered = ", ".join(hotline.languages)
        raise SimulationError(f"hotline {hotline.id} speaks {offered}, not {language}")
    session = MenuSession(config, hotline, caller, now, did=did, language=language)
    groups: Iterator[str] = iter(keys.split())
    simulation = Simulation(hotline.id, did, SessionResult("hangup", "", (), {}))
    transcript = simulation.transcript
    command = session.start()
    for _ in range(MAX_COMMANDS):
        transcript.append(_describe(command))
        if isinstance(command, TERMINAL_COMMANDS):  # the session is finished
            break
        outcome = _answer(config, session, command, groups, registry, language, transcript)
        command = session.send(outcome)
    else:  # pragma: no cover - the engine's own caps end every session far earlier
        raise SimulationError(f"no outcome after {MAX_COMMANDS} commands")
    assert session.result is not None
    simulation.result = session.result
    return simulation


def _answer(
    config: IvrConfig,
    session: MenuSession,
    command: Step,
    groups: Iterator[str],
    registry: ActionRegistry,
    language: str | None,
    transcript: list[str],
) -> Outcome:
    match command:
        case Collect():
            node = config.nodes[session.path[-1]]
            if language is not None and isinstance(node, LanguageNode):
                for key, offered in node.options.items():
                    if offered == language:
                        transcript.append(f"keys    {key} (preset language {language})")
                        return Digits(key)
            group = next(groups, None)
            if group is None or group == TIMEOUT_TOKEN:
                transcript.append("keys    (silence)")
                return Digits(None)
            if command.terminator and group.endswith(command.terminator):
                group = group[: -len(command.terminator)]
            transcript.append(f"keys    {mask(group) if command.sensitive else group}")
            return Digits(group)
        case CallAction():
            result = _run_action(command, registry)
            shown = result.error or ", ".join(f"{k}={v}" for k, v in (result.values or {}).items())
            transcript.append(f"result  {shown}")
            return result
        case SetVariable():
            return CommandDone()
        case Play() | Say():
            return PlaybackDone()
        case _:
            assert_never(command)


def _run_action(command: CallAction, registry: ActionRegistry) -> ActionResult:
    if command.webhook is not None:
        return ActionResult(error=f"webhook {command.webhook.url} is not called by the simulator")
    try:
        values = asyncio.run(registry.call(command.name, command.params, command.timeout_ms / 1000))
    except ActionError as exc:
        return ActionResult(error=str(exc))
    return ActionResult(values=dict(values))

"""What the menu session asks of the channel (commands), what the channel answers (outcomes),
and what happened (events). All are frozen dataclasses; none carries a sensitive value in clear
except ``CallAction.params``, which the action itself needs.

Each command expects exactly one outcome (``EXPECTED_OUTCOME``); terminal commands expect none.
``CallerHungUp`` may answer any non-terminal command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ivr.model import Webhook

# --- commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play a prompt: ``<prompts dir>/<lang>/<audio>``; ``text`` is for TTS and the simulator."""

    prompt: str
    lang: str
    audio: str
    text: str
    interrupt_digits: str = ""


@dataclass(frozen=True)
class Say:
    """Speak a value in the caller's language (AGI SAY NUMBER / SAY DIGITS, or money)."""

    value: str
    say_as: Literal["number", "digits", "money"]
    lang: str


@dataclass(frozen=True)
class Collect:
    """Play the prompt and read keys (AGI GET DATA); the terminator key ends input early.

    ``sensitive``: mask the digits in logs and mute the call recording while collecting.
    """

    prompt: str
    lang: str
    audio: str
    text: str
    min_digits: int
    max_digits: int
    timeout_ms: int
    inter_digit_timeout_ms: int
    terminator: str
    sensitive: bool = False


@dataclass(frozen=True)
class SetVariable:
    """Set a channel variable; answered by ``CommandDone``."""

    name: str
    value: str


@dataclass(frozen=True)
class CallAction:
    """Run a registered action (``name``) or an HTTP webhook; answered by ``ActionResult``."""

    name: str
    params: Mapping[str, str]
    timeout_ms: int
    webhook: Webhook | None = None


@dataclass(frozen=True)
class Transfer:
    destination: str
    destination_type: Literal["number", "extension"]


@dataclass(frozen=True)
class Enqueue:
    """Leave the IVR into the ACD. ``data`` holds the IVR variables, sensitive ones masked."""

    queue: str
    skills: Mapping[str, int]
    priority: int
    language: str
    data: Mapping[str, str]


@dataclass(frozen=True)
class Hangup:
    reason: str


@dataclass(frozen=True)
class Closed:
    """Out of hours: the closed message has been played; hang up."""

    schedule: str


Step = Play | Say | Collect | SetVariable | CallAction  # answered by one outcome
Terminal = Transfer | Enqueue | Hangup | Closed  # ends the session
Command = Step | Terminal
TERMINAL_COMMANDS = (Transfer, Enqueue, Hangup, Closed)

# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digits:
    """Keys read by a ``Collect``, without the terminator; ``None`` when the caller was silent."""

    value: str | None


@dataclass(frozen=True)
class PlaybackDone:
    pass


@dataclass(frozen=True)
class ActionResult:
    """Either values (a flat mapping of scalars) or an error text."""

    values: Mapping[str, object] | None = None
    error: str | None = None


@dataclass(frozen=True)
class CommandDone:
    pass


@dataclass(frozen=True)
class CallerHungUp:
    pass


Outcome = Digits | PlaybackDone | ActionResult | CommandDone | CallerHungUp

EXPECTED_OUTCOME: dict[type[Command], type[Outcome] | None] = {
    Play: PlaybackDone,
    Say: PlaybackDone,
    Collect: Digits,
    SetVariable: CommandDone,
    CallAction: ActionResult,
    Transfer: None,
    Enqueue: None,
    Hangup: None,
    Closed: None,
}

# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    seq: int
    node: str  # "" before the first node


@dataclass(frozen=True)
class CallStarted(Event):
    hotline: str
    did: str
    caller: str
    language: str
    vip: bool


@dataclass(frozen=True)
class NodeEntered(Event):
    kind: str


@dataclass(frozen=True)
class DigitsEntered(Event):
    digits: str  # masked when sensitive, shortened when absurdly long
    accepted: bool
    reason: str = ""


@dataclass(frozen=True)
class InputTimedOut(Event):
    attempt: int


@dataclass(frozen=True)
class RetriesExhausted(Event):
    cause: Literal["invalid", "timeout"]
    destination: str


@dataclass(frozen=True)
class PlaybackFinished(Event):
    prompt: str


@dataclass(frozen=True)
class LanguageChosen(Event):
    language: str


@dataclass(frozen=True)
class VariableSet(Event):
    name: str
    value: str  # masked when sensitive


@dataclass(frozen=True)
class ActionFinished(Event):
    action: str
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class VipRecognised(Event):
    source: Literal["numbers", "lookup"]


@dataclass(frozen=True)
class OutOfHours(Event):
    schedule: str


@dataclass(frozen=True)
class SafetyStop(Event):
    reason: str


@dataclass(frozen=True)
class CallerLeft(Event):
    pass


@dataclass(frozen=True)
class SessionEnded(Event):
    """The last event: how the caller left, the nodes walked and the language spoken."""

    outcome: str
    path: tuple[str, ...] = ()
    language: str = ""


OutcomeName = Literal["queue", "transfer", "hangup", "closed", "abandoned"]


@dataclass(frozen=True)
class SessionResult:
    """How the caller left the IVR: what the ACD, the simulator and the call log need."""

    outcome: OutcomeName
    language: str
    path: tuple[str, ...]
    variables: Mapping[str, str]  # sensitive values masked
    queue: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    destination: str | None = None
    reason: str = ""

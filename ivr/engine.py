"""The menu session: a sans-IO walk of one call through the IVR.

``start()`` returns the first command; ``send(outcome)`` answers the current command and returns
the next one, until a terminal command (``Enqueue``, ``Transfer``, ``Hangup``, ``Closed``).
The session does no IO and reads no clock: the runner (AGI), the simulator and the tests drive
it the same way.

Invariants:
- exactly one command is outstanding; only the outcome that ``EXPECTED_OUTCOME`` lists for it
  (or ``CallerHungUp``) is accepted, anything else raises ``IllegalOutcome`` and changes nothing;
- sensitive digits never reach an event, a result or ``Enqueue.data`` in clear;
- the session always ends: node visits without caller input, and node visits in all, are
  capped; on the cap (and whenever retries run out with no destination) the caller goes to the
  hotline's default queue rather than into silence.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import assert_never

from ivr import commands as ev  # the engine's events: ev.NodeEntered ...
from ivr.answers import checked_values, rejection, speakable
from ivr.commands import (
    EXPECTED_OUTCOME,
    TERMINAL_COMMANDS,
    ActionResult,
    CallAction,
    CallerHungUp,
    Closed,
    Command,
    Digits,
    Enqueue,
    Hangup,
    OutcomeName,
    Play,
    Say,
    SessionResult,
    SetVariable,
    Terminal,
    Transfer,
)
from ivr.commands import Outcome as OutcomeType
from ivr.conditions import ConditionContext, condition_holds
from ivr.config import IvrConfig, qualify
from ivr.keys import KeyNode, key_prompt, retries_exhausted, shown_keys
from ivr.model import (
    LANGUAGE_SKILL_LEVEL,
    ActionNode,
    CollectNode,
    ConditionNode,
    GotoNode,
    HangupNode,
    Hotline,
    LanguageNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SayNode,
    SetNode,
    TransferNode,
    language_skill,
)
from ivr.schedule import is_open, require_aware
from ivr.variables import CallVariables

LANGUAGE_VARIABLE = "CHANNEL(language)"
MAX_STEPS_WITHOUT_INPUT = 50
MAX_STEPS = 500

Resume = Callable[[OutcomeType], None]


class IllegalOutcome(Exception):
    """The driver sent an outcome that does not answer the outstanding command (its bug)."""


class State(Enum):
    NEW = "new"
    WAITING = "waiting"  # a command is outstanding
    FINISHED = "finished"


class MenuSession:
    def __init__(
        self,
        config: IvrConfig,
        hotline: Hotline,
        caller: str,
        now: datetime,
        *,
        did: str | None = None,
        language: str | None = None,
        max_steps_without_input: int = MAX_STEPS_WITHOUT_INPUT,
        max_steps: int = MAX_STEPS,
    ) -> None:
        self._config = config
        self._hotline = hotline
        self._now = require_aware(now)
        self._caller = caller
        self._did = did if did is not None else hotline.dids[0]
        self._language = language if language in hotline.languages else hotline.default_language
        self._limits = (max_steps_without_input, max_steps)
        self._state = State.NEW
        self._pending: deque[tuple[Command, Resume | None]] = deque()
        self._next_node: str | None = None
        self._node = ""
        self._attempt = 0
        self._silent_steps = 0
        self._steps = 0
        self._path: list[str] = []
        self._variables = CallVariables()
        self._skills: dict[str, int] = {}
        self._priority = 0
        self._vip = False
        self._events: list[ev.Event] = []
        self._seq = 0
        self._result: SessionResult | None = None

    # --- public API ----------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def result(self) -> SessionResult | None:
        return self._result

    @property
    def language(self) -> str:
        return self._language

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self._path)

    def take_events(self) -> list[ev.Event]:
        """Events since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def start(self) -> Command:
        if self._state is not State.NEW:
            raise IllegalOutcome("the session has already started")
        self._state = State.WAITING
        vip_numbers = self._hotline.vip.numbers if self._hotline.vip else []
        self._vip = self._caller in vip_numbers
        self._emit(ev.CallStarted, hotline=self._hotline.id, did=self._did, caller=self._caller,
                   language=self._language, vip=self._vip)  # fmt: skip
        if self._vip:
            self._mark_vip("numbers")
        self._push(SetVariable(LANGUAGE_VARIABLE, self._language), self._recognise_vip)
        return self._current()

    def send(self, outcome: OutcomeType) -> Command:
        if self._state is not State.WAITING:
            raise IllegalOutcome(
                f"no command is waiting for an outcome (state {self._state.value})"
            )
        command, resume = self._pending[0]
        expected = EXPECTED_OUTCOME[type(command)]
        if not isinstance(outcome, CallerHungUp) and (
            expected is None or not isinstance(outcome, expected)
        ):
            wanted = expected.__name__ if expected else "nothing"
            raise IllegalOutcome(f"{type(command).__name__} expects {wanted}, got {outcome!r}")
        self._pending.popleft()
        if isinstance(outcome, CallerHungUp):
            self._pending.clear()
            self._emit(ev.CallerLeft)
            self._finish("abandoned", reason="caller hung up")
            return Hangup("caller hung up")
        if isinstance(command, Play):
            self._emit(ev.PlaybackFinished, prompt=command.prompt)
        if resume is not None:
            resume(outcome)
        return self._current()

    # --- plumbing ------------------------------------------------------------------------

    def _emit(self, event_type: type[ev.Event], **fields: object) -> None:
        self._seq += 1
        self._events.append(event_type(seq=self._seq, node=self._node, **fields))

    def _push(self, command: Command, resume: Resume | None = None) -> None:
        self._pending.append((command, resume))

    def _goto(self, node_id: str) -> None:
        self._next_node = node_id

    def _current(self) -> Command:
        """Walk nodes until a command is due; handing out a terminal command ends the session."""
        while not self._pending:
            node_id, self._next_node = self._next_node, None
            if node_id is None:  # pragma: no cover - every resume either pushes or goes on
                raise RuntimeError("menu session stalled without a command")
            self._visit(node_id)
        command = self._pending[0][0]
        if isinstance(command, TERMINAL_COMMANDS) and self._state is not State.FINISHED:
            self._finish_with(command)
        return command

    def _finish(
        self,
        outcome: OutcomeName,
        *,
        enqueue: Enqueue | None = None,
        destination: str | None = None,
        reason: str = "",
    ) -> None:
        self._state = State.FINISHED
        self._result = SessionResult(
            outcome=outcome,
            language=enqueue.language if enqueue else self._language,
            path=tuple(self._path),
            variables=self._variables.masked(),
            queue=enqueue.queue if enqueue else None,
            skills=dict(enqueue.skills) if enqueue else {},
            priority=self._priority,
            destination=destination,
            reason=reason,
        )
        result = self._result
        self._emit(ev.SessionEnded, outcome=outcome, path=result.path, language=result.language)

    def _finish_with(self, command: Terminal) -> None:
        match command:
            case Enqueue():
                self._finish("queue", enqueue=command)
            case Transfer():
                self._finish("transfer", destination=command.destination)
            case Closed():
                self._finish("closed", reason=f"closed ({command.schedule})")
            case Hangup():
                self._finish("hangup", reason=command.reason)
            case _:
                assert_never(command)

    def _end_with(self, command: Terminal) -> None:
        """Queue a terminal command; the session ends when the runner is handed it."""
        self._pending.append((command, None))

    def _interpolate(self, template: str) -> str:
        builtins = {"caller": self._caller, "did": self._did, "hotline": self._hotline.id,
                    "language": self._language}  # fmt: skip
        return self._variables.interpolate(template, builtins)

    def _set_variable(self, name: str, value: str, sensitive: bool = False) -> None:
        self._emit(ev.VariableSet, name=name, value=self._variables.set(name, value, sensitive))

    def _mark_vip(self, source: str) -> None:
        self._vip = True
        self._priority = max(self._priority, self._hotline.vip.priority if self._hotline.vip else 0)
        self._emit(ev.VipRecognised, source=source)

    def _play(self, prompt_ref: str, flow: str, resume: Resume | None = None) -> None:
        prompt = self._config.prompts[qualify(prompt_ref, flow)]
        text = prompt.text.get(self._language, next(iter(prompt.text.values())))
        self._push(Play(prompt.id, self._language, prompt.audio, text), resume)

    # --- call start: VIP lookup, opening hours -------------------------------------------

    def _recognise_vip(self, _: OutcomeType) -> None:
        vip = self._hotline.vip
        if vip is None or vip.lookup is None or self._vip:
            self._check_hours()
            return
        self._push(CallAction(vip.lookup, {"caller": self._caller}, 2000), self._on_vip_lookup)

    def _on_vip_lookup(self, outcome: OutcomeType) -> None:
        assert isinstance(outcome, ActionResult)
        values = outcome.values if outcome.error is None else None
        if isinstance(values, Mapping) and str(values.get("vip", "")).lower() in ("true", "1"):
            self._mark_vip("lookup")
        self._check_hours()

    def _check_hours(self) -> None:
        hotline = self._hotline
        if is_open(self._config.hotlines_file, hotline.schedule, self._now):
            self._goto(hotline.entry)
            return
        schedule = hotline.schedule or ""
        self._emit(ev.OutOfHours, schedule=schedule)
        assert hotline.closed is not None  # the schema requires it with a schedule
        then = hotline.closed.then

        def after_message(_: OutcomeType) -> None:
            if then is None:
                self._end_with(Closed(schedule))
            else:
                self._goto(then)

        flow = hotline.closed.prompt.split(".", 1)[0]
        self._play(hotline.closed.prompt, flow, after_message)

    # --- nodes ---------------------------------------------------------------------------

    def _visit(self, node_id: str) -> None:
        self._steps += 1
        self._silent_steps += 1
        if self._steps > self._limits[1] or self._silent_steps > self._limits[0]:
            too_many = "nodes" if self._steps > self._limits[1] else "nodes without caller input"
            self._emit(ev.SafetyStop, reason=f"more than {min(self._limits)} {too_many}")
            self._fallback_to_default_queue()
            return
        node = self._config.nodes[node_id]
        self._node = node_id
        self._attempt = 0
        self._path.append(node_id)
        self._emit(ev.NodeEntered, kind=node.kind)
        flow = node_id.split(".", 1)[0]
        match node:
            case PlayNode():
                self._visit_play(node, flow)
            case SayNode():
                self._visit_say(node, flow)
            case SetNode():
                self._visit_set(node, flow)
            case GotoNode():
                self._go(node.target, flow)
            case ConditionNode():
                self._visit_condition(node, flow)
            case ActionNode():
                self._visit_action(node, flow)
            case QueueNode():
                self._visit_queue(node, flow)
            case TransferNode():
                self._visit_transfer(node, flow)
            case HangupNode():
                self._visit_hangup(node, flow)
            case MenuNode() | CollectNode() | LanguageNode():
                self._ask(node, flow)
            case _:
                assert_never(node)

    def _fallback_to_default_queue(self) -> None:
        self._end_with(self._enqueue(self._hotline.default_queue, {}, None, None))

    def _enqueue(
        self, queue: str, skills: Mapping[str, int], priority: int | None, language: str | None
    ) -> Enqueue:
        language = language or self._language
        merged = {language_skill(language): LANGUAGE_SKILL_LEVEL}
        for name, level in [*self._skills.items(), *skills.items()]:
            merged[name] = max(level, merged.get(name, 0))
        # Priority only rises along the path: a VIP never loses the VIP priority.
        self._priority = max(self._priority, priority or 0)
        return Enqueue(queue, merged, self._priority, language, self._variables.masked())

    def _go(self, reference: str | None, flow: str) -> None:
        if reference is None:
            self._fallback_to_default_queue()
        else:
            self._goto(qualify(reference, flow))

    def _visit_play(self, node: PlayNode, flow: str) -> None:
        self._play(node.prompt, flow, lambda _: self._go(node.next, flow))

    def _visit_say(self, node: SayNode, flow: str) -> None:
        value = self._variables.values.get(node.value, "")
        if not speakable(value, node.say_as):
            # Better silence than "your balance is" followed by nothing or nonsense.
            self._emit(ev.SafetyStop, reason=f"cannot say {node.value!r} as {node.say_as}; skipped")
            self._go(node.next, flow)
            return
        if node.prompt is not None:
            self._play(node.prompt, flow)
        self._push(Say(value, node.say_as, self._language), lambda _: self._go(node.next, flow))

    def _visit_set(self, node: SetNode, flow: str) -> None:
        for name, template in node.variables.items():
            self._set_variable(name, self._interpolate(template))
        for skill, level in node.skills.items():
            self._skills[skill] = max(level, self._skills.get(skill, 0))
        if node.priority is not None:
            self._priority = max(self._priority, node.priority)
        self._go(node.next, flow)

    def _visit_condition(self, node: ConditionNode, flow: str) -> None:
        context = self._condition_context()
        for branch in node.branches:
            if condition_holds(branch.when, context):
                self._go(branch.goto, flow)
                return
        self._go(node.otherwise, flow)

    def _condition_context(self) -> ConditionContext:
        return ConditionContext(self._config.hotlines_file, self._hotline.schedule, self._now,
                                self._vip, self._language, self._variables.values)  # fmt: skip

    def _visit_action(self, node: ActionNode, flow: str) -> None:
        params = {name: self._interpolate(value) for name, value in node.params.items()}
        name = node.action or "webhook"

        def on_result(outcome: OutcomeType) -> None:
            assert isinstance(outcome, ActionResult)
            values, error = checked_values(outcome)
            self._emit(ev.ActionFinished, action=name, ok=error is None, error=error or "")
            if error is not None:
                self._go(node.on_error, flow)
                return
            for key, value in values.items():
                self._set_variable(key, value)
            self._go(node.next, flow)

        self._push(CallAction(name, params, node.timeout_ms, node.webhook), on_result)

    def _visit_queue(self, node: QueueNode, flow: str) -> None:
        if node.prompt is not None:
            self._play(node.prompt, flow)
        self._end_with(self._enqueue(node.queue, node.skills, node.priority, node.language))

    def _visit_transfer(self, node: TransferNode, flow: str) -> None:
        if node.prompt is not None:
            self._play(node.prompt, flow)
        self._end_with(Transfer(node.destination, node.destination_type))

    def _visit_hangup(self, node: HangupNode, flow: str) -> None:
        if node.prompt is not None:
            self._play(node.prompt, flow)
        self._end_with(Hangup("menu ended the call"))

    # --- nodes that wait for keys --------------------------------------------------------

    def _ask(self, node: KeyNode, flow: str) -> None:
        command = key_prompt(self._config, node, flow, self._language)
        self._push(command, lambda outcome: self._on_keys(node, flow, outcome))

    def _on_keys(self, node: KeyNode, flow: str, outcome: OutcomeType) -> None:
        assert isinstance(outcome, Digits)
        sensitive = isinstance(node, CollectNode) and node.sensitive
        if outcome.value is None or outcome.value == "":
            self._attempt += 1
            self._silent_steps += 1
            self._emit(ev.InputTimedOut, attempt=self._attempt)
            self._retry_or_leave(node, flow, "timeout")
            return
        value = outcome.value
        self._silent_steps = 0
        reason = rejection(node, value)
        shown = shown_keys(value, sensitive)
        self._emit(ev.DigitsEntered, digits=shown, accepted=reason is None, reason=reason or "")
        if reason is not None:
            self._attempt += 1
            self._retry_or_leave(node, flow, "invalid")
            return
        match node:
            case MenuNode():
                self._go(node.options[value], flow)
            case CollectNode():
                self._set_variable(node.variable, value, sensitive=node.sensitive)
                self._go(node.next, flow)
            case LanguageNode():
                self._choose_language(node.options[value])
                self._push(SetVariable(LANGUAGE_VARIABLE, self._language),
                           lambda _: self._go(node.next, flow))  # fmt: skip
            case _:
                assert_never(node)

    def _choose_language(self, language: str) -> None:
        self._language = language
        self._emit(ev.LanguageChosen, language=language)

    def _retry_or_leave(self, node: KeyNode, flow: str, cause: str) -> None:
        if self._silent_steps > self._limits[0]:
            self._emit(ev.SafetyStop, reason=f"more than {self._limits[0]} steps without input")
            self._fallback_to_default_queue()
            return
        if self._attempt <= node.max_retries:
            retry_prompt = node.timeout_prompt if cause == "timeout" else node.invalid_prompt
            if retry_prompt is not None:
                self._play(retry_prompt, flow)
            self._ask(node, flow)
            return
        destination = retries_exhausted(node, cause)
        shown = qualify(destination, flow) if destination else self._hotline.default_queue
        self._emit(ev.RetriesExhausted, cause=cause, destination=shown)
        self._go(destination, flow)


__all__ = ["IllegalOutcome", "MenuSession", "State"]

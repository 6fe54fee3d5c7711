"""Schema of the IVR configuration that operations teams edit (pydantic v2, frozen).

Files and what they hold:
- ``hotlines.yaml``: holiday calendars, opening schedules and one entry per product hotline;
- ``ivr/<flow>.yaml``: one flow per file, with its prompts and its nodes;
- ``queues.yaml`` / ``skills.yaml``: the catalogue that queue and skill references must match.

References: a node or prompt is named ``flow.name`` from anywhere, or just ``name`` inside its
own flow. Every scalar reaches these models as a string (see ``ivr.loader``), so DTMF keys and
language codes can never turn into booleans or numbers; pydantic turns the strings that stand
for numbers and booleans into them where a field asks for one.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
DtmfKey = Annotated[str, Field(pattern=r"^[0-9*#]{1,4}$")]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
SkillId = Identifier
QueueId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
# Names of hotlines, calendars and schedules: hyphens read better there.
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
# ``flow.name`` or ``name``; flows are file stems (lower case, digits, hyphens).
Reference = Annotated[str, Field(pattern=r"^([a-z0-9][a-z0-9-]*\.)?[a-z][a-z0-9_]*$")]
QualifiedReference = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*\.[a-z][a-z0-9_]*$")]
PhoneNumber = Annotated[str, Field(pattern=r"^\+?[0-9]{3,20}$")]
Priority = Annotated[int, Field(ge=0, le=100)]
SkillLevel = Annotated[int, Field(ge=1, le=10)]
TimeoutMs = Annotated[int, Field(ge=500, le=60_000)]
Retries = Annotated[int, Field(ge=0, le=9)]

_TIME_RANGE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")


def parse_time_range(text: str) -> tuple[int, int]:
    """``"08:00-20:00"`` → minutes since midnight ``(480, 1200)``; ``24:00`` ends a day."""
    match = _TIME_RANGE.match(text)
    if match is None:
        raise ValueError(f"time range {text!r} must look like 08:00-20:00")
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    if end > 24 * 60 or end <= start:
        raise ValueError(f"time range {text!r} must end after it starts, at 24:00 at the latest")
    return start, end


def _check_time_range(text: str) -> str:
    parse_time_range(text)
    return text


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc
    return name


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return pattern


TimeRange = Annotated[str, AfterValidator(_check_time_range)]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)  # index = datetime.weekday()


class Strict(BaseModel):
    # A misspelt key in a menu must be an error, not a silently ignored field.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Prompt(Strict):
    text: dict[LanguageCode, Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    # Audio file name without extension, looked up as ``<prompts dir>/<lang>/<audio>.wav``;
    # by default ``<flow>-<prompt id>``.
    audio: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")] | None = None


class Webhook(Strict):
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$")]
    method: Literal["GET", "POST"] = "POST"


class InputRetries(Strict):
    """Shared by every node that waits for keys."""

    timeout_ms: TimeoutMs = 5000
    inter_digit_timeout_ms: TimeoutMs = 3000
    max_retries: Retries = 2
    invalid_prompt: Reference | None = None
    timeout_prompt: Reference | None = None


class MenuNode(InputRetries):
    kind: Literal["menu"]
    prompt: Reference
    options: dict[DtmfKey, Reference] = Field(min_length=1)
    # Where to go when retries are used up; absent: the hotline's default queue.
    on_invalid: Reference | None = None
    on_timeout: Reference | None = None


class CollectNode(InputRetries):
    kind: Literal["collect"]
    prompt: Reference
    variable: Identifier
    min_length: Annotated[int, Field(ge=1, le=64)] = 1
    max_length: Annotated[int, Field(ge=1, le=64)] = 32
    terminator: Literal["#", "*", ""] = "#"
    pattern: Annotated[str, AfterValidator(_check_regex)] | None = None
    luhn: bool = False
    # Masked in every event, log and hand-over; the runner mutes recording while collecting.
    sensitive: bool = False
    next: Reference
    on_failure: Reference | None = None

    @model_validator(mode="after")
    def _lengths_in_order(self) -> CollectNode:
        if self.min_length > self.max_length:
            raise ValueError("min_length must not exceed max_length")
        return self


class LanguageNode(InputRetries):
    kind: Literal["language"]
    prompt: Reference
    options: dict[DtmfKey, LanguageCode] = Field(min_length=1)
    # Timeout or invalid input after the retries keep the current language and go on.
    next: Reference


class ActionNode(Strict):
    kind: Literal["action"]
    action: Identifier | None = None
    webhook: Webhook | None = None
    # Values may name variables as ``${name}``; ``${caller}`` and ``${did}`` always exist.
    params: dict[Identifier, str] = Field(default_factory=dict)
    timeout_ms: Annotated[int, Field(ge=100, le=30_000)] = 3000
    next: Reference
    on_error: Reference

    @model_validator(mode="after")
    def _one_implementation(self) -> ActionNode:
        if (self.action is None) == (self.webhook is None):
            raise ValueError("give exactly one of 'action' (a registered callable) or 'webhook'")
        return self


class Condition(Strict):
    """All given tests must hold."""

    open: bool | None = None
    holiday: bool | None = None
    vip: bool | None = None
    between: TimeRange | None = None
    weekdays: list[Weekday] | None = None
    language: LanguageCode | None = None
    variable: Identifier | None = None
    equals: str | None = None
    one_of: list[str] | None = None

    @model_validator(mode="after")
    def _meaningful(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one test")
        if (self.equals is not None or self.one_of is not None) and self.variable is None:
            raise ValueError("'equals' and 'one_of' need 'variable'")
        return self


class Branch(Strict):
    when: Condition
    goto: Reference


class ConditionNode(Strict):
    kind: Literal["condition"]
    branches: list[Branch] = Field(min_length=1)
    otherwise: Reference = Field(alias="else")


class PlayNode(Strict):
    kind: Literal["play"]
    prompt: Reference
    next: Reference


class SayNode(Strict):
    """Speak a variable (an amount, a reference number), after an optional prompt."""

    kind: Literal["say"]
    prompt: Reference | None = None
    value: Identifier
    say_as: Literal["number", "digits", "money"] = Field("number", alias="as")
    next: Reference


class SetNode(Strict):
    kind: Literal["set"]
    variables: dict[Identifier, str] = Field(default_factory=dict)
    skills: dict[SkillId, SkillLevel] = Field(default_factory=dict)
    priority: Priority | None = None
    next: Reference


class GotoNode(Strict):
    kind: Literal["goto"]
    target: Reference


class TransferNode(Strict):
    kind: Literal["transfer"]
    prompt: Reference | None = None
    destination: Annotated[str, Field(pattern=r"^\+?[0-9*#]{2,20}$")]
    destination_type: Literal["number", "extension"] = "extension"


class QueueNode(Strict):
    kind: Literal["queue"]
    prompt: Reference | None = None
    queue: QueueId
    skills: dict[SkillId, SkillLevel] = Field(default_factory=dict)
    priority: Priority | None = None
    # Absent: the caller's current language.
    language: LanguageCode | None = None


class HangupNode(Strict):
    kind: Literal["hangup"]
    prompt: Reference | None = None


Node = Annotated[
    MenuNode
    | CollectNode
    | LanguageNode
    | ActionNode
    | ConditionNode
    | PlayNode
    | SayNode
    | SetNode
    | GotoNode
    | TransferNode
    | QueueNode
    | HangupNode,
    Field(discriminator="kind"),
]

NodeName = Identifier


class FlowFile(Strict):
    description: str = ""
    prompts: dict[Identifier, Prompt] = Field(default_factory=dict)
    nodes: dict[NodeName, Node] = Field(min_length=1)


# --- hotlines.yaml -------------------------------------------------------------------------


class Holiday(Strict):
    date: date
    name: str = ""
    # Empty: closed all day. Otherwise the opening hours of that day (a make-up working day).
    hours: list[TimeRange] = Field(default_factory=list)


class Schedule(Strict):
    timezone: TimeZoneName = "Asia/Shanghai"
    always_open: bool = False
    weekly: dict[Weekday, list[TimeRange]] = Field(default_factory=dict)
    holidays: list[Slug] = Field(default_factory=list)  # calendar ids

    @model_validator(mode="after")
    def _hours_or_always(self) -> Schedule:
        if self.always_open and self.weekly:
            raise ValueError("'always_open' and 'weekly' exclude each other")
        return self


class ClosedBehaviour(Strict):
    prompt: QualifiedReference
    # Absent: the call ends (outcome ``closed``). Otherwise an out-of-hours flow, e.g. the
    # 24-hour lost-card line.
    then: QualifiedReference | None = None


class VipRecognition(Strict):
    numbers: list[PhoneNumber] = Field(default_factory=list)
    # A registered action called with ``caller``; it answers ``{"vip": true/false}``.
    lookup: Identifier | None = None
    priority: Priority = 50


class Hotline(Strict):
    id: Slug
    product: Identifier
    name: str = ""
    dids: list[Annotated[str, Field(pattern=r"^\+?[0-9]{3,20}$")]] = Field(min_length=1)
    languages: list[LanguageCode] = Field(min_length=1)
    default_language: LanguageCode
    entry: QualifiedReference
    schedule: Slug | None = None  # absent: open 24x7
    closed: ClosedBehaviour | None = None
    default_queue: QueueId
    vip: VipRecognition | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Hotline:
        if self.default_language not in self.languages:
            raise ValueError("default_language must be one of languages")
        if self.schedule is not None and self.closed is None:
            raise ValueError("a hotline with a schedule needs 'closed' (what callers hear)")
        return self


class HotlinesFile(Strict):
    calendars: dict[Slug, list[Holiday]] = Field(default_factory=dict)
    schedules: dict[Slug, Schedule] = Field(default_factory=dict)
    hotlines: list[Hotline] = Field(min_length=1)


# --- queues.yaml / skills.yaml ------------------------------------------------------------


class QueueDefinition(Strict):
    # The ACD's fields (strategy, relaxation, overflow …) live in the same file; acd.model
    # validates them strictly, so the IVR ignores what it does not use instead of refusing it.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    id: QueueId
    product: Identifier
    name: str = ""
    skills: list[SkillId] = Field(default_factory=list)

    @field_validator("skills", mode="before")
    @classmethod
    def _levels_are_the_acd_s(cls, value: object) -> object:
        # ``{credit_card: 5}`` (ACD minimum levels) names the same skills as ``[credit_card]``.
        return list(value) if isinstance(value, dict) else value


class QueuesFile(Strict):
    queues: list[QueueDefinition] = Field(min_length=1)


class SkillDefinition(Strict):
    id: SkillId
    description: str = ""


class SkillsFile(Strict):
    skills: list[SkillDefinition] = Field(min_length=1)


INPUT_KINDS = frozenset({"menu", "collect", "language"})

# The ACD routes on the caller's language like on any other skill.
LANGUAGE_SKILL_LEVEL = 1


def language_skill(language: str) -> str:
    return f"language_{language}"

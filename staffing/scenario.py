"""What-if scenarios for the simulator: traffic per queue, agent groups and shifts (YAML).

Invariants:
- a scenario is validated once, then immutable; the ACD part (queues' routing fields, skills,
  agents) is an ordinary ``acd.model.AcdConfig`` built from it, so the simulator routes with
  exactly the rules the live service would load;
- times are seconds from the scenario's virtual midnight (``00:00``); shifts are
  ``"HH:MM-HH:MM"`` within ``[00:00, duration]``;
- YAML is composed safely and every plain scalar stays a string until a field asks for a
  number (agent ``1001`` and language ``no`` remain strings); errors name ``file:line:col``;
- arrival rates come from exactly one source per queue: ``calls_per_interval`` (one number per
  interval), ``calls_per_hour`` (constant) or ``forecast`` (the JSON ``hotline forecast --json``
  prints, its ``calls`` per interval in order).
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import orjson
from pydantic import Field, field_validator, model_validator

from acd.model import AcdConfig, Agent, Queue, Skill, SkillId, SkillLevel, Strict
from cti.yaml_config import ConfigError, parse_yaml, read_text, validate

MAX_SCENARIO_BYTES = 2_000_000
Share = Annotated[float, Field(ge=0, le=1)]
Shift = Annotated[str, Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")]


def parse_clock(text: str) -> float:
    """``HH:MM`` → seconds after the virtual midnight (``24:00`` allowed)."""
    hours, minutes = int(text[:2]), int(text[3:5])
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day")
    return hours * 3600.0 + minutes * 60.0


def parse_shift(text: str) -> tuple[float, float]:
    start, end = parse_clock(text[:5]), parse_clock(text[6:])
    if end <= start:
        raise ValueError(f"shift {text!r} must end after it starts")
    return start, end


class Distribution(Strict):
    """A positive random duration: exponential, lognormal (mean and coefficient of variation)
    or constant."""

    kind: Literal["exponential", "lognormal", "constant"] = "exponential"
    mean_s: Annotated[float, Field(gt=0, le=86_400)]
    cv: Annotated[float, Field(gt=0, le=10)] = 1.0  # lognormal only


class CallMix(Strict):
    """A share of the queue's calls that also needs these skills (beyond the queue's own)."""

    share: Share
    skills: dict[SkillId, SkillLevel]


class Traffic(Strict):
    calls_per_interval: tuple[Annotated[float, Field(ge=0)], ...] | None = None
    calls_per_hour: Annotated[float, Field(ge=0)] | None = None
    forecast: str | None = None  # path, relative to the scenario file
    handle: Distribution  # talk time; each agent's wrap-up is added by the engine
    patience: Distribution | None = None  # None: callers never hang up
    vip_share: Share = 0.0
    vip_priority: Annotated[int, Field(ge=1, le=100)] = 50
    languages: dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], Share] = Field(
        default_factory=dict
    )  # the rest of the calls carry no language
    mix: tuple[CallMix, ...] = ()

    @model_validator(mode="after")
    def _one_source_and_shares(self) -> Traffic:
        sources = [self.calls_per_interval, self.calls_per_hour, self.forecast]
        if sum(s is not None for s in sources) != 1:
            raise ValueError("give exactly one of calls_per_interval, calls_per_hour, forecast")
        if sum(self.languages.values()) > 1 + 1e-9:
            raise ValueError("language shares add up to more than 1")
        if sum(m.share for m in self.mix) > 1 + 1e-9:
            raise ValueError("mix shares add up to more than 1")
        return self


class SimQueue(Queue):
    """An ACD queue (every routing field of ``acd.model.Queue``) plus its simulated traffic."""

    traffic: Traffic

    def acd_queue(self) -> Queue:
        return Queue.model_validate(self.model_dump(exclude={"traffic"}))


class AgentGroup(Strict):
    """``count`` identical agents ``<prefix>0001`` …, logged in during their shifts."""

    prefix: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=40)]
    count: Annotated[int, Field(ge=1, le=100_000)]
    skills: dict[SkillId, SkillLevel] = Field(default_factory=dict)
    wrap_up_s: Annotated[float, Field(ge=0, le=3600)] = 0.0
    shifts: tuple[Shift, ...] = ()  # none: logged in from 00:00 until the run ends

    @field_validator("skills", mode="before")
    @classmethod
    def _skills_list_means_level_one(cls, value: object) -> object:
        return dict.fromkeys(value, 1) if isinstance(value, list) else value

    @field_validator("shifts")
    @classmethod
    def _shifts_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        spans = sorted(parse_shift(text) for text in value)
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise ValueError("shifts overlap")
        return value

    def agent_ids(self) -> list[str]:
        width = max(4, len(str(self.count)))
        return [f"{self.prefix}{i:0{width}d}" for i in range(1, self.count + 1)]


class Scenario(Strict):
    seed: int = 1
    interval_min: Annotated[int, Field(ge=1, le=1440)] = 30
    duration_h: Annotated[float, Field(gt=0, le=24 * 14)] = 24.0
    warmup_min: Annotated[float, Field(ge=0)] = 0.0
    ring: Distribution | None = None  # None: agents answer the moment they are offered
    sl_formula: Literal[
        "answered_within_t_over_answered", "asterisk_sl2", "removed_within_t_over_queued"
    ] = "answered_within_t_over_answered"
    skills: tuple[Skill, ...] = ()
    queues: tuple[SimQueue, ...] = Field(min_length=1)
    agents: tuple[AgentGroup, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        problems: list[str] = []
        intervals = self.intervals
        for queue in self.queues:
            given = queue.traffic.calls_per_interval
            if given is not None and len(given) != intervals:
                problems.append(
                    f"queue {queue.id}: {len(given)} calls_per_interval for {intervals} intervals"
                )
        for group in self.agents:
            for shift in group.shifts:
                if parse_shift(shift)[1] > self.duration_s:
                    problems.append(f"agents {group.prefix}: shift {shift} ends after the run")
        if self.warmup_min * 60 >= self.duration_s:
            problems.append("warm-up must end before the run does")
        prefixes = [g.prefix for g in self.agents]
        if len(set(prefixes)) != len(prefixes):
            problems.append("duplicate agent prefix")
        if problems:
            raise ValueError("; ".join(problems))
        self.acd_config()  # references (skills, overflow targets) resolve, or raise
        return self

    @property
    def duration_s(self) -> float:
        return self.duration_h * 3600.0

    @property
    def interval_s(self) -> float:
        return self.interval_min * 60.0

    @property
    def intervals(self) -> int:
        return math.ceil(self.duration_s / self.interval_s - 1e-9)

    def acd_config(self) -> AcdConfig:
        agents = [
            Agent(
                id=agent_id, device=f"Local/{agent_id}@sim", skills=g.skills, wrap_up_s=g.wrap_up_s
            )
            for g in self.agents
            for agent_id in g.agent_ids()
        ]
        return AcdConfig(
            skills=self.skills,
            queues=tuple(q.acd_queue() for q in self.queues),
            agents=tuple(agents),
        )


def arrival_counts(scenario: Scenario, queue: SimQueue, base_dir: Path) -> list[float]:
    """Expected calls per interval of ``queue`` (the Poisson means)."""
    traffic = queue.traffic
    if traffic.calls_per_interval is not None:
        return list(traffic.calls_per_interval)
    if traffic.calls_per_hour is not None:
        return [traffic.calls_per_hour * scenario.interval_s / 3600.0] * scenario.intervals
    assert traffic.forecast is not None
    return _forecast_counts(base_dir / traffic.forecast, scenario)


def _forecast_counts(path: Path, scenario: Scenario) -> list[float]:
    try:
        report = orjson.loads(path.read_bytes())
        rows = report["intervals"]
        counts = [float(row["calls"]) for row in rows]
        minutes = int(report["interval_min"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError([f"{path}:1:1: not a `hotline forecast --json` report ({exc})"]) from exc
    if minutes != scenario.interval_min:
        raise ConfigError([f"{path}:1:1: forecast of {minutes}-min intervals, scenario uses "
                           f"{scenario.interval_min}"])  # fmt: skip
    if len(counts) < scenario.intervals:
        raise ConfigError([f"{path}:1:1: {len(counts)} intervals, need {scenario.intervals}"])
    return counts[: scenario.intervals]


def load_scenario(path: Path) -> Scenario:
    """Read, compose safely and validate a scenario file; ``ConfigError`` lists every problem."""
    return scenario_from_text(read_text(path, max_bytes=MAX_SCENARIO_BYTES), str(path))


def scenario_from_text(text: str, file: str = "<scenario>") -> Scenario:
    return validate(Scenario, parse_yaml(text, file), root="scenario")

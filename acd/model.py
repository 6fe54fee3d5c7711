"""ACD configuration model: skills, agents and queues (validated once, then immutable).

Invariants:
- every model is frozen; the routing core may share instances freely;
- identifiers are strings (YAML 1.1 would turn an agent id ``1001`` or a skill ``no`` into
  int/bool: the loader keeps every scalar a string and the models convert where a field asks);
- skill levels are 1..10; a requirement ``{skill: n}`` is met by an agent whose level is >= n;
- relaxation steps of a queue are sorted by ``after_s`` and each step *replaces* the previous
  one (a step states the whole rule in force from that waiting time on).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SkillId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
QueueId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$", max_length=64)]
SkillLevel = Annotated[int, Field(ge=1, le=10)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]
# Asterisk dial strings: PJSIP/1001, SIP/peer, Local/agent1@test-agents/n.
Device = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9]*/[^\s,|]+$", max_length=128)]

LANGUAGE_SKILL_PREFIX = "language_"
# The IVR hands over the caller's language; the ACD requires it as a skill at this level.
LANGUAGE_SKILL_LEVEL = 1


def language_skill(language: str) -> str:
    return f"{LANGUAGE_SKILL_PREFIX}{language}"


class Strict(BaseModel):
    # A misspelt key in a file people edit must be an error, not a silently ignored field.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Skill(Strict):
    id: SkillId
    description: str = ""


class Agent(Strict):
    id: AgentId
    name: str = ""
    device: Device | None = None  # default device; login may name another one
    skills: dict[SkillId, SkillLevel] = Field(default_factory=dict)
    wrap_up_s: Seconds = 10.0
    # Consecutive unanswered offers before the agent is paused with reason ``no-answer``.
    no_answer_limit: Annotated[int, Field(ge=1, le=20)] = 2


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"  # agent idle the longest first
    BEST_SKILL = "best_skill"  # highest sum of levels on the queue's skills, then idle
    FEWEST_CALLS = "fewest_calls"  # fewest calls answered since login, then idle


class ServiceLevelTarget(Strict):
    percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    within_s: Annotated[float, Field(gt=0, le=3600)] = 20.0


class RelaxationStep(Strict):
    """From ``after_s`` of waiting in the queue, the rule in force becomes this one."""

    after_s: Annotated[float, Field(gt=0, le=86_400)]
    # Cap on every minimum level of the queue's (and the call's) skills: "accept level >= 3".
    min_level: SkillLevel | None = None
    # Agents eligible for these queues' own requirements are accepted too.
    also_queues: tuple[QueueId, ...] = ()
    # Requirements dropped from this step on (e.g. a language once the wait gets long).
    drop_skills: tuple[SkillId, ...] = ()


class OverflowTarget(Strict):
    kind: Literal["queue", "voicemail", "closed"]
    # Queue id, mailbox, or prompt of the closed message.
    name: str = Field(min_length=1, max_length=128)


class OverflowRule(Strict):
    """``max_wait``: waited ``threshold_s`` in this queue; ``ewt``: estimate above it."""

    when: Literal["max_wait", "ewt"]
    threshold_s: Annotated[float, Field(gt=0, le=86_400)]
    target: OverflowTarget


class AnnouncementPolicy(Strict):
    every_s: Annotated[float, Field(ge=10, le=3600)] = 45.0
    first_after_s: Annotated[float, Field(ge=0, le=3600)] = 15.0
    position: bool = True
    ewt: bool = True


class Queue(Strict):
    id: QueueId
    product: str = ""
    name: str = ""
    # ``[credit_card]`` (level 1) or ``{credit_card: 5}``.
    skills: dict[SkillId, SkillLevel] = Field(default_factory=dict)
    strategy: Strategy = Strategy.LONGEST_IDLE
    # Multiplies the waiting time when an agent serving several queues compares callers.
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    service_level: ServiceLevelTarget = ServiceLevelTarget()
    relaxation: tuple[RelaxationStep, ...] = ()
    overflow: tuple[OverflowRule, ...] = ()
    announcements: AnnouncementPolicy = AnnouncementPolicy()
    ring_timeout_s: Annotated[float, Field(ge=3, le=120)] = 15.0
    # The Asterisk queue the dialplan falls back to when Hotline does not answer.
    native_queue: str | None = None
    # Handle time assumed before any call of this queue has been handled (EWT prior).
    prior_handle_s: Annotated[float, Field(gt=0, le=7200)] = 180.0

    @field_validator("skills", mode="before")
    @classmethod
    def _skills_list_means_level_one(cls, value: object) -> object:
        if isinstance(value, list):
            return dict.fromkeys(value, 1)
        return value

    @model_validator(mode="after")
    def _steps_ascending(self) -> Queue:
        times = [step.after_s for step in self.relaxation]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("relaxation steps must have strictly increasing after_s")
        return self

    def served_by(self, agent: Agent) -> bool:
        """The agent meets this queue's own skill requirements (language comes per call)."""
        return all(agent.skills.get(skill, 0) >= level for skill, level in self.skills.items())


class AcdConfig(Strict):
    skills: tuple[Skill, ...] = ()
    queues: tuple[Queue, ...] = Field(min_length=1)
    agents: tuple[Agent, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> AcdConfig:
        queue_ids = [q.id for q in self.queues]
        problems: list[str] = []
        if len(set(queue_ids)) != len(queue_ids):
            problems.append("duplicate queue id")
        agent_ids = [a.id for a in self.agents]
        if len(set(agent_ids)) != len(agent_ids):
            problems.append("duplicate agent id")
        known_queues = set(queue_ids)
        known_skills = {s.id for s in self.skills}
        for queue in self.queues:
            for step in queue.relaxation:
                problems += [
                    f"queue {queue.id}: relaxation names unknown queue {other!r}"
                    for other in step.also_queues
                    if other not in known_queues
                ]
            for rule in queue.overflow:
                if rule.target.kind == "queue" and rule.target.name not in known_queues:
                    problems.append(
                        f"queue {queue.id}: overflow to unknown queue {rule.target.name!r}"
                    )
            if known_skills:
                problems += [
                    f"queue {queue.id}: unknown skill {skill!r}"
                    for skill in queue.skills
                    if skill not in known_skills
                ]
        if known_skills:
            for agent in self.agents:
                problems += [
                    f"agent {agent.id}: unknown skill {skill!r}"
                    for skill in agent.skills
                    if skill not in known_skills
                ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def queue(self, queue_id: str) -> Queue:
        for queue in self.queues:
            if queue.id == queue_id:
                return queue
        raise KeyError(queue_id)

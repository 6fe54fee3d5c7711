"""``/api/v1/agents``: who is logged in and in what state; an agent's own requests (login,
pause with a configured reason, disposition after a call). Supervisors and admins may do the
same for anyone (forcing a state); wallboards may only read. Admins alone edit an agent's
stored settings (``PUT .../skills``, ``PATCH``): skills and device apply at its next login,
wrap-up and no-answer limit at its next call (the response says ``applies: next_login``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from acd.model import Agent, AgentId, Device, Seconds, SkillId, SkillLevel
from hotline.api.auth import Principal
from hotline.api.deps import (
    CurrentPrincipal,
    Live,
    LiveConfig,
    Services,
    forbid,
    may_act_on_agent,
    may_read_agent,
    require_roles,
    wired,
)
from hotline.api.ports import InvalidAgentSettings
from hotline.live.model import AgentView

router = APIRouter(prefix="/api/v1", tags=["agents"])


class LoginIn(BaseModel):
    device: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z][A-Za-z0-9]*/[^\s,|]+$")


class PauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=64)


class DispositionIn(BaseModel):
    call_id: str = Field(min_length=1, max_length=128)
    disposition: str = Field(min_length=1, max_length=64)
    note: str = Field("", max_length=2000)


class PauseReasonsOut(BaseModel):
    pause_reasons: list[str]
    dispositions: list[str]  # empty: free text


Admin = Annotated[Principal, require_roles("admin")]


class SkillsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skills: dict[SkillId, SkillLevel]  # the whole set: a skill left out is removed


class AgentPatchIn(BaseModel):
    """Only the fields given change; ``device: null`` clears the default device."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=255)
    device: Device | None = None
    wrap_up_s: Seconds | None = None
    no_answer_limit: int | None = Field(None, ge=1, le=20)


class AgentSettingsOut(BaseModel):
    id: AgentId
    name: str
    device: str | None
    skills: dict[str, int]
    wrap_up_s: float
    no_answer_limit: int
    applies: Literal["next_login"] = "next_login"

    @classmethod
    def of(cls, agent: Agent) -> AgentSettingsOut:
        return cls(**agent.model_dump())


def agent_or_default(live: Live, agent_id: str) -> AgentView:
    view = live.stats.agent_view(agent_id)
    return view or AgentView(agent_id, "logged_out", None, None, None, [], None, 0)


@router.get(
    "/agents",
    response_model=list[AgentView],
    dependencies=[require_roles("supervisor", "admin", "wallboard")],
)
async def list_agents(live: Live, services: Services) -> list[AgentView]:
    ids = set(live.stats.agent_ids())
    if services.directory is not None:
        ids.update(services.directory.agent_ids())
    return [agent_or_default(live, agent_id) for agent_id in sorted(ids)]


@router.get("/agents/{agent_id}", response_model=AgentView)
async def get_agent(agent_id: str, principal: CurrentPrincipal, live: Live) -> AgentView:
    may_read_agent(principal, agent_id)
    return agent_or_default(live, agent_id)


@router.get("/pause-reasons", response_model=PauseReasonsOut)
async def pause_reasons(_: CurrentPrincipal, config: LiveConfig) -> PauseReasonsOut:
    return PauseReasonsOut(pause_reasons=config.pause_reasons, dispositions=config.dispositions)


@router.post("/agents/{agent_id}/login", status_code=status.HTTP_202_ACCEPTED)
async def login(
    agent_id: str, body: LoginIn, principal: CurrentPrincipal, services: Services
) -> dict[str, str]:
    may_act_on_agent(principal, agent_id)
    await wired(services.agents, "agent control").login(agent_id, body.device)
    return {"status": "accepted"}


@router.post("/agents/{agent_id}/logout", status_code=status.HTTP_202_ACCEPTED)
async def logout(agent_id: str, principal: CurrentPrincipal, services: Services) -> dict[str, str]:
    may_act_on_agent(principal, agent_id)
    await wired(services.agents, "agent control").logout(agent_id)
    return {"status": "accepted"}


@router.post("/agents/{agent_id}/pause", status_code=status.HTTP_202_ACCEPTED)
async def pause(
    agent_id: str,
    body: PauseIn,
    principal: CurrentPrincipal,
    services: Services,
    config: LiveConfig,
) -> dict[str, str]:
    may_act_on_agent(principal, agent_id)
    if body.reason not in config.pause_reasons:
        raise HTTPException(
            422,
            f"unknown pause reason; use one of {', '.join(config.pause_reasons)}",
        )
    await wired(services.agents, "agent control").pause(agent_id, body.reason)
    return {"status": "accepted"}


@router.post("/agents/{agent_id}/unpause", status_code=status.HTTP_202_ACCEPTED)
async def unpause(agent_id: str, principal: CurrentPrincipal, services: Services) -> dict[str, str]:
    may_act_on_agent(principal, agent_id)
    await wired(services.agents, "agent control").unpause(agent_id)
    return {"status": "accepted"}


@router.post("/agents/{agent_id}/disposition", status_code=status.HTTP_202_ACCEPTED)
async def disposition(
    agent_id: str,
    body: DispositionIn,
    principal: CurrentPrincipal,
    services: Services,
    config: LiveConfig,
    live: Live,
) -> dict[str, str]:
    may_act_on_agent(principal, agent_id)
    if config.dispositions and body.disposition not in config.dispositions:
        raise HTTPException(422, "unknown disposition")
    view = live.stats.agent_view(agent_id)
    if principal.role == "agent" and (view is None or view.call_id != body.call_id):
        raise forbid("a disposition is set on your own last call")
    await wired(services.agents, "agent control").set_disposition(
        agent_id, body.call_id, body.disposition, body.note
    )
    return {"status": "accepted"}


@router.put("/agents/{agent_id}/skills", response_model=AgentSettingsOut)
async def set_skills(
    agent_id: str, body: SkillsIn, admin: Admin, services: Services
) -> AgentSettingsOut:
    admin_port = wired(services.agent_admin, "agent administration")
    try:
        agent = await admin_port.set_skills(agent_id, body.skills, admin.name)
    except InvalidAgentSettings as exc:
        raise HTTPException(422, str(exc)) from exc
    return AgentSettingsOut.of(agent)


@router.patch("/agents/{agent_id}", response_model=AgentSettingsOut)
async def update_agent(
    agent_id: str, body: AgentPatchIn, admin: Admin, services: Services
) -> AgentSettingsOut:
    admin_port = wired(services.agent_admin, "agent administration")
    changes = body.model_dump(include=body.model_fields_set)
    nulls = sorted(k for k, v in changes.items() if v is None and k != "device")
    if nulls:
        raise HTTPException(422, f"may not be null: {nulls}")
    try:
        agent = await admin_port.update(agent_id, changes, admin.name)
    except InvalidAgentSettings as exc:
        raise HTTPException(422, str(exc)) from exc
    return AgentSettingsOut.of(agent)

"""``/api/v1/supervisor``: listen, whisper and barge on an agent's call (ChanSpy rung on the
supervisor's device), force an agent's state, and read a call's routing decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from cti.events import Scalar
from hotline.api.deps import LiveConfig, Services, require_roles, wired
from hotline.api.ports import SpyMode

router = APIRouter(
    prefix="/api/v1/supervisor",
    tags=["supervisor"],
    dependencies=[require_roles("supervisor", "admin")],
)
DEVICE = r"^[A-Za-z][A-Za-z0-9]*/[^\s,|]+$"


class SpyIn(BaseModel):
    device: str = Field(max_length=128, pattern=DEVICE)  # where the supervisor answers


class ForceStateIn(BaseModel):
    state: Literal["available", "paused", "logged_out"]
    reason: str | None = Field(None, max_length=64)
    device: str | None = Field(None, max_length=128, pattern=DEVICE)  # for a forced login


class TraceOut(BaseModel):
    call_id: str
    decisions: Sequence[Mapping[str, Scalar]]


@router.post("/agents/{agent_id}/{mode}", status_code=status.HTTP_202_ACCEPTED)
async def spy(agent_id: str, mode: SpyMode, body: SpyIn, services: Services) -> dict[str, str]:
    await wired(services.supervisor, "supervisor control").spy(agent_id, body.device, mode)
    return {"status": "accepted"}


@router.put("/agents/{agent_id}/state", status_code=status.HTTP_202_ACCEPTED)
async def force_state(
    agent_id: str, body: ForceStateIn, services: Services, config: LiveConfig
) -> dict[str, str]:
    control = wired(services.agents, "agent control")
    if body.state == "logged_out":
        await control.logout(agent_id)
    elif body.state == "paused":
        reason = body.reason or config.pause_reasons[0]
        if reason not in config.pause_reasons:
            raise HTTPException(422, "unknown pause reason")
        await control.pause(agent_id, reason)
    else:
        agent = services.live.stats.agent_view(agent_id) if services.live else None
        if agent is None or agent.state == "logged_out":
            await control.login(agent_id, body.device)
        else:
            await control.unpause(agent_id)
    return {"status": "accepted"}


@router.get("/calls/{call_id}/trace", response_model=TraceOut)
async def routing_trace(call_id: str, services: Services) -> TraceOut:
    decisions = wired(services.traces, "routing traces").routing_trace(call_id)
    if decisions is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no routing trace for this call")
    return TraceOut(call_id=call_id, decisions=decisions)

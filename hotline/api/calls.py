"""``/api/v1/calls``: active calls with what the IVR collected (sensitive fields masked), and
the actions an agent may take on its own call: hang up, hold, unhold, transfer (blind or
attended) to an agent, a queue or a number. Supervisors and admins may act on any call."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from hotline.api.deps import CurrentPrincipal, Live, Services, forbid, may_act_on_call, wired
from hotline.api.ports import TransferKind
from hotline.live.model import CallView

router = APIRouter(prefix="/api/v1", tags=["calls"])


class TransferIn(BaseModel):
    kind: TransferKind
    target: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@+*#-]+$")
    attended: bool = False


@router.get("/calls", response_model=list[CallView])
async def list_calls(principal: CurrentPrincipal, live: Live) -> list[CallView]:
    if principal.role == "wallboard":
        raise forbid("wallboards see queue figures, not calls")
    views = [live.stats.call_view(call_id) for call_id in list(live.stats.calls)]
    calls = [view for view in views if view is not None]
    if principal.role == "agent":
        calls = [call for call in calls if call.agent_id == principal.agent_id]
    return calls


@router.get("/calls/{call_id}", response_model=CallView)
async def get_call(call_id: str, principal: CurrentPrincipal, live: Live) -> CallView:
    if principal.role == "wallboard":
        raise forbid("wallboards see queue figures, not calls")
    if principal.role == "agent":
        may_act_on_call(principal, live, call_id)
    view = live.stats.call_view(call_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such active call")
    return view


@router.post("/calls/{call_id}/hangup", status_code=status.HTTP_202_ACCEPTED)
async def hangup(
    call_id: str, principal: CurrentPrincipal, live: Live, services: Services
) -> dict[str, str]:
    may_act_on_call(principal, live, call_id)
    await wired(services.calls, "call control").hangup(call_id)
    return {"status": "accepted"}


@router.post("/calls/{call_id}/hold", status_code=status.HTTP_202_ACCEPTED)
async def hold(
    call_id: str, principal: CurrentPrincipal, live: Live, services: Services
) -> dict[str, str]:
    may_act_on_call(principal, live, call_id)
    await wired(services.calls, "call control").hold(call_id)
    return {"status": "accepted"}


@router.post("/calls/{call_id}/unhold", status_code=status.HTTP_202_ACCEPTED)
async def unhold(
    call_id: str, principal: CurrentPrincipal, live: Live, services: Services
) -> dict[str, str]:
    may_act_on_call(principal, live, call_id)
    await wired(services.calls, "call control").unhold(call_id)
    return {"status": "accepted"}


@router.post("/calls/{call_id}/transfer", status_code=status.HTTP_202_ACCEPTED)
async def transfer(
    call_id: str, body: TransferIn, principal: CurrentPrincipal, live: Live, services: Services
) -> dict[str, str]:
    may_act_on_call(principal, live, call_id)
    control = wired(services.calls, "call control")
    await control.transfer(call_id, body.kind, body.target, attended=body.attended)
    return {"status": "accepted"}


@router.post("/calls/{call_id}/transfer/complete", status_code=status.HTTP_202_ACCEPTED)
async def complete_transfer(
    call_id: str, principal: CurrentPrincipal, live: Live, services: Services
) -> dict[str, str]:
    """Attended transfer: the held caller joins the consulted party; the agent leaves."""
    may_act_on_call(principal, live, call_id)
    await wired(services.calls, "call control").complete_transfer(call_id)
    return {"status": "accepted"}


@router.post("/calls/{call_id}/transfer/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_transfer(
    call_id: str, principal: CurrentPrincipal, live: Live, services: Services
) -> dict[str, str]:
    """Attended transfer: drop the consultation and take the caller off hold."""
    may_act_on_call(principal, live, call_id)
    await wired(services.calls, "call control").cancel_transfer(call_id)
    return {"status": "accepted"}

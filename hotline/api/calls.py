"""``/api/v1/calls``: active calls with what the IVR collected (sensitive fields masked), and
the actions an agent may take on its own call: hang up, hold, unhold, transfer (blind or
attended) to an agent, a queue or a number. Supervisors and admins may act on any call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from hotline.api.deps import CurrentPrincipal, Live, Services, forbid, may_act_on_call, wired
from hotline.api.ports import CallControl, TransferKind
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
    calls = live.stats.call_views()
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


def _own_call(
    call_id: str, principal: CurrentPrincipal, live: Live, services: Services
) -> CallControl:
    """Call control, for a call the principal may act on (403 otherwise, 503 when unwired)."""
    may_act_on_call(principal, live, call_id)
    return wired(services.calls, "call control")


OwnCall = Annotated[CallControl, Depends(_own_call)]
ACCEPTED = {"status": "accepted"}


@router.post("/calls/{call_id}/hangup", status_code=status.HTTP_202_ACCEPTED)
async def hangup(call_id: str, control: OwnCall) -> dict[str, str]:
    await control.hangup(call_id)
    return ACCEPTED


@router.post("/calls/{call_id}/hold", status_code=status.HTTP_202_ACCEPTED)
async def hold(call_id: str, control: OwnCall) -> dict[str, str]:
    """The caller hears music on hold; the agent hears nothing until it takes it back."""
    await control.hold(call_id)
    return ACCEPTED


@router.post("/calls/{call_id}/unhold", status_code=status.HTTP_202_ACCEPTED)
async def unhold(call_id: str, control: OwnCall) -> dict[str, str]:
    await control.unhold(call_id)
    return ACCEPTED


@router.post("/calls/{call_id}/transfer", status_code=status.HTTP_202_ACCEPTED)
async def transfer(call_id: str, body: TransferIn, control: OwnCall) -> dict[str, str]:
    """Blind: the caller goes at once. Attended: the caller is held while the agent talks
    with the target; then ``transfer/complete`` or ``transfer/cancel``."""
    await control.transfer(call_id, body.kind, body.target, attended=body.attended)
    return ACCEPTED


@router.post("/calls/{call_id}/transfer/complete", status_code=status.HTTP_202_ACCEPTED)
async def complete_transfer(call_id: str, control: OwnCall) -> dict[str, str]:
    """Attended transfer: the held caller joins the consulted party; the agent leaves."""
    await control.complete_transfer(call_id)
    return ACCEPTED


@router.post("/calls/{call_id}/transfer/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_transfer(call_id: str, control: OwnCall) -> dict[str, str]:
    """Attended transfer: drop the consultation and take the caller off hold."""
    await control.cancel_transfer(call_id)
    return ACCEPTED

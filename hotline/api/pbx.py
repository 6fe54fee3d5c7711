"""The PBX as Hotline sees it through AMI: version, uptime, calls."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, status

from hotline.api.deps import Services, require_roles

router = APIRouter(prefix="/api/v1", tags=["pbx"])


@router.get("/pbx", dependencies=[require_roles("admin", "supervisor", "wallboard")])
async def get_pbx(services: Services) -> dict[str, object]:
    if not services.pbx.connected:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "AMI is not connected")
    try:
        info = await services.pbx.pbx_info()
    except Exception as exc:  # the PBX may drop between the check and the action
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"AMI error: {exc}") from exc
    return {"connected": True, **asdict(info)}

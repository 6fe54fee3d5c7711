"""Liveness and readiness probes (unauthenticated, no secrets in the answers)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from hotline.api.ports import ApiServices

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, response: Response) -> dict[str, object]:
    services: ApiServices = request.app.state.services
    checks = {"ami": services.pbx.connected, "database": await services.database.ping()}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ready" if ready else "not ready", "checks": checks}

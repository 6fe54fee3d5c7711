"""Liveness and readiness probes (unauthenticated, no secrets in the answers)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hotline.api.deps import Services

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: Services, response: Response) -> dict[str, object]:
    checks = {"ami": services.pbx.connected, "database": await services.database.ping()}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ready" if ready else "not ready", "checks": checks}

"""``GET /api/v1/config/status``: which IVR configuration serves calls, and why a change was
refused (``ApiServices.config_status``, the IVR's ``ConfigStore``; 503 while not wired)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from hotline.api.deps import Services, require_roles, wired
from ivr.reload import ConfigStatus

router = APIRouter(prefix="/api/v1", tags=["config"])


class ProblemOut(BaseModel):
    file: str
    line: int
    col: int
    message: str
    text: str  # file:line:col: message


class ReloadErrorOut(BaseModel):
    at: datetime
    version: str
    problems: list[ProblemOut]


class ConfigStatusOut(BaseModel):
    directory: str
    serving: bool  # False: no valid configuration yet, callers go to the native queue
    version: str | None
    loaded_at: datetime | None
    files: list[str]
    last_error: ReloadErrorOut | None
    reloads: int
    refused: int


def status_out(status: ConfigStatus) -> ConfigStatusOut:
    error = status.last_error
    return ConfigStatusOut(
        directory=status.directory,
        serving=status.version is not None,
        version=status.version,
        loaded_at=status.loaded_at,
        files=list(status.files),
        last_error=None
        if error is None
        else ReloadErrorOut(
            at=error.at,
            version=error.version,
            problems=[
                ProblemOut(file=p.file, line=p.line, col=p.col, message=p.message, text=str(p))
                for p in error.problems
            ],
        ),
        reloads=status.reloads,
        refused=status.refused,
    )


@router.get(
    "/config/status",
    dependencies=[require_roles("admin", "supervisor")],
    response_model=ConfigStatusOut,
)
async def get_config_status(services: Services) -> ConfigStatusOut:
    port = wired(services.config_status, "the configuration status")
    return status_out(port.config_status())

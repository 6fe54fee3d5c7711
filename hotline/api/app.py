"""The FastAPI application factory: ``create_app(settings, services)``, no globals.

Routes are an explicit table here (one router per resource), the same for every app: a part
the services do not wire answers 503 rather than disappearing. Routers reach the settings and
services only through ``hotline.api.deps``. The web pages are static files from
``hotline/web`` (plain HTML, JS and CSS, no build step)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from cti.settings import Settings
from hotline.api import (
    agents,
    calls,
    config_status,
    health,
    metrics,
    pbx,
    queues,
    recordings,
    reports,
    staffing,
    supervisor,
    wallboard,
    ws,
)
from hotline.api.deps import bind
from hotline.api.ports import ApiServices, ControlError, ControlRejected, UnknownTarget

log = logging.getLogger("hotline.api")
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
PAGES = ("agent", "supervisor", "wallboard")


def create_app(settings: Settings, services: ApiServices) -> FastAPI:
    app = FastAPI(
        title="Hotline", version="0.1.0", docs_url="/api/docs", openapi_url="/api/v1/openapi.json"
    )
    bind(app, settings, services)
    for router in (
        health.router,
        pbx.router,
        agents.router,
        queues.router,
        calls.router,
        supervisor.router,
        wallboard.router,
        metrics.router,
        reports.router,
        ws.router,
        config_status.router,
        staffing.router,
        recordings.router,
    ):
        app.include_router(router)
    _add_control_errors(app)
    _add_pages(app)
    return app


def _add_control_errors(app: FastAPI) -> None:
    @app.exception_handler(ControlError)
    async def control_error(_: Request, exc: ControlError) -> JSONResponse:
        if isinstance(exc, ControlRejected):
            code = status.HTTP_409_CONFLICT
        elif isinstance(exc, UnknownTarget):
            code = status.HTTP_404_NOT_FOUND
        else:
            code = status.HTTP_502_BAD_GATEWAY
        return JSONResponse({"detail": str(exc)}, status_code=code)


def _add_pages(app: FastAPI) -> None:
    if not WEB_DIR.is_dir():  # an install without the pages still serves the API
        log.warning("web pages not found", extra={"dir": str(WEB_DIR)})
        return
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> RedirectResponse:
        return RedirectResponse("/agent")

    for page in PAGES:
        app.add_api_route(
            f"/{page}", _page(WEB_DIR / f"{page}.html"), include_in_schema=False, methods=["GET"]
        )


def _page(path: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def serve_page() -> FileResponse:
        # Pages change with releases; never let a TV keep yesterday's script.
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    return serve_page

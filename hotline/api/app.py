"""The FastAPI application factory: ``create_app(settings, services)``, no globals."""

from __future__ import annotations

from fastapi import FastAPI

from cti.settings import Settings
from hotline.api import health, pbx
from hotline.api.ports import ApiServices


def create_app(settings: Settings, services: ApiServices) -> FastAPI:
    app = FastAPI(
        title="Hotline", version="0.1.0", docs_url="/api/docs", openapi_url="/api/v1/openapi.json"
    )
    app.state.services = services
    app.state.api_settings = settings.api
    app.include_router(health.router)
    app.include_router(pbx.router)
    return app

"""Dependencies shared by the routers, declared once as named ``Annotated`` aliases, and the
authorisation rules: an agent acts only on itself and its own calls; wallboards only read."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request, status

from cti.settings import LiveSettings
from hotline.api.auth import CurrentPrincipal, Principal
from hotline.api.ports import ApiServices
from hotline.live.hub import LiveHub

T = TypeVar("T")


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


def _live_settings(request: Request) -> LiveSettings:
    settings: LiveSettings = request.app.state.live_settings
    return settings


def _hub(services: Annotated[ApiServices, Depends(_services)]) -> LiveHub:
    return wired(services.live, "live state")


Services = Annotated[ApiServices, Depends(_services)]
Live = Annotated[LiveHub, Depends(_hub)]
LiveConfig = Annotated[LiveSettings, Depends(_live_settings)]


def wired(port: T | None, what: str) -> T:
    """A port the composition root has not wired yet answers 503, not 500."""
    if port is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{what} is not available")
    return port


def forbid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, message)


def may_act_on_agent(principal: Principal, agent_id: str) -> None:
    if principal.role in ("supervisor", "admin"):
        return
    if principal.role == "agent" and principal.agent_id == agent_id:
        return
    raise forbid("you may act only on yourself" if principal.role == "agent" else "read-only")


def may_read_agent(principal: Principal, agent_id: str) -> None:
    if principal.role == "agent" and principal.agent_id != agent_id:
        raise forbid("agents see only themselves")


def may_act_on_call(principal: Principal, hub: LiveHub, call_id: str) -> None:
    if principal.role in ("supervisor", "admin"):
        return
    if principal.role == "agent" and principal.agent_id is not None:
        if hub.stats.agent_of_call(call_id) == principal.agent_id:
            return
        raise forbid("not your call")
    raise forbid("read-only")


__all__ = ["CurrentPrincipal", "Live", "LiveConfig", "Services"]

"""Dependencies shared by the routers, declared once as named ``Annotated`` aliases, and the
authorisation rules: an agent acts only on itself and its own calls; wallboards only read.

How a request reaches the engine: ``create_app`` calls ``bind`` once, which puts one
``ApiContext`` (the settings and the ``ApiServices``) on ``app.state``; ``_context`` is the
only reader, and every other dependency derives from it. Nothing else lives on ``app.state``.
Routers stay module-level tables; a test builds its app with ``create_app`` over fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from cti.settings import ApiSettings, LiveSettings, Role, Settings
from hotline.api.auth import Principal, authenticate
from hotline.api.ports import ApiServices
from hotline.live.hub import LiveHub

T = TypeVar("T")


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    services: ApiServices


def bind(app: FastAPI, settings: Settings, services: ApiServices) -> None:
    app.state.context = ApiContext(settings, services)


def _context(connection: HTTPConnection) -> ApiContext:  # HTTP requests and WebSockets alike
    context: ApiContext = connection.app.state.context
    return context


Context = Annotated[ApiContext, Depends(_context)]


def _services(context: Context) -> ApiServices:
    return context.services


def _api_settings(context: Context) -> ApiSettings:
    return context.settings.api


def _live_settings(context: Context) -> LiveSettings:
    return context.settings.live


def wired(port: T | None, what: str) -> T:
    """A port the composition root has not wired yet answers 503, not 500."""
    if port is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{what} is not available")
    return port


def _hub(services: Annotated[ApiServices, Depends(_services)]) -> LiveHub:
    return wired(services.live, "live state")


Services = Annotated[ApiServices, Depends(_services)]
ApiConfig = Annotated[ApiSettings, Depends(_api_settings)]
LiveConfig = Annotated[LiveSettings, Depends(_live_settings)]
Live = Annotated[LiveHub, Depends(_hub)]

_bearer = HTTPBearer(auto_error=False)


def current_principal(
    settings: ApiConfig,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(settings, credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid token", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Any:
    """A dependency that admits only the given roles (403 for the others)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
        return principal

    return Depends(check)


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

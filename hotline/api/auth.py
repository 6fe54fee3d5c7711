"""Bearer-token authentication with roles. Tokens come from settings (the environment); the
request dependencies over it (``CurrentPrincipal``, ``require_roles``) are in ``deps``."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cti.settings import ApiSettings, Role


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    agent_id: str | None


def authenticate(settings: ApiSettings, token: str) -> Principal | None:
    presented = token.encode()
    found: Principal | None = None
    # Compare against every token in constant time so timing reveals nothing.
    for entry in settings.tokens:
        if hmac.compare_digest(entry.token.get_secret_value().encode(), presented):
            found = Principal(entry.name, entry.role, entry.agent_id)
    return found

"""What the HTTP API needs from the rest of the engine, as small interfaces (ports).

The composition root (``hotline.service``) implements them over the AMI client and the
database; tests implement them with plain objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PbxInfo:
    version: str
    ami_version: str
    startup: str  # wall-clock start of Asterisk, as Asterisk reports it
    last_reload: str
    uptime_s: int | None
    current_calls: int | None


class PbxPort(Protocol):
    @property
    def connected(self) -> bool: ...

    async def pbx_info(self) -> PbxInfo: ...


class DatabasePort(Protocol):
    async def ping(self) -> bool: ...


@dataclass
class ApiServices:
    pbx: PbxPort
    database: DatabasePort

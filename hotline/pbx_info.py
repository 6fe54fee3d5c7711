"""The PBX port of the HTTP API, implemented over the AMI client.

Resync hook: after every (re)connect it reads the Asterisk version and logs it, so a PBX
restart is visible in Hotline's log.
"""

from __future__ import annotations

import logging
import time

from cti.ami.client import AmiClient
from hotline.api.ports import PbxInfo

log = logging.getLogger("hotline.pbx")


class AmiPbxInfo:
    def __init__(self) -> None:
        self._ami: AmiClient | None = None
        self.version = ""

    def bind(self, ami: AmiClient) -> None:
        self._ami = ami

    @property
    def connected(self) -> bool:
        return self._ami is not None and self._ami.connected

    async def on_connect(self, ami: AmiClient) -> None:
        settings = await ami.action("CoreSettings")
        self.version = f"Asterisk {settings.get('AsteriskVersion', '?')}"
        log.info(
            "AMI connected",
            extra={"asterisk": self.version, "ami_version": settings.get("AMIversion")},
        )

    async def pbx_info(self) -> PbxInfo:
        if self._ami is None:
            raise RuntimeError("AMI client not bound")
        core_settings = await self._ami.action("CoreSettings")
        status = await self._ami.action("CoreStatus")
        startup = f"{status.get('CoreStartupDate', '')} {status.get('CoreStartupTime', '')}"
        reload = f"{status.get('CoreReloadDate', '')} {status.get('CoreReloadTime', '')}"
        return PbxInfo(
            version=f"Asterisk {core_settings.get('AsteriskVersion', '?')}",
            ami_version=core_settings.get("AMIversion") or "",
            startup=startup.strip(),
            last_reload=reload.strip(),
            uptime_s=_uptime_s(startup.strip()),
            current_calls=_int(status.get("CoreCurrentCalls")),
        )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _uptime_s(startup: str) -> int | None:
    # Asterisk reports local wall-clock start; both ends run on this host's clock.
    try:
        started = time.mktime(time.strptime(startup, "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return None
    return max(0, int(time.time() - started))

"""The real Asterisk of the integration tests: a ``test`` instance of the local PBX, on ports
of its own (AMI 15038, FastAGI target 14573) so it never collides with a developer's
``hotline pbx up`` on the defaults. The ``pbx`` fixture (conftest) starts it once per run."""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass

from cti.settings import AgiSettings, AmiSettings, Settings, load_settings
from hotline.pbx import LocalPbx

TEST_AMI_PORT = 15038
TEST_AGI_PORT = 14573


@dataclass
class PbxUnderTest:
    settings: Settings
    pbx: LocalPbx

    @property
    def ami_settings(self) -> AmiSettings:
        return self.settings.ami

    @property
    def agi_settings(self) -> AgiSettings:
        return self.settings.agi

    @property
    def agi_port(self) -> int:
        return self.settings.agi.port

    def cli(self, command: str) -> str:
        return self.pbx.cli(command)

    async def cli_until(self, command: str, pattern: str, within_s: float = 8.0) -> str:
        """Run the CLI ``command`` every 0.1 s until its output matches ``pattern``: that output."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        out = ""
        while loop.time() < deadline:
            out = await asyncio.to_thread(self.pbx.cli, command)
            if re.search(pattern, out):
                return out
            await asyncio.sleep(0.1)
        raise AssertionError(f"{pattern!r} not seen in {command!r} within {within_s}s:\n{out}")

    def restart(self) -> None:
        self.pbx.restart()


def pbx_test_settings() -> Settings:
    secret = os.environ.get("HOTLINE_TEST_AMI_SECRET", "hotline-test-secret")
    return load_settings(
        ami={
            "port": TEST_AMI_PORT,
            "secret": secret,
            "reconnect_min_s": 0.2,
            "reconnect_max_s": 2.0,
        },
        agi={"port": TEST_AGI_PORT, "idle_timeout_s": 10.0},
        pbx={"instance": "test"},
        database={"url": "sqlite+aiosqlite:///:memory:"},
    )

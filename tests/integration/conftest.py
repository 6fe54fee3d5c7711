"""The real Asterisk for integration tests: a ``test`` instance of the local PBX.

It runs on its own ports (AMI 15038, FastAGI target 14573) so it never collides with a
developer's ``hotline pbx up`` on the defaults. Provisioning is done by the project's own
script (cached); the suite fails, never skips, when the PBX cannot be started.

Also the fixtures several modules share: a scratch PostgreSQL database of each test's own
(``pg_settings``, migrated: ``pg_db``) and the web pages over the fakes for the agent desktop
(``desk_site``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from cti.settings import AgiSettings, AmiSettings, DatabaseSettings, Settings, load_settings
from hotline.pbx import LocalPbx, local_pbx
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from tests.fakes.databases import scratch_postgres
from tests.fakes.live import make_world
from tests.integration.browser import Site, browser_site

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


@pytest.fixture(scope="session")
def pbx() -> Iterator[PbxUnderTest]:
    settings = pbx_test_settings()
    instance = local_pbx(settings)
    was_running = instance.status().running
    instance.up()
    yield PbxUnderTest(settings, instance)
    if not was_running:
        instance.down()


@pytest.fixture
async def desk_site() -> AsyncIterator[Site]:
    """The web pages over the fakes, with one pause reason: for the agent desktop's tests."""
    async with browser_site(make_world(pause_reasons=["break"], publish_interval_s=0.05)) as site:
        yield site


@pytest.fixture
async def pg_settings() -> AsyncIterator[DatabaseSettings]:
    """An empty scratch PostgreSQL database of this test's own, dropped afterwards
    (``tests.fakes.databases``: the server, and why a test fails when it is down)."""
    async with scratch_postgres() as scratch:
        yield scratch


@pytest.fixture
async def pg_db(pg_settings: DatabaseSettings) -> AsyncIterator[Database]:
    """The scratch PostgreSQL database, migrated to head."""
    await upgrade_async(pg_settings)
    async with Database(pg_settings) as database:
        yield database

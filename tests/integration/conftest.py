"""The real Asterisk for integration tests: a ``test`` instance of the local PBX.

It runs on its own ports (AMI 15038, FastAGI target 14573) so it never collides with a
developer's ``hotline pbx up`` on the defaults. Provisioning is done by the project's own
script (cached); the suite fails, never skips, when the PBX cannot be started.

Also the fixtures several modules share: a scratch PostgreSQL database (``pg_settings``) and
the web pages over the fakes for the agent desktop (``desk_site``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url

from cti.settings import AgiSettings, AmiSettings, DatabaseSettings, Settings, load_settings
from hotline.pbx import LocalPbx, local_pbx
from hotline.storage import DatabaseUnavailableError, create_engine
from tests.integration.browser import Site, browser_site
from tests.live_fakes import make_world

TEST_AMI_PORT = 15038
TEST_AGI_PORT = 14573
PG_DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


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
    """A scratch PostgreSQL database for one test, dropped afterwards. The server is
    ``HOTLINE_TEST_POSTGRES_URL`` (a role that may CREATE DATABASE), else ``PG_DEFAULT_URL``;
    when it is down the test fails (not skips): CI must provide PostgreSQL."""
    admin = DatabaseSettings(url=os.environ.get("HOTLINE_TEST_POSTGRES_URL", PG_DEFAULT_URL))
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except DatabaseUnavailableError as exc:
        unreachable: DatabaseUnavailableError | None = exc
    else:
        unreachable = None
    if unreachable is not None:
        await engine.dispose()
        pytest.fail(
            f"PostgreSQL is needed by this test and is not reachable: {unreachable}\n"
            f"Start it with: {PG_START_HINT}\n"
            "or point HOTLINE_TEST_POSTGRES_URL at a server where the role may CREATE DATABASE.",
            pytrace=False,
        )
    try:
        url = make_url(admin.url).set(database=name)
        yield DatabaseSettings(url=url.render_as_string(hide_password=False))
    finally:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await engine.dispose()

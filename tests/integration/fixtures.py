"""Fixtures of the tests on real services (``tests/integration``, ``tests/abuse``), a pytest
plugin of the root conftest: ``pbx``, the real Asterisk (``tests.integration.pbx``), started
once per run. Provisioning is done by the project's own script (cached); the suite
fails, never skips, when the PBX cannot be started.

Also the fixtures several modules share: ``clean_pbx`` (no channel up, before and after), a
scratch PostgreSQL database of each test's own (``pg_settings``, migrated: ``pg_db``) and the
web pages over the fakes for the agent desktop (``desk_site``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from cti.settings import DatabaseSettings
from hotline.pbx import local_pbx
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from tests.fakes.databases import scratch_postgres
from tests.fakes.live import make_world
from tests.integration.browser import Site, browser_site
from tests.integration.pbx import PbxUnderTest, pbx_test_settings


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
async def clean_pbx(pbx: PbxUnderTest) -> AsyncIterator[PbxUnderTest]:
    """The PBX with no channel up, before and after the test."""
    await asyncio.to_thread(pbx.cli, "channel request hangup all")
    await pbx.cli_until("core show channels count", r"\b0 active channels")
    yield pbx
    await asyncio.to_thread(pbx.cli, "channel request hangup all")


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

"""Fixtures shared by the unit tests.

``db`` is a migrated database on each backend Hotline supports: every test that takes it runs
on SQLite (a file in the test's folder) and on PostgreSQL (a database of its own, copied from a
template migrated once per run, dropped afterwards), so the same SQL is checked on both.
``empty_database`` likewise, unmigrated (for migration tests). ``time``: the ACD's clock and
scheduler, moved by hand (``tests.fakes.acd.ManualTime``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from tests.fakes.acd import ManualTime
from tests.fakes.databases import drop_database, migrated_template, run_async, scratch_postgres

BACKENDS = ["sqlite", "postgresql"]


def sqlite_settings(tmp_path: Path) -> DatabaseSettings:
    return DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db")


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per run (asked for by PostgreSQL tests only)."""
    name = run_async(migrated_template())
    yield name
    run_async(drop_database(name))


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        settings = sqlite_settings(tmp_path)
        await upgrade_async(settings)
        async with Database(settings) as database:
            yield database
        return
    template = request.getfixturevalue("postgres_template")
    async with scratch_postgres(template) as settings, Database(settings) as database:
        yield database


@pytest.fixture(params=BACKENDS)
async def empty_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseSettings]:
    """Settings of an empty (unmigrated) database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_settings(tmp_path)
        return
    async with scratch_postgres() as settings:
        yield settings


@pytest.fixture
def time() -> ManualTime:
    return ManualTime()

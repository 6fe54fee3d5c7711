"""Databases for tests: throw-away PostgreSQL databases (one per test, so parallel runs never
collide), a migrated template to copy them from, an engine that cannot connect, and the
schema check against the models.

The server is the machine's: ``HOTLINE_TEST_POSTGRES_URL`` (a role that may CREATE DATABASE),
default ``POSTGRES_URL``. When it is down, the tests that need it fail (never skip): CI must
provide PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.settings import DatabaseSettings
from hotline.storage import DatabaseUnavailableError, create_engine
from hotline.storage.migrate import upgrade_async
from hotline.storage.schema import metadata

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

T = TypeVar("T")


def admin_settings() -> DatabaseSettings:
    return DatabaseSettings(url=os.environ.get("HOTLINE_TEST_POSTGRES_URL", POSTGRES_URL))


def settings_for(name: str) -> DatabaseSettings:
    url = make_url(admin_settings().url).set(database=name)
    return DatabaseSettings(url=url.render_as_string(hide_password=False))


async def _admin(*statements: str) -> None:
    engine = create_engine(admin_settings())
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await conn.exec_driver_sql(statement)
    except DatabaseUnavailableError as exc:
        pytest.fail(
            f"PostgreSQL is needed by this test and is not reachable: {exc}\n"
            f"Start it with: {START_HINT}\n"
            "or point HOTLINE_TEST_POSTGRES_URL at a server where the role may CREATE DATABASE.",
            pytrace=False,
        )
    finally:
        await engine.dispose()


async def drop_database(name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def scratch_postgres(template: str | None = None) -> AsyncIterator[DatabaseSettings]:
    """A new database, empty or a copy of ``template``; dropped afterwards."""
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template is not None else ""
    await _admin(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield settings_for(name)
    finally:
        await drop_database(name)


async def migrated_template() -> str:
    """A database migrated to head, to copy test databases from (``CREATE DATABASE … TEMPLATE``
    takes a fraction of a migration). Nothing may stay connected to it."""
    name = f"hotline_template_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    await upgrade_async(settings_for(name))
    return name


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on a loop of its own, in another thread: usable from
    synchronous fixtures whether or not this thread runs a loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def schema_diff(connection: Connection, models: MetaData = metadata) -> list[Any]:
    """What Alembic would change to make the connected database match the models."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, models))


def broken_engine(tmp_path: Path) -> AsyncEngine:
    """An engine whose every connect fails: the SQLite "file" is a directory (as root too,
    unlike chmod)."""
    directory = tmp_path / "not-a-database"
    directory.mkdir(exist_ok=True)
    return create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{directory}"))

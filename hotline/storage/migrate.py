"""Schema migrations through Alembic's Python API.

The Alembic config is built from the packaged ``alembic.ini`` and ``migrations/`` next to this
file, so it works from an installed package and from any working directory. The async
functions run Alembic inside ``AsyncConnection.run_sync`` on our own engine (same tuning and
errors as the application); the sync ones wrap them for the CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings
from hotline.storage.db import StorageError, create_engine

HERE = Path(__file__).resolve().parent
ALEMBIC_INI = HERE / "alembic.ini"
T = TypeVar("T")


def alembic_config(settings: DatabaseSettings | None = None) -> Config:
    """The Alembic config for our packaged scripts; ``settings`` reach env.py as an attribute."""
    config = Config(str(ALEMBIC_INI))
    # configparser treats % specially; a path may contain one.
    config.set_main_option("script_location", str(HERE / "migrations").replace("%", "%%"))
    if settings is not None:
        config.attributes["database_settings"] = settings
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _with_connection(settings: DatabaseSettings, work: Callable[[Connection], T]) -> T:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            result = await connection.run_sync(work)
            # Alembic commits what it began; this covers a transaction it found already open.
            await connection.commit()
            return result
    finally:
        await engine.dispose()


def _alembic(
    settings: DatabaseSettings, run: Callable[[Config], None]
) -> Callable[[Connection], None]:
    def work(connection: Connection) -> None:
        config = alembic_config(settings)
        config.attributes["connection"] = connection
        run(config)

    return work


async def upgrade_async(settings: DatabaseSettings, revision: str = "head") -> None:
    await _with_connection(settings, _alembic(settings, lambda c: command.upgrade(c, revision)))


async def downgrade_async(settings: DatabaseSettings, revision: str) -> None:
    await _with_connection(settings, _alembic(settings, lambda c: command.downgrade(c, revision)))


async def current_async(settings: DatabaseSettings) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _with_connection(settings, read)


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise StorageError("called from a running event loop: await the *_async variant instead")


def upgrade(settings: DatabaseSettings, revision: str = "head") -> None:
    """Migrate up to ``revision``. For sync callers (the CLI); raises StorageError subclasses."""
    _run_sync(upgrade_async(settings, revision))


def downgrade(settings: DatabaseSettings, revision: str) -> None:
    """Migrate down to ``revision`` (``"base"`` drops everything)."""
    _run_sync(downgrade_async(settings, revision))


def current(settings: DatabaseSettings) -> str | None:
    return _run_sync(current_async(settings))

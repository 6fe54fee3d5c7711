"""Alembic environment for hotline.

Three ways in:
- `hotline.storage.migrate` hands over an open connection in ``config.attributes["connection"]``
  (it owns the async engine and runs us inside ``AsyncConnection.run_sync``);
- the ``alembic`` command line: we build the async engine from HOTLINE_* settings ourselves;
- offline (``alembic upgrade --sql``): SQL is printed for a DBA, nothing is connected.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from cti.settings import DatabaseSettings, load_settings
from hotline.storage.db import create_engine
from hotline.storage.schema import metadata

config = context.config
target_metadata = metadata


def _settings() -> DatabaseSettings:
    given = config.attributes.get("database_settings")
    return given if isinstance(given, DatabaseSettings) else load_settings().database


def run_on(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=is_sqlite,
        # Our SQLite engine emits BEGIN itself (see db.py), so DDL there is transactional too:
        # a failed upgrade leaves the previous schema, not half of the new one.
        transactional_ddl=True if is_sqlite else None,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = create_engine(_settings())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline() -> None:
    url = _settings().url
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif isinstance(given := config.attributes.get("connection"), Connection):
    run_on(given)
else:
    asyncio.run(_run_with_own_engine())

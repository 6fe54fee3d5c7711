"""A throw-away PostgreSQL database for a benchmark run: created, yielded, dropped.

The server is the machine's (``HOTLINE_TEST_POSTGRES_URL``, default ``PG_DEFAULT``), and
its role must be allowed to CREATE DATABASE.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

from cti.settings import DatabaseSettings
from hotline.storage.db import create_engine

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def scratch_postgres() -> AsyncIterator[DatabaseSettings]:
    admin = DatabaseSettings(url=os.environ.get("HOTLINE_TEST_POSTGRES_URL", PG_DEFAULT))
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin.url).set(database=name).render_as_string(hide_password=False)
        yield DatabaseSettings(url=url)
    finally:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await engine.dispose()

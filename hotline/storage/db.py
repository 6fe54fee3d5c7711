"""Engines and sessions for SQLite (the default) and PostgreSQL.

Invariants:
- Every SQLite connection runs in WAL mode with a busy timeout and foreign keys on, and
  SQLAlchemy (not the sqlite3 driver) emits BEGIN, so DDL, SELECTs and SAVEPOINTs are really
  transactional (the driver's legacy mode autocommits DDL; see SQLAlchemy's SQLite notes).
- A failure to *open* a connection surfaces as `DatabaseUnavailableError`, whose message names
  the URL with its password masked (its ``__cause__`` keeps the driver's error for debugging).
  Errors of statements on an open connection pass unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from cti.settings import DatabaseSettings

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5_000
PG_CONNECT_TIMEOUT_S = 5.0
# A handful of connections serves one asyncio process; overflow absorbs bursts (reports, exports).
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = 10
PG_POOL_TIMEOUT_S = 10.0
PG_POOL_RECYCLE_S = 1_800

# Readable JSON (Chinese stays Chinese in the SQLite file and in psql), compact separators.
_json_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class StorageError(Exception):
    """Base of the errors raised by hotline.storage."""


class DatabaseUnavailableError(StorageError):
    """The database could not be reached or opened. The message never contains a password."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"database {url} is unavailable: {reason}")


def safe_url(url: str | URL) -> str:
    """The URL as text, password replaced by ``***``; fit for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database url>"


def _scrub(message: str, url: URL) -> str:
    # Drivers rarely echo the password, but a DSN in an error message would leak it.
    if url.password:
        message = message.replace(str(url.password), "***")
    return message


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """An async engine for ``settings.url`` with the per-backend tuning described above."""
    url = make_url(settings.url)
    shown = safe_url(url)
    common: dict[str, Any] = {
        "echo": settings.echo,
        "json_serializer": _json_dumps,
        "hide_parameters": not settings.echo,
    }
    if url.get_backend_name() == "sqlite":
        _make_parent_dir(url, shown)
        engine = _create_async_engine(url, **common)
        _tune_sqlite(engine)
    else:
        engine = _create_async_engine(
            url,
            pool_size=PG_POOL_SIZE,
            max_overflow=PG_MAX_OVERFLOW,
            pool_timeout=PG_POOL_TIMEOUT_S,
            pool_recycle=PG_POOL_RECYCLE_S,
            pool_pre_ping=True,
            connect_args={
                "timeout": PG_CONNECT_TIMEOUT_S,
                "server_settings": {"application_name": "hotline"},
            },
            **common,
        )

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any) -> Any:
        # Every way of failing to connect (refused, DNS, timeout, auth, missing database) ends
        # here as one typed error; driver errors alone would miss OSError and TimeoutError.
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            reason = _scrub(f"{type(exc).__name__}: {exc}", url)
            raise DatabaseUnavailableError(shown, reason) from exc

    return engine


def _make_parent_dir(url: URL, shown: str) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailableError(shown, f"cannot create its directory: {exc}") from exc


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # PRAGMAs first, while no transaction is open (journal_mode cannot change inside one).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without a lazy (async-unsafe) load.
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """One engine and its session factory; build once at start-up, dispose at shutdown."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.engine = create_engine(settings)
        self.sessions = session_factory(self.engine)
        self.url = safe_url(settings.url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on normal exit, rolled back on error."""
        async with self.sessions.begin() as session:
            yield session

    async def connect(self) -> None:
        """Open (and return to the pool) one connection; raises DatabaseUnavailableError."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """Readiness: True if the database answers ``SELECT 1`` within ``timeout_s``."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.connect()
        except Exception as exc:  # readiness must answer, whatever went wrong
            # Connect errors are already scrubbed; statement errors carry no credentials.
            log.warning("database %s ping failed: %r", self.url, exc)
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.dispose()

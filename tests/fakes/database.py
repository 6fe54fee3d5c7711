"""A database that is away, for tests of what the event log and its readers do then."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from cti.settings import DatabaseSettings
from hotline.storage.db import create_engine


def broken_engine(tmp_path: Path) -> AsyncEngine:
    """An engine whose every connect fails: its database "file" is a directory (which fails
    as root too, unlike a chmod)."""
    directory = tmp_path / "not-a-database"
    directory.mkdir(exist_ok=True)
    return create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{directory}"))

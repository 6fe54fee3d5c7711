"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database in the test's own folder."""
    settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    await upgrade_async(settings)
    async with Database(settings) as database:
        yield database

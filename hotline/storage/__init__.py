"""hotline.storage: SQLAlchemy engines, the event log and schema migrations.

SQLite (the default) and PostgreSQL through the same async API. Migrations live in
``hotline.storage.migrate`` (imported on demand: it pulls in Alembic).
"""

# ``schema``: every table registered on ``Base.metadata`` as soon as any storage module is
# imported (the table modules do not import each other).
from hotline.storage import schema as _schema  # noqa: F401
from hotline.storage.db import (
    Database,
    DatabaseUnavailableError,
    StorageError,
    create_engine,
    safe_url,
    session_factory,
)
from hotline.storage.event_store import EventStore, StoredEvent

__all__ = [
    "Database",
    "DatabaseUnavailableError",
    "EventStore",
    "StorageError",
    "StoredEvent",
    "create_engine",
    "safe_url",
    "session_factory",
]

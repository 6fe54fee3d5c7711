"""Every table, in one metadata: what Alembic's autogenerate and the schema checks compare
against the migrated database. Each table module maps onto ``hotline.storage.base.Base``;
importing this module registers them all (``hotline.storage`` does so on import)."""

from __future__ import annotations

from hotline.storage import agent_models, models, recording_models
from hotline.storage.base import Base

TABLE_MODULES = (models, agent_models, recording_models)
metadata = Base.metadata

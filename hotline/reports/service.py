"""The reports of this installation: queue and agent reports over its database (the HTTP API's
``Reports`` port)."""

from __future__ import annotations

from typing import Any

from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.storage.db import Database


class SqlReports:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue_report(self, req: ReportRequest) -> dict[str, Any]:
        return await queue_report(self._db, req)

    async def agent_report(self, req: ReportRequest) -> dict[str, Any]:
        return await agent_report(self._db, req)

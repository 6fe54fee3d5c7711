"""Retention: which recordings are past their product's retention, and the job that deletes
them.

``select_expired`` is pure (rows in, decisions out) so the rules are tested without files or a
database; ``purge`` executes the decisions: delete the file (in a thread), mark the row purged,
audit. Legal hold always wins; a row is kept (purged_at stays empty) when its file could not be
deleted for a reason other than being already gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from recordings.files import delete_file
from recordings.policy import PathOutsideBase, RecordingConfig, resolve_inside, retention_days
from recordings.ports import RecordingStore
from recordings.records import StoredRecording

log = logging.getLogger("recordings.retention")


@dataclass(frozen=True, slots=True)
class Expired:
    call_id: str
    path: str
    product: str | None
    started_at: datetime
    retention_days: int


def select_expired(
    config: RecordingConfig, rows: Iterable[StoredRecording], now: datetime
) -> list[Expired]:
    chosen = []
    for row in rows:
        if row.legal_hold or row.purged_at is not None:
            continue
        days = retention_days(config, row.product)
        if row.started_at + timedelta(days=days) <= now:
            chosen.append(Expired(row.call_id, row.path, row.product, row.started_at, days))
    return chosen


def shortest_retention(config: RecordingConfig) -> int:
    days = [retention_days(config, None)]
    days += [rule.retention_days for rule in config.products.values() if rule.retention_days]
    return min(days)


@dataclass
class PurgeReport:
    dry_run: bool
    selected: list[Expired]
    deleted: int = 0
    missing: int = 0  # the file was gone already; the row is marked purged anyway
    failed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "selected": len(self.selected),
            "deleted": self.deleted,
            "missing": self.missing,
            "failed": self.failed,
            "calls": [item.call_id for item in self.selected],
        }


async def purge(
    config: RecordingConfig,
    store: RecordingStore,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch: int = 10_000,
) -> PurgeReport:
    now = now or datetime.now(UTC)
    # Only rows older than the shortest retention can be due: the SQL narrows, rules decide.
    cutoff = now - timedelta(days=shortest_retention(config))
    candidates = await store.unpurged_before(cutoff, limit=batch)
    report = PurgeReport(dry_run, select_expired(config, candidates, now))
    if dry_run:
        return report
    for item in report.selected:
        try:
            path = resolve_inside(config.host_dir, item.path)
            existed = await asyncio.to_thread(delete_file, path)
        except (OSError, PathOutsideBase) as exc:
            report.failed += 1
            log.error("could not purge recording: %s", exc, extra={"call_id": item.call_id})
            continue
        if existed:
            report.deleted += 1
        else:
            report.missing += 1
        await store.mark_purged(item.call_id, now)
        reason = f"retention {item.retention_days} days ({item.product or 'unknown'})"
        await store.audit(item.call_id, "purge", "system", reason, now)
    return report

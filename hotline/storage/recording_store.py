"""The recordings store over SQL (``recordings.ports.RecordingStore``): metadata rows, the
audit trail, QA scores, in the tables of ``recording_models``.

Every method is one short transaction. Times are aware UTC datetimes (``UtcDateTime``). Rows
never leave this module: callers get ``recordings.records`` dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from hotline.storage.db import Database
from hotline.storage.recording_models import QaScore, Recording, RecordingAudit
from recordings.records import (
    AgentAverage,
    AuditEntry,
    SearchFilter,
    StoredRecording,
    StoredScore,
)


class SqlRecordingStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add_started(
        self,
        *,
        call_id: str,
        agent_id: str | None,
        queue: str | None,
        product: str,
        caller: str | None,
        path: str,
        started_at: datetime,
    ) -> None:
        async with self._db.session() as session:
            session.add(
                Recording(
                    call_id=call_id, agent_id=agent_id, queue=queue, product=product,
                    caller=caller, path=path, started_at=started_at, legal_hold=False,
                )
            )  # fmt: skip

    async def finish(
        self,
        call_id: str,
        *,
        ended_at: datetime,
        duration_s: float | None,
        size_bytes: int | None,
        sha256: str | None,
    ) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(Recording)
                .where(Recording.call_id == call_id)
                .values(
                    ended_at=ended_at, duration_s=duration_s, size_bytes=size_bytes, sha256=sha256
                )
            )

    async def audit(
        self, call_id: str, action: str, actor: str, reason: str | None, at: datetime
    ) -> None:
        async with self._db.session() as session:
            session.add(
                RecordingAudit(call_id=call_id, action=action, actor=actor, reason=reason, at=at)
            )

    async def audit_trail(self, call_id: str) -> list[AuditEntry]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(RecordingAudit)
                .where(RecordingAudit.call_id == call_id)
                .order_by(RecordingAudit.at, RecordingAudit.id)
            )
            return [_audit_entry(row) for row in rows]

    async def get(self, call_id: str) -> StoredRecording | None:
        async with self._db.session() as session:
            row = await session.scalar(select(Recording).where(Recording.call_id == call_id))
        return _recording(row) if row is not None else None

    async def search(self, where: SearchFilter) -> list[StoredRecording]:
        query = select(Recording)
        if where.since is not None:
            query = query.where(Recording.started_at >= where.since)
        if where.until is not None:
            query = query.where(Recording.started_at < where.until)
        for column, value in (
            (Recording.agent_id, where.agent_id),
            (Recording.queue, where.queue),
            (Recording.caller, where.caller),
            (Recording.call_id, where.call_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if not where.include_purged:
            query = query.where(Recording.purged_at.is_(None))
        query = query.order_by(Recording.started_at.desc(), Recording.id.desc())
        async with self._db.session() as session:
            rows = await session.scalars(query.limit(where.limit).offset(where.offset))
            return [_recording(row) for row in rows]

    async def set_legal_hold(self, call_id: str, hold: bool) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                update(Recording).where(Recording.call_id == call_id).values(legal_hold=hold)
            )
            return bool(getattr(result, "rowcount", 0))

    async def unpurged_before(self, cutoff: datetime, limit: int = 10_000) -> list[StoredRecording]:
        """Candidates for the purge: not purged, started before the oldest retention cutoff."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(Recording)
                .where(Recording.purged_at.is_(None), Recording.started_at < cutoff)
                .order_by(Recording.started_at)
                .limit(limit)
            )
            return [_recording(row) for row in rows]

    async def mark_purged(self, call_id: str, at: datetime) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(Recording)
                .where(Recording.call_id == call_id, Recording.legal_hold.is_(False))
                .values(purged_at=at)
            )

    async def add_score(
        self,
        *,
        recording: StoredRecording,
        form_id: str,
        scorer: str,
        items: dict[str, float | None],
        total: float,
        at: datetime,
    ) -> StoredScore:
        score = QaScore(
            recording_id=recording.id, call_id=recording.call_id, agent_id=recording.agent_id,
            form_id=form_id, scorer=scorer, items=items, total=total, at=at,
        )  # fmt: skip
        async with self._db.session() as session:
            session.add(score)
        return _score(score)

    async def scores_of_call(self, call_id: str) -> list[StoredScore]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(QaScore).where(QaScore.call_id == call_id).order_by(QaScore.at)
            )
            return [_score(row) for row in rows]

    async def agent_averages(
        self,
        since: datetime,
        until: datetime,
        agent_ids: Sequence[str] = (),
        form_id: str | None = None,
    ) -> list[AgentAverage]:
        """Mean total per agent over scores given in [since, until)."""
        query = (
            select(
                QaScore.agent_id,
                func.count(QaScore.id),
                func.avg(QaScore.total),
                func.min(QaScore.at),
                func.max(QaScore.at),
            )
            .where(QaScore.at >= since, QaScore.at < until, QaScore.agent_id.is_not(None))
            .group_by(QaScore.agent_id)
            .order_by(QaScore.agent_id)
        )
        if agent_ids:
            query = query.where(QaScore.agent_id.in_(agent_ids))
        if form_id is not None:
            query = query.where(QaScore.form_id == form_id)
        async with self._db.session() as session:
            rows = (await session.execute(query)).all()
        return [
            AgentAverage(str(agent), int(count), round(float(avg), 2), _aware(first), _aware(last))
            for agent, count, avg, first, last in rows
        ]


def _aware(value: datetime) -> datetime:
    # min()/max() bypass the column type on SQLite: the value comes back as naive UTC text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _recording(row: Recording) -> StoredRecording:
    return StoredRecording(
        id=row.id, call_id=row.call_id, agent_id=row.agent_id, queue=row.queue,
        product=row.product, caller=row.caller, path=row.path, started_at=row.started_at,
        ended_at=row.ended_at, duration_s=row.duration_s, size_bytes=row.size_bytes,
        sha256=row.sha256, legal_hold=row.legal_hold, purged_at=row.purged_at,
    )  # fmt: skip


def _audit_entry(row: RecordingAudit) -> AuditEntry:
    return AuditEntry(call_id=row.call_id, action=row.action, actor=row.actor,
                      reason=row.reason, at=row.at)  # fmt: skip


def _score(row: QaScore) -> StoredScore:
    return StoredScore(
        id=row.id, recording_id=row.recording_id, call_id=row.call_id, agent_id=row.agent_id,
        form_id=row.form_id, scorer=row.scorer, items=dict(row.items), total=row.total,
        at=row.at,
    )  # fmt: skip

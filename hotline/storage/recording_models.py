"""Tables of call recordings: the files' metadata, every mute/unmute and access decision
(audit), and quality scores. Migration ``0003_recordings``.

``path`` is relative to the recordings base directory, never absolute: the same row serves
Asterisk's view and the host's view of the files, and a stored path can never point outside the
base directory (``recordings.policy.resolve_inside`` checks it again on every read).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.base import Base, BigId


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(64))
    caller: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    purged_at: Mapped[datetime | None]

    # Search ranges over started_at (alone or per agent/queue); a call has one recording, found
    # by call_id; the purge job walks the unpurged ones by age.
    __table_args__ = (
        Index("ix_recordings_call_id", "call_id", unique=True),
        Index("ix_recordings_started_at", "started_at"),
        Index("ix_recordings_agent_id_started_at", "agent_id", "started_at"),
        Index("ix_recordings_queue_started_at", "queue", "started_at"),
        Index("ix_recordings_caller", "caller"),
    )


class RecordingAudit(Base):
    """Append-only: mute, unmute, mute-intent (recording not started yet), legal hold, purge,
    download. ``actor`` is ``ivr``, ``system`` or the API principal's name."""

    __tablename__ = "recording_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_recording_audit_call_id_at", "call_id", "at"),)


class QaScore(Base):
    """One scored recording: the form's items as given (``{item: value}``) and the weighted
    total on 0..100, so averages survive later edits of the form."""

    __tablename__ = "qa_scores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recording_id: Mapped[int | None] = mapped_column(BigId)
    call_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    form_id: Mapped[str] = mapped_column(String(64))
    scorer: Mapped[str] = mapped_column(String(64))
    items: Mapped[dict[str, Any]]
    total: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_qa_scores_agent_id_at", "agent_id", "at"),
        Index("ix_qa_scores_call_id", "call_id"),
    )

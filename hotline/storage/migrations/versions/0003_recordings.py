"""Recordings' metadata, their audit trail (mute/unmute, legal hold, purge, download) and
quality scores.

Revision ID: 0003_recordings
Revises: 0002_call_records
Create Date: 2025-01-03

Types are spelled out here rather than imported from models (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_recordings"
down_revision: str | None = "0002_call_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("caller", sa.String(length=64), nullable=True),
        sa.Column("path", sa.String(length=512), nullable=False),
        _ts("started_at", nullable=False),
        _ts("ended_at"),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False),
        _ts("purged_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"], unique=True)
    op.create_index("ix_recordings_started_at", "recordings", ["started_at"])
    op.create_index("ix_recordings_agent_id_started_at", "recordings", ["agent_id", "started_at"])
    op.create_index("ix_recordings_queue_started_at", "recordings", ["queue", "started_at"])
    op.create_index("ix_recordings_caller", "recordings", ["caller"])

    op.create_table(
        "recording_audit",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        _ts("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_audit")),
    )
    op.create_index("ix_recording_audit_call_id_at", "recording_audit", ["call_id", "at"])

    op.create_table(
        "qa_scores",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("recording_id", BIG_ID, nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("scorer", sa.String(length=64), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        _ts("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_scores")),
    )
    op.create_index("ix_qa_scores_agent_id_at", "qa_scores", ["agent_id", "at"])
    op.create_index("ix_qa_scores_call_id", "qa_scores", ["call_id"])


def downgrade() -> None:
    op.drop_table("qa_scores")  # drops its indexes too
    op.drop_table("recording_audit")
    op.drop_table("recordings")

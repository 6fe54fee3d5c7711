"""Call records, agent intervals, and a unique uid per event (idempotent writes).

Revision ID: 0002_call_records
Revises: 0001
Create Date: 2025-01-02

Types are spelled out here rather than imported from models (see 0001). Events stored before
this revision get ``legacy-<id>`` as their uid: unique, and never produced by the writer
(which uses uuid4 hex).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_call_records"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("events", sa.Column("uid", sa.String(length=32), nullable=True))
    op.execute("UPDATE events SET uid = 'legacy-' || CAST(id AS VARCHAR(20))")
    # SQLite cannot ALTER a column's nullability: batch mode rebuilds the table there.
    with op.batch_alter_table("events") as batch:
        batch.alter_column("uid", existing_type=sa.String(length=32), nullable=False)
    op.create_index("ix_events_uid", "events", ["uid"], unique=True)

    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("hotline", sa.String(length=64), nullable=True),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("did", sa.String(length=32), nullable=True),
        sa.Column("caller", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("vip", sa.Boolean(), nullable=True),
        sa.Column("ivr_path", JSON, nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        _ts("started_at"),
        _ts("enqueued_at"),
        _ts("answered_at"),
        _ts("left_queue_at"),
        _ts("ended_at"),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("predicted_wait_s", sa.Float(), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("hold_s", sa.Float(), nullable=True),
        sa.Column("wrap_up_s", sa.Float(), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("enter_slot", sa.Integer(), nullable=True),
        sa.Column("leave_slot", sa.Integer(), nullable=True),
        sa.Column("answer_slot", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
    )
    # Covering, in the order the reports group by (see models.Call).
    op.create_index(
        "ix_calls_report_queues",
        "calls",
        [
            *("enter_slot", "queue", "leave_slot", "answer_slot", "outcome", "wait_s"),
            *("talk_s", "hold_s", "wrap_up_s"),
        ],
    )
    crossing = sa.text("enter_slot IS NULL OR enter_slot <> leave_slot")  # models.CROSSING_CALLS
    op.create_index(
        "ix_calls_crossing",
        "calls",
        ["leave_slot", "enter_slot", "queue"],
        sqlite_where=crossing,
        postgresql_where=crossing,
    )
    op.create_index(
        "ix_calls_report_agents",
        "calls",
        ["answer_slot", "agent_id", "talk_s", "hold_s", "wrap_up_s"],
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])

    op.create_table(
        "agent_intervals",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        _ts("started_at", nullable=False),
        _ts("ended_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_intervals")),
    )
    op.create_index("ix_agent_intervals_uid", "agent_intervals", ["uid"], unique=True)
    op.create_index("ix_agent_intervals_started_at", "agent_intervals", ["started_at"])
    op.create_index(
        "ix_agent_intervals_agent_id_category_started_at",
        "agent_intervals",
        ["agent_id", "category", "started_at"],
    )


def downgrade() -> None:
    op.drop_table("agent_intervals")  # drops its indexes too
    op.drop_table("calls")
    op.drop_index("ix_events_uid", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("uid")

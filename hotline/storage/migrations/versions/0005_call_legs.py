"""Call legs: one row per visit of a call to a queue; reports read them instead of ``calls``.

Revision ID: 0005_call_legs
Revises: 0004_agents
Create Date: 2025-01-05

Types are spelled out here rather than imported from models (see 0001).

Upgrade: every stored call that queued becomes one leg (``legacy-<call id>``, the one visit
its record kept), then the report indexes and slot columns leave ``calls`` (legs carry them).
Downgrade: each call gets back the slots, wait, talk, hold and wrap-up of its last leg (what
the one-record-per-call log kept), then the legs are dropped; earlier visits are lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_call_legs"
down_revision: str | None = "0004_agents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_QUEUE_COLUMNS = [
    *("enter_slot", "queue", "leave_slot", "answer_slot", "outcome", "wait_s"),
    *("talk_s", "hold_s", "wrap_up_s"),
]  # models.REPORT_QUEUE_COLUMNS
REPORT_AGENT_COLUMNS = ["answer_slot", "agent_id", "talk_s", "hold_s", "wrap_up_s"]
SLOTS = ("enter_slot", "leave_slot", "answer_slot")
# Copied from the call's last leg on downgrade.
LAST_LEG_COLUMNS = (*SLOTS, "wait_s", "talk_s", "hold_s", "wrap_up_s")


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "call_legs",
        sa.Column("leg_id", sa.String(length=80), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("predicted_wait_s", sa.Float(), nullable=True),
        _ts("enqueued_at", nullable=False),
        _ts("answered_at"),
        _ts("left_queue_at"),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("hold_s", sa.Float(), nullable=True),
        sa.Column("wrap_up_s", sa.Float(), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("enter_slot", sa.Integer(), nullable=False),
        sa.Column("leave_slot", sa.Integer(), nullable=True),
        sa.Column("answer_slot", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("leg_id", name=op.f("pk_call_legs")),
    )
    op.execute(
        "INSERT INTO call_legs (leg_id, call_id, queue, position, predicted_wait_s, enqueued_at,"
        " answered_at, left_queue_at, wait_s, agent_id, talk_s, hold_s, wrap_up_s, disposition,"
        " outcome, enter_slot, leave_slot, answer_slot)"
        " SELECT 'legacy-' || call_id, call_id, queue, position, predicted_wait_s, enqueued_at,"
        " answered_at, left_queue_at, wait_s, agent_id, talk_s, hold_s, wrap_up_s, disposition,"
        " COALESCE(outcome, 'queued'), enter_slot, leave_slot, answer_slot"
        " FROM calls"
        " WHERE queue IS NOT NULL AND enqueued_at IS NOT NULL AND enter_slot IS NOT NULL"
    )
    # Indexes after the copy: built once rather than row by row. Covering, in the order the
    # reports group by (see models.CallLeg).
    op.create_index("ix_call_legs_report_queues", "call_legs", REPORT_QUEUE_COLUMNS)
    crossing = sa.text("enter_slot <> leave_slot")  # models.CROSSING_LEGS
    op.create_index(
        "ix_call_legs_crossing",
        "call_legs",
        ["leave_slot", "enter_slot", "queue"],
        sqlite_where=crossing,
        postgresql_where=crossing,
    )
    op.create_index("ix_call_legs_report_agents", "call_legs", REPORT_AGENT_COLUMNS)
    op.create_index("ix_call_legs_call_id_enqueued_at", "call_legs", ["call_id", "enqueued_at"])

    op.drop_index("ix_calls_report_queues", table_name="calls")
    op.drop_index("ix_calls_crossing", table_name="calls")
    op.drop_index("ix_calls_report_agents", table_name="calls")
    # SQLite cannot drop columns in place everywhere: batch mode rebuilds the table there.
    with op.batch_alter_table("calls") as batch:
        for column in SLOTS:
            batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for column in SLOTS:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
    last_leg = (
        "(SELECT l.{0} FROM call_legs l WHERE l.call_id = calls.call_id"
        " ORDER BY l.enqueued_at DESC, l.leg_id DESC LIMIT 1)"
    )
    assignments = ", ".join(f"{c} = {last_leg.format(c)}" for c in LAST_LEG_COLUMNS)
    op.execute(
        f"UPDATE calls SET {assignments}"
        " WHERE EXISTS (SELECT 1 FROM call_legs l WHERE l.call_id = calls.call_id)"
    )
    op.create_index("ix_calls_report_queues", "calls", REPORT_QUEUE_COLUMNS)
    crossing = sa.text("enter_slot IS NULL OR enter_slot <> leave_slot")
    op.create_index(
        "ix_calls_crossing",
        "calls",
        ["leave_slot", "enter_slot", "queue"],
        sqlite_where=crossing,
        postgresql_where=crossing,
    )
    op.create_index("ix_calls_report_agents", "calls", REPORT_AGENT_COLUMNS)
    op.drop_table("call_legs")  # drops its indexes too

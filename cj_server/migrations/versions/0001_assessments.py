"""Assessments, their items and comparisons, the event log, the outbox and stored anchors.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cj_assessments",
        sa.Column("assessment_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(128), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("llm_batching_mode", sa.String(32), nullable=False),
        sa.Column("batching_note", sa.Text, nullable=False, server_default=""),
        sa.Column("budget", sa.Integer, nullable=False),
        sa.Column("target_reliability", sa.Float, nullable=False),
        sa.Column("waves", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reliability", sa.Float, nullable=False, server_default="0"),
        sa.Column("error_json", sa.Text),
        sa.Column("result_json", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float),
    )
    op.create_index("ix_cj_assessments_state", "cj_assessments", ["state", "created_at"])
    op.create_table(
        "cj_items",
        sa.Column("assessment_id", sa.String(64), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("essay_id", sa.String(128), nullable=False),
        sa.Column("is_anchor", sa.Boolean, nullable=False),
        sa.Column("anchor_grade", sa.String(32), nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("assessment_id", "idx"),
    )
    op.create_table(
        "cj_comparisons",
        sa.Column("comparison_id", sa.String(96), primary_key=True),
        sa.Column("assessment_id", sa.String(64), nullable=False),
        sa.Column("first_idx", sa.Integer, nullable=False),
        sa.Column("second_idx", sa.Integer, nullable=False),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_won", sa.Boolean),
        sa.Column("confidence", sa.Float),
        sa.Column("justification", sa.Text),
        sa.Column("error_json", sa.Text),
        sa.Column("provider", sa.String(16)),
        sa.Column("model", sa.String(128)),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("deadline_at", sa.Float, nullable=False),
        sa.Column("completed_at", sa.Float),
    )
    op.create_index("ix_cj_comparisons_assessment", "cj_comparisons", ["assessment_id", "status"])
    op.create_index("ix_cj_comparisons_deadline", "cj_comparisons", ["status", "deadline_at"])
    op.create_table(
        "cj_events",
        sa.Column("assessment_id", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("final", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("assessment_id", "sequence"),
    )
    op.create_table(
        "cj_outbox",
        sa.Column("outbox_id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("assessment_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False, unique=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_cj_outbox_due", "cj_outbox", ["delivered_at", "next_attempt_at"])
    op.create_table(
        "cj_anchors",
        sa.Column("anchor_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(128), nullable=False, unique=True),
        sa.Column("grade_scale_id", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("assignment_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("display_name", sa.String(256), nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
    )

"""Batches, essays, per-essay phase outcomes and processed event ids.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "ras_batches",
        sa.Column("batch_id", sa.String(128), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("assignment_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("course_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("requested_phases", sa.Text, nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("orchestrator_phase", sa.String(64), nullable=False, server_default=""),
        sa.Column("cj_assessment", sa.String(128), nullable=False, server_default=""),
        sa.Column("cj_reliability", sa.Float, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("processing_started_at", sa.Float),
        sa.Column("processing_completed_at", sa.Float),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_ras_batches_owner", "ras_batches", ["owner", "created_at"])
    op.create_table(
        "ras_essays",
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("essay_id", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(512), nullable=False, server_default=""),
        sa.Column("assessment_json", sa.Text),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "essay_id"),
    )
    op.create_table(
        "ras_essay_phases",
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("essay_id", sa.String(128), nullable=False),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.Float),
        sa.Column("end_time", sa.Float),
        sa.Column("event_time", sa.Float, nullable=False),
        sa.Column("error_json", sa.Text),
        sa.PrimaryKeyConstraint("batch_id", "essay_id", "phase"),
    )
    op.create_table(
        "ras_events",
        sa.Column("event_id", sa.String(256), primary_key=True),
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )

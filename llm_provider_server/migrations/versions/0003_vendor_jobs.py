"""Vendor jobs: the one or more provider batch jobs behind each LPS batch job.

Revision ID: 0003_vendor_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_vendor_jobs"
down_revision = "0002_queue_indexes"


def upgrade() -> None:
    op.create_table(
        "lps_vendor_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True),
        sa.Column("first_index", sa.Integer, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("counts_json", sa.Text, nullable=False),
        sa.Column("provider_job_id", sa.String(128)),
        sa.Column("submitted_at", sa.Float),
        sa.Column("cancel_sent_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("error_json", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("lps_vendor_jobs")

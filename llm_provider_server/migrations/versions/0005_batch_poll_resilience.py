"""Batch jobs under the shared resilience rules: each job's streak of failed polls (the retry
policy's attempt count, so the backoff survives a restart and a change of poller), and each
vendor job's estimated prompt tokens (what a vendor's batch-queue limit counts).

Revision ID: 0005_batch_poll_resilience
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_batch_poll_resilience"
down_revision = "0004_retention"


def upgrade() -> None:
    with op.batch_alter_table("lps_batch_jobs") as batch:
        batch.add_column(sa.Column("poll_failures", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("lps_vendor_jobs") as batch:
        batch.add_column(sa.Column("estimated_tokens", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("lps_vendor_jobs") as batch:
        batch.drop_column("estimated_tokens")
    with op.batch_alter_table("lps_batch_jobs") as batch:
        batch.drop_column("poll_failures")

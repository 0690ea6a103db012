"""Retention: an index of acknowledged results by ack time, so the pruning round reads only
the rows it deletes (not every result kept for the retention period).

Revision ID: 0004_retention
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_retention"
down_revision = "0003_vendor_jobs"

ACKED = "acked_at IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_lps_results_acked_at",
        "lps_results",
        ["acked_at"],
        sqlite_where=sa.text(ACKED),
        postgresql_where=sa.text(ACKED),
    )


def downgrade() -> None:
    op.drop_index("ix_lps_results_acked_at", table_name="lps_results")

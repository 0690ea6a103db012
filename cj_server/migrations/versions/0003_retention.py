"""Retention: indexes for the pruning round (assessments by end time, delivered outbox rows by
delivery time), so it reads only what it deletes.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

ENDED = "ended_at IS NOT NULL"
DELIVERED = "delivered_at IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_cj_assessments_ended_at",
        "cj_assessments",
        ["ended_at"],
        sqlite_where=sa.text(ENDED),
        postgresql_where=sa.text(ENDED),
    )
    op.create_index(
        "ix_cj_outbox_delivered_at",
        "cj_outbox",
        ["delivered_at"],
        sqlite_where=sa.text(DELIVERED),
        postgresql_where=sa.text(DELIVERED),
    )


def downgrade() -> None:
    op.drop_index("ix_cj_outbox_delivered_at", table_name="cj_outbox")
    op.drop_index("ix_cj_assessments_ended_at", table_name="cj_assessments")

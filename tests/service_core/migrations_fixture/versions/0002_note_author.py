"""Add a column, so the runner is seen applying revisions in order.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("plumbing_notes") as batch:
        batch.add_column(sa.Column("author", sa.String(64), nullable=False, server_default="anonymous"))

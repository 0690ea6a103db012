"""Runtime of replicas and batched results: assessment leases, result counters, the order in
which results were applied, and whether a comparison has reached the LLM provider server.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("cj_assessments") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64)))
        batch.add_column(sa.Column("lease_expires_at", sa.Float))
        batch.add_column(sa.Column("succeeded_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("failed_count", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("cj_comparisons") as batch:
        batch.add_column(sa.Column("result_seq", sa.Integer))
        batch.add_column(sa.Column("sent", sa.Boolean, nullable=False, server_default=sa.true()))
    for column, status in (("succeeded_count", "succeeded"), ("failed_count", "failed")):
        op.execute(
            f"UPDATE cj_assessments SET {column} = (SELECT count(*) FROM cj_comparisons c"
            f" WHERE c.assessment_id = cj_assessments.assessment_id AND c.status = '{status}')"
        )
    op.create_index("ix_cj_comparisons_result_seq", "cj_comparisons", ["assessment_id", "result_seq"])
    with op.batch_alter_table("cj_outbox") as batch:
        batch.add_column(sa.Column("dead_at", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("cj_outbox") as batch:
        batch.drop_column("dead_at")
    op.drop_index("ix_cj_comparisons_result_seq", "cj_comparisons")
    with op.batch_alter_table("cj_comparisons") as batch:
        batch.drop_column("sent")
        batch.drop_column("result_seq")
    with op.batch_alter_table("cj_assessments") as batch:
        batch.drop_column("failed_count")
        batch.drop_column("succeeded_count")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")

"""Order-proof ingest: the batch's tally and joins, class and organisation, lifecycle facts,
the owner feed's sequence, winning event ids and event fingerprints.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

BATCH_COLUMNS = [
    sa.Column("class_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("org_id", sa.String(128), nullable=False, server_default=""),
    # The batch's counters (see ras_server.domain.phases.contribution); NULL = rebuild from rows.
    sa.Column("tally_json", sa.Text),
    sa.Column("first_start", sa.Float),
    sa.Column("last_end", sa.Float),
    sa.Column("ready_at", sa.Float),
    sa.Column("cancelled_at", sa.Float),
    sa.Column("cancel_event", sa.String(256), nullable=False, server_default=""),
    sa.Column("cancel_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("pipeline_completed_at", sa.Float),
    sa.Column("cj_event_time", sa.Float),
    sa.Column("cj_event_id", sa.String(256), nullable=False, server_default=""),
    sa.Column("cj_grade_scale_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("cj_model", sa.String(256), nullable=False, server_default=""),
    sa.Column("cj_essay_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("feed_seq", sa.BigInteger, nullable=False, server_default="0"),
]


def upgrade() -> None:
    for column in BATCH_COLUMNS:
        op.add_column("ras_batches", column)
    op.create_index("ix_ras_batches_feed", "ras_batches", ["owner", "feed_seq"])
    op.create_index("ix_ras_batches_class", "ras_batches", ["class_id", "created_at"])
    op.create_index("ix_ras_batches_org", "ras_batches", ["org_id", "created_at"])
    op.create_index("ix_ras_batches_state", "ras_batches", ["state"])
    op.add_column("ras_essays", sa.Column("assessment_time", sa.Float))
    op.add_column("ras_essays", sa.Column("assessment_event", sa.String(256), nullable=False, server_default=""))
    op.add_column("ras_essay_phases", sa.Column("event_id", sa.String(256), nullable=False, server_default=""))
    op.add_column("ras_essay_phases", sa.Column("authority", sa.Integer, nullable=False, server_default="1"))
    op.add_column("ras_events", sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "ras_owners",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("feed_seq", sa.BigInteger, nullable=False, server_default="0"),
    )
